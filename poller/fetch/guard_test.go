package fetch_test

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bulletinbot/bulletinbot/poller/fetch"
)

// serveOn starts a server on the given loopback address, counting its hits.
func serveOn(t *testing.T, addr string, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	var hits atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

// TestRedirectsStayOnPublicAddresses builds hostile sources on loopback
// addresses that the test's Config.NotPublic calls public (127.0.0.2 and
// 127.0.0.3) and an internal service on 127.0.0.1 (and ::1) that it calls
// not public, as loopback, private and link-local addresses are by default.
func TestRedirectsStayOnPublicAddresses(t *testing.T) {
	internalAddrs := map[netip.Addr]bool{netip.MustParseAddr("127.0.0.1"): true, netip.IPv6Loopback(): true}
	notPublic := func(a netip.Addr) bool { return internalAddrs[a.Unmap()] }

	internal, internalHits := serveOn(t, "127.0.0.1", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "internal secrets")
	})
	_, internalPort, _ := net.SplitHostPort(internal.Listener.Addr().String())
	public, _ := serveOn(t, "127.0.0.3", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "public page") })
	hostile, _ := serveOn(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-ip":
			http.Redirect(w, r, internal.URL+"/admin", http.StatusFound)
		case "/to-name": // a name, resolved at dial time, that leads to 127.0.0.1 or ::1
			http.Redirect(w, r, "http://localhost:"+internalPort+"/admin", http.StatusFound)
		case "/to-public":
			http.Redirect(w, r, public.URL+"/page", http.StatusMovedPermanently)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		}
	})

	tests := []struct {
		name, url string
		wantErr   error // nil: fetched
		wantBody  string
	}{
		{"public source to an internal address", hostile.URL + "/to-ip", fetch.ErrNotPublic, ""},
		{"public source to a name of an internal address", hostile.URL + "/to-name", fetch.ErrNotPublic, ""},
		{"public source to a file", hostile.URL + "/to-file", fetch.ErrUnsupportedScheme, ""},
		{"public source to another public one", hostile.URL + "/to-public", nil, "public page"},
		{"internal source itself", internal.URL + "/", nil, "internal secrets"},
		{"internal source by a name", "http://localhost:" + internalPort + "/", nil, "internal secrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			internalHits.Store(0)
			f := newFetcher(t, fetch.Config{NotPublic: notPublic})
			resp, err := f.Fetch(t.Context(), fetch.Request{URL: tt.url})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %v, want %v", err, tt.wantErr)
				}
				if n := internalHits.Load(); n != 0 {
					t.Fatalf("the internal service was reached %d times", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			if string(resp.Body) != tt.wantBody {
				t.Fatalf("body %q, want %q", resp.Body, tt.wantBody)
			}
		})
	}

	// A source on an internal address may redirect within the network.
	t.Run("internal source to another internal address", func(t *testing.T) {
		mover, _ := serveOn(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, internal.URL+"/moved", http.StatusFound)
		})
		resp, err := newFetcher(t, fetch.Config{NotPublic: notPublic}).Fetch(t.Context(), fetch.Request{URL: mover.URL})
		if err != nil || string(resp.Body) != "internal secrets" {
			t.Fatalf("got %v, %v; want the internal page", resp, err)
		}
	})
	// The error names the redirect target without saying more.
	t.Run("error", func(t *testing.T) {
		_, err := newFetcher(t, fetch.Config{NotPublic: notPublic}).Fetch(t.Context(), fetch.Request{URL: hostile.URL + "/to-ip"})
		if err == nil || !strings.Contains(err.Error(), "address is not public") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestDefaultNotPublic checks the default classification through a source
// that redirects to each kind of address: none is dialed.
func TestDefaultNotPublic(t *testing.T) {
	for _, a := range []string{"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "[::1]", "[fe80::1]", "[fd00::1]", "[::ffff:127.0.0.1]", "[::]", "224.0.0.1", "255.255.255.255"} {
		t.Run(a, func(t *testing.T) {
			// The source must count as public, which no loopback server
			// does by default: its address is given as public here, and
			// everything else keeps the default.
			def := fetch.DefaultNotPublic
			src, _ := serveOn(t, "127.0.0.2", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://"+a+":9/", http.StatusFound)
			})
			f := newFetcher(t, fetch.Config{NotPublic: func(x netip.Addr) bool {
				return x != netip.MustParseAddr("127.0.0.2") && def(x)
			}})
			if _, err := f.Fetch(t.Context(), fetch.Request{URL: src.URL}); !errors.Is(err, fetch.ErrNotPublic) {
				t.Fatalf("redirect to %s: got %v, want ErrNotPublic", a, err)
			}
		})
	}
	for _, a := range []string{"8.8.8.8", "2606:4700:4700::1111", "81.2.69.160"} {
		if fetch.DefaultNotPublic(netip.MustParseAddr(a)) {
			t.Errorf("%s: got not public, want public", a)
		}
	}
}
