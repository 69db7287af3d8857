package daemon

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The daemon's own X client keeps a connection per worker between waves
// of concurrent requests, as a burst of creates makes: with only
// http.DefaultTransport's 2 idle connections per host, every wave dialled
// (to api.x.com: a TCP and a TLS handshake) almost once per request.
func TestXTransportKeepsAConnectionPerWorker(t *testing.T) {
	const workers, waves = 10, 5
	var dials atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond) // keep the wave's requests concurrent
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dials.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	hc := &http.Client{Transport: xTransport(workers)}
	defer hc.CloseIdleConnections()
	for range waves {
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				resp, err := hc.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		wg.Wait()
	}
	// One connection per worker, give or take one returned to the pool a
	// moment after its answer was read; the default transport dials
	// about workers + (waves-1)*(workers-2) = 42.
	if n := dials.Load(); n > 2*workers {
		t.Fatalf("%d connections for %d waves of %d requests, want about %d", n, waves, workers, workers)
	}
}
