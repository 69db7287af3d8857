// Package xspec checks requests to the fake X against X's own OpenAPI
// document (shared/x-api/openapi.json), with kin-openapi. It is imported
// only by tests: the sandbox runs the fake without it, so the production
// binary does not link kin-openapi.
//
// The document needs a few adjustments to be usable (see the X platform
// facts, §11): example validation off, a lenient compiler for one pattern Go
// cannot compile, servers replaced by "/" so loopback hosts route, our own
// multipart decoding for media uploads, and a check kin-openapi lacks:
// query parameters the operation does not declare are refused, as X does.
package xspec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/psnd/psnd/internal/fakex"
	"github.com/psnd/psnd/internal/testutil"
)

// Validator implements fakex.Validator and fakex.ResponseValidator for X's
// OpenAPI document. It is safe for concurrent use.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	_ fakex.Validator         = (*Validator)(nil)
	_ fakex.ResponseValidator = (*Validator)(nil)
)

// lenientRegex compiles patterns with Go's regexp; a pattern Go cannot
// compile (a look-ahead in the Community Notes schema) matches everything
// rather than failing the whole document.
func lenientRegex(expr string) (openapi3.RegexMatcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return matchAll{}, nil
	}
	return re, nil
}

type matchAll struct{}

func (matchAll) MatchString(string) bool { return true }

// Load reads and prepares the OpenAPI document at path.
func Load(path string) (*Validator, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	doc.Servers = openapi3.Servers{{URL: "/"}}
	// Response schemas that require a property they never define (X's
	// own examples omit it): drop the requirement.
	for name, prop := range map[string]string{
		"MediaUploadResponse":       "meta",
		"MediaUploadAppendResponse": "meta",
		"ProcessingInfo":            "type",
		"Note":                      "note_info",
	} {
		if s := doc.Components.Schemas[name]; s != nil && s.Value != nil {
			s.Value.Required = slices.DeleteFunc(s.Value.Required, func(r string) bool { return r == prop })
		}
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation(),
		openapi3.SetRegexCompiler(lenientRegex)); err != nil {
		return nil, fmt.Errorf("validate %s: %w", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("route %s: %w", path, err)
	}
	return &Validator{doc: doc, router: router}, nil
}

func (v *Validator) options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:                        true,
		SkipSettingDefaults:               true,
		RejectWhenRequestBodyNotSpecified: true,
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		RegexCompiler:                     lenientRegex,
	}
}

// route finds the operation for a request, on a copy carrying body.
func (v *Validator) route(r *http.Request, body []byte) (*http.Request, *routers.Route, map[string]string, error) {
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	// The router matches on path only (servers is "/"), but wants an
	// absolute-looking URL with no host constraint.
	u := *r.URL
	u.Scheme, u.Host = "", ""
	req.URL = &u
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("no operation in X's OpenAPI document for %s %s: %v", r.Method, r.URL.Path, err)
	}
	return req, route, params, nil
}

// ValidateRequest checks one request: the operation exists, path and
// query parameters match their schemas and no undeclared query parameter
// is present, the body matches the declared content type and schema.
func (v *Validator) ValidateRequest(r *http.Request, body []byte) error {
	req, route, params, err := v.route(r, body)
	if err != nil {
		return err
	}
	declared := map[string]bool{}
	for _, ps := range []openapi3.Parameters{route.PathItem.Parameters, route.Operation.Parameters} {
		for _, p := range ps {
			if p.Value != nil && p.Value.In == openapi3.ParameterInQuery {
				declared[p.Value.Name] = true
			}
		}
	}
	for k := range req.URL.Query() {
		if !declared[k] {
			return fmt.Errorf("query parameter %q is not declared by %s", k, route.Operation.OperationID)
		}
	}
	opts := v.options()
	multipartBody := false
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil {
		mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
		if mt == "multipart/form-data" && rb.Value.Content.Get(mt) != nil {
			multipartBody = true
			opts.ExcludeRequestBody = true
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
		return err
	}
	if multipartBody {
		return validateMultipart(route.Operation.RequestBody.Value, req, body)
	}
	return nil
}

// validateMultipart decodes a multipart body the way X reads it (file
// parts are raw bytes whatever their content type; text fields are
// coerced to the property's declared type) and checks it against the
// operation's schema. kin-openapi's own multipart decoder rejects file
// parts with real content types and cannot handle the append body's
// top-level anyOf.
func validateMultipart(rb *openapi3.RequestBody, req *http.Request, body []byte) error {
	mtype := rb.Content.Get("multipart/form-data")
	if mtype == nil || mtype.Schema == nil || mtype.Schema.Value == nil {
		return errors.New("multipart/form-data not declared")
	}
	schema := mtype.Schema.Value
	_, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return fmt.Errorf("multipart body without boundary")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	obj := map[string]any{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("multipart body: %v", err)
		}
		name := p.FormName()
		if name == "" {
			return errors.New("multipart part without a form name")
		}
		if _, dup := obj[name]; dup {
			return fmt.Errorf("multipart field %q repeated", name)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return fmt.Errorf("multipart body: %v", err)
		}
		obj[name] = coerce(schema.Properties[name], string(b))
	}
	if err := schema.VisitJSON(obj, openapi3.MultiErrors(), openapi3.VisitAsRequest(),
		openapi3.SetSchemaRegexCompiler(lenientRegex)); err != nil {
		return fmt.Errorf("multipart body: %w", err)
	}
	return nil
}

// coerce turns a form value into the JSON type its property declares.
func coerce(ref *openapi3.SchemaRef, s string) any {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil {
		return s
	}
	switch {
	case ref.Value.Type.Is("boolean"):
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case ref.Value.Type.Is("integer"), ref.Value.Type.Is("number"):
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return n
		}
	case ref.Value.Type.Is("array"):
		return []any{coerce(ref.Value.Items, s)}
	}
	return s
}

// ValidateResponse checks one of the fake's answers against the
// operation's declared responses, so the fake keeps speaking like X.
func (v *Validator) ValidateResponse(r *http.Request, status int, header http.Header, body []byte) error {
	req, route, params, err := v.route(r, nil)
	if err != nil {
		return nil // the request was already reported
	}
	opts := v.options()
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 header,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(req.Context(), in)
}

var (
	sharedMu  sync.Mutex
	sharedVal = map[string]*Validator{}
)

// Shared returns the validator for shared/x-api/openapi.json, loaded once
// per test binary. It skips the test where the reference data is absent
// (failing instead under PSN_REQUIRE_SHARED=1).
func Shared(t testing.TB) *Validator {
	t.Helper()
	path := testutil.SharedFile(t, "x-api/openapi.json")
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if v := sharedVal[path]; v != nil {
		return v
	}
	v, err := Load(path)
	if err != nil {
		t.Fatalf("xspec: %v", err)
	}
	sharedVal[path] = v
	return v
}

// NewServer returns a fake X validating against X's OpenAPI document that
// fails the test at cleanup if any request violated it. Use its Transport
// for in-process tests.
func NewServer(t testing.TB, opts fakex.Options) *fakex.Server {
	t.Helper()
	if opts.Validator == nil {
		opts.Validator = Shared(t)
	}
	srv := fakex.New(opts)
	t.Cleanup(func() {
		for _, err := range srv.Violations() {
			t.Errorf("request to fake X violates X's API contract: %v", err)
		}
	})
	return srv
}

// NewTestServer is NewServer behind a loopback httptest server.
func NewTestServer(t testing.TB, opts fakex.Options) (*fakex.Server, *httptest.Server) {
	t.Helper()
	srv := NewServer(t, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close) // runs before the violation check registered above
	return srv, ts
}

// NewServerIfSpec is NewServer when X's OpenAPI document is present, and an
// unvalidated fake X otherwise (a plain clone has no ../shared), so tests
// of psnd's own behaviour still run there. Under PSN_REQUIRE_SHARED=1 a
// missing document fails the test instead.
func NewServerIfSpec(t testing.TB, opts fakex.Options) *fakex.Server {
	t.Helper()
	if _, ok := testutil.LookupShared(t, "x-api/openapi.json"); ok {
		return NewServer(t, opts)
	}
	t.Log("../shared/x-api/openapi.json absent: the fake X runs without request validation")
	return fakex.New(opts)
}

// NewTestServerIfSpec is NewServerIfSpec behind a loopback httptest server.
func NewTestServerIfSpec(t testing.TB, opts fakex.Options) (*fakex.Server, *httptest.Server) {
	t.Helper()
	srv := NewServerIfSpec(t, opts)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return srv, ts
}
