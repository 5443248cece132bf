package collector

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/go-kit/log"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// runRefresher starts a Refresher of opts against the API at srvURL until
// the test ends.
func runRefresher(t *testing.T, srvURL string, opts Options) (*Refresher, *testkit.Buffer) {
	t.Helper()
	u, _ := url.Parse(srvURL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret), PageSize: 100, RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	buf := &testkit.Buffer{}
	opts.Organization, opts.Logger = "acme", log.NewLogfmtLogger(buf)
	e := newRefresher(c, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, buf
}

// attempts are the times of the requests for endpoint's first page.
func attempts(s *sim.Server, endpoint string) []time.Time {
	var ts []time.Time
	for _, r := range s.Requests() {
		if r.Endpoint == endpoint {
			ts = append(ts, r.Time)
		}
	}
	return ts
}

// TestAFailedRefreshRetriesSoon: after a failure the next attempt comes
// after the retry delay, doubling with each failure in a row up to the
// interval, not at the next interval; the failure's log line says when.
func TestAFailedRefreshRetriesSoon(t *testing.T) {
	for _, tc := range []struct {
		name            string
		interval, delay time.Duration
		failures        int
		want            []time.Duration // the waits between attempts
	}{
		{"doubling", time.Hour, 100 * time.Millisecond, 3, []time.Duration{100, 200, 400}},
		{"up to the interval", 300 * time.Millisecond, 100 * time.Millisecond, 4, []time.Duration{100, 200, 300, 300}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, srv := newSimAPI(t, sim.OrgConfig{Seed: 2, BYOKKeys: 3, APIKeys: 3})
			s.SetFaults(sim.Faults{Endpoint: "byok_keys", Status: http.StatusUnauthorized, Count: tc.failures})
			e, buf := runRefresher(t, srv.URL, Options{Interval: tc.interval, RetryDelay: tc.delay, Collectors: []string{"byok"}})
			waitFor(t, "the exporter is ready", e.Ready)
			at := attempts(s, "byok_keys")
			if len(at) < tc.failures+1 {
				t.Fatalf("%d attempts, want %d", len(at), tc.failures+1)
			}
			for i, w := range tc.want {
				w *= time.Millisecond
				// Up to a tenth early: the sim stamps a request on arrival,
				// the exporter counts the wait from the failure's end.
				if gap := at[i+1].Sub(at[i]); gap < w*9/10 || gap > w+time.Second {
					t.Errorf("wait before attempt %d: %s, want %s", i+2, gap.Round(time.Millisecond), w)
				}
			}
			// Each failure says when the next attempt is.
			got := regexp.MustCompile(`retry_in=(\S+)`).FindAllStringSubmatch(buf.String(), -1)
			if len(got) != tc.failures {
				t.Fatalf("%d failure lines with retry_in, want %d:\n%s", len(got), tc.failures, buf.String())
			}
			for i, m := range got {
				if want := (tc.want[i] * time.Millisecond).String(); m[1] != want {
					t.Errorf("failure %d: retry_in=%s, want %s", i+1, m[1], want)
				}
			}
			if n := regexp.MustCompile(`next_attempt=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).FindAllString(buf.String(), -1); len(n) != tc.failures {
				t.Errorf("%d failure lines with next_attempt, want %d:\n%s", len(n), tc.failures, buf.String())
			}
		})
	}
}

// TestRetryFailedAttemptsAtOnce: RetryFailed (the secret file changed)
// starts an attempt now of a collector whose last refresh failed, and of
// no other.
func TestRetryFailedAttemptsAtOnce(t *testing.T) {
	s, srv := newSimAPI(t, sim.OrgConfig{Seed: 2, BYOKKeys: 3, APIKeys: 3})
	s.SetFaults(sim.Faults{Endpoint: "byok_keys", Status: http.StatusUnauthorized})
	e, _ := runRefresher(t, srv.URL, Options{Interval: time.Hour, RetryDelay: time.Hour, Collectors: []string{"byok", "api_keys"}})
	<-e.Attempted()
	if e.Ready() {
		t.Fatal("ready though the BYOK list failed")
	}
	s.SetFaults(sim.Faults{})
	e.RetryFailed()
	waitFor(t, "an attempt after RetryFailed, which succeeds", e.Ready)
	if n := len(attempts(s, "iam_api_keys")); n != 1 {
		t.Errorf("the API keys list, which had not failed, was read %d times, want once", n)
	}
}

// TestReadinessWithANarrowerRole: a collector whose last attempt was
// refused with 403 counts as done for readiness; 401 and other failures do
// not.
func TestReadinessWithANarrowerRole(t *testing.T) {
	for _, tc := range []struct {
		status int
		ready  bool
	}{
		{http.StatusForbidden, true},
		{http.StatusUnauthorized, false},
		{http.StatusBadRequest, false},
		{http.StatusNotFound, false},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			s, srv := newSimAPI(t, sim.OrgConfig{Seed: 2, BYOKKeys: 3, APIKeys: 3})
			s.SetFaults(sim.Faults{Endpoint: "iam_identity_providers", Status: tc.status})
			e, buf := runRefresher(t, srv.URL, Options{Interval: time.Hour, Collectors: []string{"byok", "identity_providers"}})
			<-e.Attempted()
			if got := e.Ready(); got != tc.ready {
				t.Fatalf("ready %v after a %d, want %v\n%s", got, tc.status, tc.ready, buf.String())
			}
			if h := health(t, e, "identity_providers", apiclient.ReasonOf(&apiclient.APIError{StatusCode: tc.status})); h.success != 0 || h.errors != 1 {
				t.Errorf("health %+v, want the failure counted", h)
			}
			if tc.status == http.StatusForbidden && !regexp.MustCompile(`--no-collector\.identity-providers`).MatchString(buf.String()) {
				t.Errorf("the 403 hint does not name the flag that turns the collector off:\n%s", buf.String())
			}
		})
	}
}
