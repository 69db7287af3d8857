package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/psnd/psnd/internal/api"
)

// TestStatusNamesSpelledOnce: the client side names post statuses only
// through the api constants (issue 11 item 4). It flags a status spelled as
// a string literal where it is used as a status: compared (== or !=), a
// switch case, an element of a []string, or an argument to a call — but
// not a command, flag or section named like one ("retry", "--draft").
func TestStatusNamesSpelledOnce(t *testing.T) {
	names := append(slices.Clone(api.Statuses), api.SubStatuses...)
	isStatus := func(e ast.Expr) bool {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return false
		}
		s, err := strconv.Unquote(lit.Value)
		return err == nil && slices.Contains(names, s)
	}
	// Calls whose arguments name commands and flags, not statuses.
	namesOther := []string{"newChangeCmd", "BoolVar", "StringVar", "Bool", "String", "Flags"}
	fset := token.NewFileSet()
	for _, dir := range []string{".", "../api", "../apiclient"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			report := func(e ast.Expr, how string) {
				t.Errorf("%s: status %s spelled as a literal (%s); use the api.Status… constant", fset.Position(e.Pos()), e.(*ast.BasicLit).Value, how)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BinaryExpr:
					if n.Op == token.EQL || n.Op == token.NEQ {
						for _, e := range []ast.Expr{n.X, n.Y} {
							if isStatus(e) {
								report(e, "compared")
							}
						}
					}
				case *ast.CaseClause:
					for _, e := range n.List {
						if isStatus(e) {
							report(e, "switch case")
						}
					}
				case *ast.CompositeLit:
					if at, ok := n.Type.(*ast.ArrayType); ok {
						if id, ok := at.Elt.(*ast.Ident); ok && id.Name == "string" {
							for _, e := range n.Elts {
								if isStatus(e) {
									report(e, "in a []string")
								}
							}
						}
					}
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.Ident:
						name = fn.Name
					case *ast.SelectorExpr:
						name = fn.Sel.Name
					}
					if slices.Contains(namesOther, name) {
						return true
					}
					for _, e := range n.Args {
						if isStatus(e) {
							report(e, "argument to "+name)
						}
					}
				}
				return true
			})
		}
	}
}
