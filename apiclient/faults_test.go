package apiclient

// The hostile-upstream suite: what the client makes of each fault the
// simulator can produce, once each. The collector's tests take the typed
// errors from here as given (collector/rules_test.go).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// TestFaultReasonsAndWords: each fault fails the list with the right reason,
// and the error (the exporter's log line) says what happened: the endpoint,
// the HTTP status, the API's words, the request id where there was one.
func TestFaultReasonsAndWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		faults sim.Faults
		reason Reason
		words  []string
	}{
		{"401", sim.Faults{Status: 401}, ReasonUnauthorized, []string{"HTTP 401", `"Authentication Required"`, "request_id "}},
		{"403 missing role", sim.Faults{Status: 403}, ReasonForbidden, []string{"HTTP 403", `"User Access Unauthorized"`, "OrganizationAdmin", "request_id "}},
		{"403 invalid API key", sim.Faults{Status: 403, Detail: "Invalid API key"}, ReasonUnauthorized, []string{"HTTP 403", "Invalid API key"}},
		{"500 burst", sim.Faults{Status: 500}, ReasonServerError, []string{"HTTP 500", "request_id "}},
		{"503 on page 2", sim.Faults{Status: 503, Page: 2}, ReasonServerError, []string{"HTTP 503", "request_id "}},
		{"429 past the deadline", sim.Faults{Status: 429, RetryAfter: 30}, ReasonRateLimited, []string{"rate limited", "past the refresh deadline"}},
		{"never answers", sim.Faults{Hang: true}, ReasonTimeout, []string{"deadline exceeded"}},
		{"connection reset mid-body", sim.Faults{Body: "reset", Page: 2}, ReasonNetwork, []string{"unexpected EOF"}},
		{"HTML with 200", sim.Faults{Body: "html"}, ReasonDecode, []string{"body is HTML", "request_id "}},
		{"truncated JSON", sim.Faults{Body: "truncated", Page: 2}, ReasonDecode, []string{"unexpected end of JSON", "request_id "}},
		{"100 MiB body", sim.Faults{Body: "huge"}, ReasonDecode, []string{"larger than 4 MiB"}},
		{"deeply nested JSON", sim.Faults{Body: "deep"}, ReasonDecode, []string{"exceeded max depth"}},
		{"envelope of wrong types", sim.Faults{Body: "wrong-types"}, ReasonDecode, []string{"data is a JSON object, not an array"}},
		{"no data field", sim.Faults{Body: "no-data", Page: 2}, ReasonDecode, []string{`missing required field "data"`}},
		{"an error envelope with 200", sim.Faults{Body: "error-envelope"}, ReasonDecode, []string{"instead of a list", "The list cannot be served right now"}},
		{"repeated token", sim.Faults{Next: "repeat-token"}, ReasonPagination, []string{"page token repeated"}},
		{"two-token cycle", sim.Faults{Next: "cycle"}, ReasonPagination, []string{"page token repeated"}},
		{"next without page_token", sim.Faults{Next: "no-token"}, ReasonPagination, []string{"no page_token"}},
	} {
		for _, endpoint := range []string{EndpointBYOKKeys, EndpointIAMAPIKeys} {
			t.Run(tc.name+"/"+endpoint, func(t *testing.T) {
				s, ts := newSim(t, sim.OrgConfig{Seed: 11, BYOKKeys: 25, APIKeys: 25})
				f := tc.faults
				f.Endpoint = endpoint
				s.SetFaults(f)
				c := newClient(t, ts.URL, func(c *Config) {
					c.PageSize = 10
					c.Timeout = 5 * time.Second
					if f.Hang {
						c.Timeout = 100 * time.Millisecond // each of the 1+3 tries times out
					}
					if f.Body == "huge" {
						c.Timeout = 30 * time.Second // 4 MiB through the race detector
					}
				})
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				list := map[string]func() error{
					EndpointBYOKKeys:   func() error { _, _, err := c.ListBYOKKeys(ctx); return err },
					EndpointIAMAPIKeys: func() error { _, _, err := c.ListAPIKeys(ctx); return err },
				}
				err := list[endpoint]()
				if got := ReasonOf(err); got != tc.reason {
					t.Fatalf("reason %q, want %q (%v)", got, tc.reason, err)
				}
				for _, w := range append([]string{endpoint + ":"}, tc.words...) {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error lacks %q: %v", w, err)
					}
				}
				checkNoSecret(t, err)
			})
		}
	}
}

// TestFaultsThatAreNotFailures: upstream oddities the client absorbs; the
// list comes back whole, as without them.
func TestFaultsThatAreNotFailures(t *testing.T) {
	t.Parallel()
	var trapped atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { trapped.Add(1) }))
	defer trap.Close()
	for _, f := range []sim.Faults{
		{Status: 503, Count: 2},                          // a burst shorter than the retries
		{Status: 429, RetryAfter: 1, Count: 1},           // one 429, honoured
		{Overlap: true},                                  // the list shifts while it is read
		{Next: trap.URL},                                 // next names another host
		{Next: "ftp://" + trap.Listener.Addr().String()}, // or another scheme
		{NoRateLimitHeaders: true},
		{Body: "null-last-page"}, // Confluent's CLI test server: a last page of {"data":null}
		{Next: "long-token"},     // over the 255 characters the request parameter is documented to take
		{Redirect: "307"},        // followed to the same host, with the credentials
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			s, ts := newSim(t, sim.OrgConfig{Seed: 11, BYOKKeys: 25, APIKeys: 25, Quirks: true})
			c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 10 })
			want, _, err := c.ListAPIKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			s.SetFaults(f)
			got, _, err := c.ListAPIKeys(context.Background())
			if err != nil {
				t.Fatalf("failed: %v", err)
			}
			if len(got) != len(want) || len(got) == 0 {
				t.Fatalf("got %d keys, want the %d of the list without the fault", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("key %d: %+v, want %+v", i, got[i], want[i])
				}
			}
		})
	}
	if trapped.Load() != 0 {
		t.Fatalf("the host in metadata.next got %d requests", trapped.Load())
	}
}

// TestNullDataIsAnEmptyPage: "data": null is a page with no items (as
// Confluent's SDK reads it); the list goes on when metadata.next says so.
func TestNullDataIsAnEmptyPage(t *testing.T) {
	t.Parallel()
	s, ts := newSim(t, sim.OrgConfig{Seed: 11, BYOKKeys: 25, APIKeys: 25})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 10 })
	whole, _, err := c.ListBYOKKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	s.SetFaults(sim.Faults{Body: "null-data", Page: 2})
	got, stats, err := c.ListBYOKKeys(context.Background())
	if err != nil {
		t.Fatalf("a page of null data failed the list: %v", err)
	}
	if stats.Pages != 3 || len(got) != len(whole)-10 {
		t.Fatalf("%d pages, %d keys; want 3 pages and the %d keys of pages 1 and 3", stats.Pages, len(got), len(whole)-10)
	}
	if got[9].ID != whole[9].ID || got[10].ID != whole[20].ID {
		t.Fatalf("the keys of page 3 did not follow those of page 1")
	}
}

// TestEmptyListsAsNull: with Quirks, the simulator writes every other empty
// page as "data": null, as a Go service writes a nil slice; an organisation
// without BYOK keys reads as one, refresh after refresh.
func TestEmptyListsAsNull(t *testing.T) {
	t.Parallel()
	s, ts := newSim(t, sim.OrgConfig{Seed: 11, BYOKKeys: 0, APIKeys: 5, Quirks: true})
	c := newClient(t, ts.URL)
	for range 4 {
		keys, stats, err := c.ListBYOKKeys(context.Background())
		if err != nil || len(keys) != 0 || stats.Pages != 1 {
			t.Fatalf("%d keys, %d pages, %v; want an empty list of one page", len(keys), stats.Pages, err)
		}
	}
	nulls := 0
	for _, r := range s.Requests() {
		if r.NullData {
			nulls++
		}
	}
	if nulls == 0 || nulls == 4 {
		t.Fatalf("%d of 4 empty pages had null data; want some, not all", nulls)
	}
}

// TestConnectionRefusedThenBack: nothing listening is a network failure,
// after the retries; the same client lists again once the API is back.
func TestConnectionRefusedThenBack(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, APIKeys: 5})
	addr := ts.Listener.Addr().String()
	c := newClient(t, ts.URL)
	ts.Close() // nothing listens on addr now
	_, _, err := c.ListAPIKeys(context.Background())
	if ReasonOf(err) != ReasonNetwork || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("reason %q (%v), want network, connection refused", ReasonOf(err), err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("cannot listen on %s again to bring the API back: %v", addr, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	if keys, _, err := c.ListAPIKeys(context.Background()); err != nil || len(keys) != 5 {
		t.Fatalf("after the API came back: %d keys, %v", len(keys), err)
	}
}

// TestBodyCapBoundsMemory: a 100 MiB body is read only up to the 4 MiB cap:
// the connection is dropped, the rest never sent, and the client allocates
// about the cap, in chunks (a buffer grown by doubling would take twice).
func TestBodyCapBoundsMemory(t *testing.T) {
	var written atomic.Int64
	chunk := []byte(strings.Repeat(`{"id":"cck-00000","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}},`, 1<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"data":[`))
		for written.Load() < 100<<20 {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, func(c *Config) { c.MaxRetries = -1; c.Timeout = time.Minute })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, _, err := c.ListBYOKKeys(context.Background())
	runtime.ReadMemStats(&after)
	var de *DecodeError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Fatalf("got %v, want a decode error for the size", err)
	}
	srv.CloseClientConnections()
	if w := written.Load(); w >= 100<<20 {
		t.Fatalf("the server sent all %d MiB: the client read past the cap", w>>20)
	}
	// What is allocated is mostly the body's chunks, 4 MiB, and the
	// transport's buffers (more under the race detector); a buffer grown by
	// doubling would take 8 MiB, reading the whole body over 200 MiB.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 7<<20 {
		t.Fatalf("%d MiB allocated to read a body capped at 4 MiB", alloc>>20)
	}
}
