package fakex

import (
	"encoding/json"
	"net/http"
)

const (
	problemInvalidRequest = "https://api.twitter.com/2/problems/invalid-request"
	problemNotFound       = "https://api.twitter.com/2/problems/resource-not-found"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own values always marshal
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeProblem answers with X's problem+json shape.
func writeProblem(w http.ResponseWriter, status int, title, detail, typ string) {
	b, _ := json.Marshal(map[string]any{"title": title, "detail": detail, "type": typ, "status": status})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// invalidRequest answers 400 with X's invalid-request problem: a generic
// detail and the specifics in errors[].
func invalidRequest(w http.ResponseWriter, params map[string][]string, msgs ...string) {
	var errs []map[string]any
	for _, m := range msgs {
		e := map[string]any{"message": m}
		if params != nil {
			e["parameters"] = params
		}
		errs = append(errs, e)
	}
	b, _ := json.Marshal(map[string]any{
		"errors": errs,
		"title":  "Invalid Request",
		"detail": "One or more parameters to your request was invalid.",
		"type":   problemInvalidRequest,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}

// oauthError answers the token endpoints' JSON error shape.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}
