package collector

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// faultRig is a simulated API, a client and an Exporter whose log lines are kept.
type faultRig struct {
	sim    *sim.Server
	srv    *httptest.Server
	exp    *Exporter
	client *apiclient.Client
	log    *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func newFaultRig(t *testing.T, secret apiclient.SecretSource, mod ...func(*apiclient.Config)) *faultRig {
	t.Helper()
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 11, BYOKKeys: 25, APIKeys: 60, Quirks: true}, APIKey: testKey, APISecret: testSecret})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	cfg := apiclient.Config{
		BaseURL: u, APIKey: testKey, Secret: secret, PageSize: 10,
		Timeout: 300 * time.Millisecond, RetryBaseDelay: time.Millisecond,
	}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := apiclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	buf := &lockedBuffer{}
	e := New(c, Options{Interval: time.Minute, BYOK: true, APIKeys: true, APIKeysPerKey: true, Logger: log.NewLogfmtLogger(buf)})
	return &faultRig{sim: s, srv: srv, exp: e, client: c, log: buf}
}

// refresh runs one refresh of both collectors with the given deadline.
func (r *faultRig) refresh(within time.Duration) {
	r.exp.Refresh(context.Background(), time.Now().Add(within))
}

func (r *faultRig) keyMetrics(t *testing.T) string {
	t.Helper()
	return scrape(t, r.exp, "confluent_byok_", "confluent_iam_")
}

// health is confluent_refresh_success of a collector and its error count
// for one reason; -1 for a series not there.
func (r *faultRig) health(t *testing.T, collector string, reason apiclient.Reason) (success, errors float64) {
	t.Helper()
	mfs, err := gatherer(r.exp).Gather()
	if err != nil {
		t.Fatal(err)
	}
	success, errors = -1, -1
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, lp := range m.GetLabel() {
				labels[lp.GetName()] = lp.GetValue()
			}
			if labels["collector"] != collector {
				continue
			}
			switch {
			case mf.GetName() == "confluent_refresh_success":
				success = m.GetGauge().GetValue()
			case mf.GetName() == "confluent_refresh_errors_total" && labels["reason"] == string(reason):
				errors = m.GetCounter().GetValue()
			}
		}
	}
	return success, errors
}

// TestFaultsKeepLastCompleteData is the hostile-upstream suite: for each
// fault, on each endpoint, the exporter keeps serving the last complete data,
// marks the collector failed with the right reason, logs one clear line, and
// recovers on the next good refresh.
func TestFaultsKeepLastCompleteData(t *testing.T) {
	cases := []struct {
		name   string
		faults sim.Faults
		reason apiclient.Reason
		log    []string // what the one log line must say, besides collector and reason
	}{
		{"401", sim.Faults{Status: 401}, apiclient.ReasonUnauthorized, []string{"HTTP 401", `\"Authentication Required\"`, "request_id "}},
		{"403 missing role", sim.Faults{Status: 403}, apiclient.ReasonForbidden, []string{"HTTP 403", `\"User Access Unauthorized\"`, "request_id "}},
		{"403 invalid API key", sim.Faults{Status: 403, Detail: "Invalid API key"}, apiclient.ReasonUnauthorized, []string{"HTTP 403", "request_id "}},
		{"500 burst", sim.Faults{Status: 500}, apiclient.ReasonServerError, []string{"HTTP 500", "request_id "}},
		{"502 burst", sim.Faults{Status: 502}, apiclient.ReasonServerError, []string{"HTTP 502", "request_id "}},
		{"503 on page 2", sim.Faults{Status: 503, Page: 2}, apiclient.ReasonServerError, []string{"HTTP 503", "request_id "}},
		{"429 past the deadline", sim.Faults{Status: 429, RetryAfter: 4}, apiclient.ReasonRateLimited, []string{"rate limited"}},
		{"never answers", sim.Faults{Hang: true}, apiclient.ReasonTimeout, []string{"deadline exceeded"}},
		{"connection reset mid-body", sim.Faults{Body: "reset", Page: 2}, apiclient.ReasonNetwork, []string{"unexpected EOF"}},
		{"HTML with 200", sim.Faults{Body: "html"}, apiclient.ReasonDecode, []string{"body is HTML", "request_id "}},
		{"truncated JSON", sim.Faults{Body: "truncated", Page: 2}, apiclient.ReasonDecode, []string{"unexpected end of JSON", "request_id "}},
		{"100 MiB body", sim.Faults{Body: "huge"}, apiclient.ReasonDecode, []string{"larger than 32 MiB"}},
		{"deeply nested JSON", sim.Faults{Body: "deep"}, apiclient.ReasonDecode, []string{"exceeded max depth"}},
		{"wrong types", sim.Faults{Body: "wrong-types"}, apiclient.ReasonDecode, []string{"cannot unmarshal"}},
		{"null data", sim.Faults{Body: "null-data"}, apiclient.ReasonDecode, []string{`missing required field \"data\"`}},
		{"an error envelope with 200", sim.Faults{Body: "error-envelope"}, apiclient.ReasonDecode, []string{"instead of a list", "The list cannot be served right now"}},
		{"403 invalid API key as error.message", sim.Faults{Status: 403, Detail: "invalid API key", ErrorShape: "error-object"}, apiclient.ReasonUnauthorized, []string{"HTTP 403", "invalid API key"}},
		{"403 as plain text, gzip", sim.Faults{Status: 403, Detail: "Forbidden: no role", ErrorShape: "gzip"}, apiclient.ReasonForbidden, []string{"HTTP 403", "Forbidden: no role"}},
		{"repeated token", sim.Faults{Next: "repeat-token"}, apiclient.ReasonPagination, []string{"page token repeated"}},
		{"two-token cycle", sim.Faults{Next: "cycle"}, apiclient.ReasonPagination, []string{"page token repeated"}},
		{"next without page_token", sim.Faults{Next: "no-token"}, apiclient.ReasonPagination, []string{"no page_token"}},
	}
	for _, tc := range cases {
		for _, ep := range []struct{ endpoint, collector string }{{"byok_keys", "byok"}, {"iam_api_keys", "api_keys"}} {
			t.Run(tc.name+"/"+ep.collector, func(t *testing.T) {
				r := newFaultRig(t, apiclient.StaticSecret(testSecret), func(c *apiclient.Config) {
					if tc.faults.Body == "huge" {
						c.Timeout = 20 * time.Second // time to read 32 MiB under -race on a busy machine
					}
				})
				r.refresh(10 * time.Second)
				before := r.keyMetrics(t)
				if ok, _ := r.health(t, ep.collector, tc.reason); ok != 1 {
					t.Fatalf("first refresh failed:\n%s", r.log.String())
				}

				f := tc.faults
				f.Endpoint = ep.endpoint
				r.sim.SetFaults(f)
				r.log.Reset()
				within := 10 * time.Second // ample, even under -race on a busy machine
				switch {
				case f.Status == http.StatusTooManyRequests:
					within = 2 * time.Second // shorter than Retry-After: the refresh must give up
				case f.Body == "huge":
					within = 30 * time.Second // 32 MiB through the race detector
				}
				r.refresh(within)

				if after := r.keyMetrics(t); after != before {
					t.Fatalf("the served data changed:\n%s", diff(before, after))
				}
				success, errs := r.health(t, ep.collector, tc.reason)
				if success != 0 || errs != 1 {
					t.Fatalf("success=%v errors{reason=%s}=%v, want 0 and 1\nlog:\n%s", success, tc.reason, errs, r.log.String())
				}
				lines := strings.Split(strings.TrimSpace(r.log.String()), "\n")
				var failures, others []string
				for _, l := range lines {
					switch {
					case !strings.Contains(l, "level=warn"):
					case strings.Contains(l, "collector="+ep.collector+" "):
						failures = append(failures, l)
					default:
						others = append(others, l)
					}
				}
				// The rate limit is the organisation's: a 429 on one list
				// holds back the other too, which gives up the same way.
				wantOthers := 0
				if f.Status == http.StatusTooManyRequests {
					wantOthers = 1
				}
				if len(failures) != 1 || len(others) != wantOthers {
					t.Fatalf("%d warning lines for %s and %d for the other collector, want 1 and %d:\n%s",
						len(failures), ep.collector, len(others), wantOthers, r.log.String())
				}
				if wantOthers == 1 && !strings.Contains(others[0], "reason=rate_limited") {
					t.Fatalf("the other collector failed for another reason:\n%s", others[0])
				}
				for _, want := range append([]string{"collector=" + ep.collector, "reason=" + string(tc.reason), ep.endpoint + ":"}, tc.log...) {
					if !strings.Contains(failures[0], want) {
						t.Errorf("log line lacks %q:\n%s", want, failures[0])
					}
				}
				if strings.Contains(r.log.String(), testSecret) || strings.Contains(before, testSecret) {
					t.Fatal("the secret appears in the log or the metrics")
				}

				r.sim.SetFaults(sim.Faults{})
				r.refresh(10 * time.Second)
				if success, _ := r.health(t, ep.collector, tc.reason); success != 1 {
					t.Fatalf("no recovery on the next good refresh:\n%s", r.log.String())
				}
			})
		}
	}
}

// TestFaultsThatAreNotFailures: upstream oddities the exporter absorbs.
func TestFaultsThatAreNotFailures(t *testing.T) {
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
	} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			r := newFaultRig(t, apiclient.StaticSecret(testSecret))
			r.refresh(10 * time.Second)
			before := r.keyMetrics(t)
			r.sim.SetFaults(f)
			r.refresh(10 * time.Second)
			for _, c := range []string{"byok", "api_keys"} {
				if success, _ := r.health(t, c, apiclient.ReasonOther); success != 1 {
					t.Fatalf("%s failed:\n%s", c, r.log.String())
				}
			}
			if after := r.keyMetrics(t); after != before {
				t.Fatalf("the data changed:\n%s", diff(before, after))
			}
		})
	}
	if trapped.Load() != 0 {
		t.Fatalf("the host in metadata.next got %d requests", trapped.Load())
	}
}

func TestConnectionRefusedThenBack(t *testing.T) {
	r := newFaultRig(t, apiclient.StaticSecret(testSecret))
	r.refresh(10 * time.Second)
	before := r.keyMetrics(t)
	addr := r.srv.Listener.Addr().String()
	r.srv.Close() // nothing listens on addr now

	r.refresh(5 * time.Second)
	if success, errs := r.health(t, "byok", apiclient.ReasonNetwork); success != 0 || errs != 1 {
		t.Fatalf("success=%v errors=%v, want 0 and 1 network error\n%s", success, errs, r.log.String())
	}
	if !strings.Contains(r.log.String(), "connection refused") || r.keyMetrics(t) != before {
		t.Fatalf("log lacks the refusal or the data changed:\n%s", r.log.String())
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("cannot listen on %s again to bring the API back: %v", addr, err)
	}
	srv := &http.Server{Handler: r.sim, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	r.refresh(10 * time.Second)
	if success, _ := r.health(t, "byok", apiclient.ReasonNetwork); success != 1 {
		t.Fatalf("no recovery:\n%s", r.log.String())
	}
}

func TestSecretRotatedOnDisk(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(testSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newFaultRig(t, apiclient.SecretFile(path))
	r.refresh(10 * time.Second)

	r.sim.SetCredentials(testKey, "the-new-secret") // rotated in Confluent Cloud
	r.refresh(10 * time.Second)
	if success, errs := r.health(t, "api_keys", apiclient.ReasonUnauthorized); success != 0 || errs != 1 {
		t.Fatalf("success=%v unauthorized=%v before the new secret is on disk", success, errs)
	}
	if err := os.WriteFile(path, []byte("the-new-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.refresh(10 * time.Second)
	if success, _ := r.health(t, "api_keys", apiclient.ReasonUnauthorized); success != 1 {
		t.Fatalf("the rotated secret was not picked up:\n%s", r.log.String())
	}
	if strings.Contains(r.log.String(), "the-new-secret") || strings.Contains(r.log.String(), testSecret) {
		t.Fatal("a secret appears in the log")
	}
}

// TestRateLimitStorm runs both lists against a real fixed-window limit far
// below what they need: the refresh completes, no request comes before a 429's
// window ended, and no burst follows a reset.
func TestRateLimitStorm(t *testing.T) {
	s := sim.New(sim.Config{
		Org: sim.OrgConfig{Seed: 3, BYOKKeys: 12, APIKeys: 24}, APIKey: testKey, APISecret: testSecret,
		RateLimit: 5, RateWindow: time.Second,
	})
	// Without rate-limit headers the exporter learns of the window only from
	// 429s (with them it waits for the reset and a storm never starts).
	s.SetFaults(sim.Faults{NoRateLimitHeaders: true})
	srv := httptest.NewServer(s)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: apiclient.StaticSecret(testSecret), PageSize: 2, RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := New(c, Options{Interval: time.Minute, BYOK: true, APIKeys: true, APIKeysPerKey: true})
	e.Refresh(context.Background(), time.Now().Add(30*time.Second)) // 18 pages at 5 a second
	if !e.Ready() {
		t.Fatal("the refresh did not complete under the rate limit")
	}
	reqs := s.Requests()
	limited := 0
	for i, r := range reqs {
		if r.Status != http.StatusTooManyRequests {
			continue
		}
		limited++
		for _, next := range reqs[i+1:] {
			if next.Endpoint == r.Endpoint {
				if next.Time.Before(r.RetryAt) {
					t.Errorf("%s asked again %s before the window ended", r.Endpoint, r.RetryAt.Sub(next.Time))
				}
				break
			}
		}
	}
	// When a window resets, each list sends one request at a time: no herd.
	if n := s.MaxInFlight(); n > 2 {
		t.Errorf("%d requests at once, want at most one per list", n)
	}
	if limited == 0 {
		t.Error("no request was answered 429: the storm did not happen")
	}
	t.Logf("%d requests, %d answered 429", len(reqs), limited)
}

// TestScrapesStayFastWhileUpstreamIsSlow: a refresh waiting 5s for a page
// does not hold up scrapes, which serve the previous data meanwhile.
func TestScrapesStayFastWhileUpstreamIsSlow(t *testing.T) {
	r := newFaultRig(t, apiclient.StaticSecret(testSecret), func(c *apiclient.Config) { c.Timeout = 10 * time.Second })
	r.refresh(10 * time.Second)
	before := r.keyMetrics(t)
	r.sim.SetFaults(sim.Faults{LatencyMS: 5000})
	done := make(chan struct{})
	go func() { r.refresh(20 * time.Second); close(done) }()

	n := 0
	for tick := time.NewTicker(time.Second); ; <-tick.C {
		select {
		case <-done:
			tick.Stop()
			if n < 3 {
				t.Fatalf("only %d scrapes while the refresh ran", n)
			}
			return
		default:
		}
		if got := r.keyMetrics(t); got != before {
			t.Fatal("a scrape during the refresh did not serve the previous data")
		}
		n++
	}
}

// TestBodyCapBoundsMemory: a 100 MiB body is read only up to the 32 MiB cap;
// the connection is dropped and the rest never sent.
func TestBodyCapBoundsMemory(t *testing.T) {
	var written atomic.Int64
	chunk := bytes.Repeat([]byte(`{"id":"cck-00000","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}},`), 1<<10)
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
	u, _ := url.Parse(srv.URL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: apiclient.StaticSecret(testSecret), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ListBYOKKeys(context.Background(), nil)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if apiclient.ReasonOf(err) != apiclient.ReasonDecode || !strings.Contains(err.Error(), "larger than 32 MiB") {
		t.Fatalf("got %v, want a decode error for the size", err)
	}
	srv.CloseClientConnections()
	if w := written.Load(); w >= 100<<20 {
		t.Fatalf("the server sent all %d MiB: the client read past the cap", w>>20)
	}
	t.Logf("server wrote %d MiB before the client hung up; heap in use after: %d MiB", written.Load()>>20, after.HeapInuse>>20)
}

// TestOddItemsAreCountedAndLoggedOnce: a page of odd items (no id, nulls,
// wrong types, unreadable times) does not fail the refresh; what was left
// out is counted in the health gauges and logged once per kind, with a
// count and an example.
func TestOddItemsAreCountedAndLoggedOnce(t *testing.T) {
	r := newFaultRig(t, apiclient.StaticSecret(testSecret))
	r.sim.SetFaults(sim.Faults{Body: "odd-items", Page: 1})
	r.refresh(10 * time.Second)
	for _, c := range []string{"byok", "api_keys"} {
		if success, _ := r.health(t, c, apiclient.ReasonDecode); success != 1 {
			t.Fatalf("odd items failed %s:\n%s", c, r.log.String())
		}
	}
	got := scrape(t, r.exp, "confluent_refresh_skipped_items", "confluent_refresh_invalid_values")
	got = strings.Join(strings.Fields(got), " ") // protobuf's text spacing varies
	for _, want := range []string{
		`confluent_refresh_skipped_items label:{name:"collector" value:"byok"} label:{name:"reason" value:"no_id"} gauge:{value:3}`,
		`confluent_refresh_skipped_items label:{name:"collector" value:"api_keys"} label:{name:"reason" value:"no_id"} gauge:{value:2}`,
		`confluent_refresh_invalid_values label:{name:"collector" value:"byok"} label:{name:"field" value:"provider"} gauge:{value:2}`,
		`confluent_refresh_invalid_values label:{name:"collector" value:"api_keys"} label:{name:"field" value:"spec.expires_at"} gauge:{value:1}`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %s in:\n%s", want, got)
		}
	}
	if !strings.Contains(got, `value:"no_owner"} gauge:{value:1}`) {
		t.Errorf("no_owner: want the odd one:\n%s", got)
	}
	log := r.log.String()
	for _, want := range []string{
		`level=warn msg="Skipped list items" collector=byok reason=no_id count=3 example="page 1 item 11"`,
		`level=warn msg="Left out values that could not be read" collector=byok field=provider count=2 example_id=cck-odd01`,
		`level=warn msg="Left out values that could not be read" collector=api_keys field=metadata.created_at count=1 example_id=ODDTIMES`,
	} {
		if strings.Count(log, want) != 1 {
			t.Errorf("want the line once:\n%s\nlog:\n%s", want, log)
		}
	}
	if strings.Contains(log, "level=warn msg=\"Skipped list items\" collector=api_keys reason=no_owner") {
		t.Errorf("Confluent-internal keys are expected: debug, not warn:\n%s", log)
	}

	// The next complete refresh without odd items sets the gauges back.
	r.sim.SetFaults(sim.Faults{})
	r.refresh(10 * time.Second)
	if got := scrape(t, r.exp, "confluent_refresh_invalid_values"); got != "" {
		t.Errorf("invalid values of an older refresh still served:\n%s", got)
	}
}

// TestFirstFailureSaysNothingIsServed: before any complete refresh, a
// failure does not claim to serve previous data.
func TestFirstFailureSaysNothingIsServed(t *testing.T) {
	r := newFaultRig(t, apiclient.StaticSecret(testSecret))
	r.sim.SetFaults(sim.Faults{Status: 401})
	r.refresh(10 * time.Second)
	log := r.log.String()
	if strings.Contains(log, "previous complete data") || strings.Count(log, "nothing is served for this collector until a refresh completes") != 2 {
		t.Fatalf("want each collector's first failure to say nothing is served yet:\n%s", log)
	}
}
