package fakex_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/psnd/psnd/internal/fakex"
)

// The sandbox wiring: an in-process X behind an ordinary http.Client.
func ExampleServer_Transport() {
	srv := fakex.New(fakex.Options{})
	srv.AddUser(fakex.User{ID: "1000", Username: "sandbox", Name: "Sandbox"})
	srv.AddClient("psnd-sandbox", "", "http://127.0.0.1:18923/callback")
	access, _, _, _ := srv.IssueToken("1000")

	hc := &http.Client{Transport: srv.Transport()}
	req, _ := http.NewRequest("POST", "https://api.x.com/2/tweets", strings.NewReader(`{"text":"hello, sandbox"}`))
	req.Header.Set("Authorization", "Bearer "+access)
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	fmt.Println(resp.StatusCode, srv.Tweets()[0].Text)
	// Output: 201 hello, sandbox
}
