// Command xdg-open is a browser stand-in for psnd's end-to-end login test:
// put first on PATH, it is what pkg/browser runs. It GETs the URL it is
// given and follows the redirects — X's consent page, then psnd's loopback
// callback — like a browser whose user clicks "Authorize app".
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: xdg-open URL")
		os.Exit(2)
	}
	status, err := visit(os.Args[1])
	if p := os.Getenv("PSND_TEST_BROWSER_LOG"); p != "" {
		if f, ferr := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); ferr == nil {
			fmt.Fprintf(f, "visited: status %d, err %v\n", status, err)
			f.Close()
		}
	}
	if err != nil {
		os.Exit(1)
	}
}

func visit(u string) (int, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}
