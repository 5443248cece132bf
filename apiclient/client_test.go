package apiclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

const (
	testKey    = "TESTKEY"
	testSecret = "s3cr3t-d0-not-l3ak"
)

// newSim starts the simulated API on loopback with the given organisation.
func newSim(t *testing.T, org sim.OrgConfig) (*sim.Server, *httptest.Server) {
	t.Helper()
	return testkit.StartSim(t, org, testKey, testSecret)
}

// recorder is an Observer that remembers what it was told.
type recorder struct {
	mu    sync.Mutex
	codes []string
	rls   []RateLimit
}

func (r *recorder) ObserveRequest(_, code string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.codes = append(r.codes, code)
}

func (r *recorder) ObserveRateLimit(_ string, rl RateLimit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rls = append(r.rls, rl)
}

func newClient(t *testing.T, base string, mod ...func(*Config)) *Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret), RetryBaseDelay: 5 * time.Millisecond, Timeout: 5 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkNoSecret fails when err's text carries the secret.
func checkNoSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testSecret) {
		t.Fatalf("error carries the secret: %v", err)
	}
}

func TestListAllPages(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 3, BYOKKeys: 250, APIKeys: 1234, Quirks: false})
	for _, size := range []int{1, 7, 100} {
		t.Run(fmt.Sprint("page_size=", size), func(t *testing.T) {
			c := newClient(t, ts.URL, func(c *Config) { c.PageSize = size })
			byok, st, err := c.ListBYOKKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(byok) != 250 || st.Pages != (250+size-1)/size {
				t.Fatalf("got %d BYOK keys in %d pages, want 250 in %d", len(byok), st.Pages, (250+size-1)/size)
			}
			if size == 1 {
				return // 1234 pages of API keys add nothing
			}
			keys, st, err := c.ListAPIKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != 1234 || st.Pages != (1234+size-1)/size {
				t.Fatalf("got %d API keys in %d pages, want 1234 in %d", len(keys), st.Pages, (1234+size-1)/size)
			}
		})
	}
	for _, r := range s.Requests() {
		q, _ := url.ParseQuery(r.Query)
		if q.Get("page_size") == "" {
			t.Fatalf("request without page_size: %s", r.Query)
		}
	}
}

func TestListContents(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 5, BYOKKeys: 30, APIKeys: 300, Quirks: false})
	c := newClient(t, ts.URL)
	byok, _, err := c.ListBYOKKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := s.BYOKKeys()
	if len(byok) != len(want) || len(want) != 30 {
		t.Fatalf("got %d BYOK keys, the simulator has %d, want 30", len(byok), len(want))
	}
	for i, k := range byok {
		w := want[i]
		cloudID := w.Key.KeyARN + w.Key.KeyID
		wantKMS := KMSKey{
			Kind: w.Key.Kind, KeyARN: w.Key.KeyARN, Roles: w.Key.Roles, KeyID: w.Key.KeyID, KeyVaultID: w.Key.KeyVaultID,
			TenantID: w.Key.TenantID, ApplicationID: w.Key.ApplicationID, SecurityGroup: w.Key.SecurityGroup,
		}
		if !reflect.DeepEqual(k.KMS, wantKMS) {
			t.Fatalf("key %d: KMS key %+v, want %+v", i, k.KMS, wantKMS)
		}
		if k.ID != w.ID || k.Provider != w.Provider || k.State != w.State || k.Validation.Phase != w.Validation.Phase ||
			k.Validation.Region != w.Validation.Region || k.CloudKeyID != cloudID || k.DisplayName != w.DisplayName ||
			k.CreatedAt.Format(time.RFC3339) != w.Metadata.CreatedAt || k.Validation.Since.Format(time.RFC3339) != *w.Validation.Since {
			t.Fatalf("key %d: got %+v, want %+v", i, k, w)
		}
	}
	keys, _, err := c.ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := s.APIKeys()
	if len(keys) != len(wantKeys) || len(wantKeys) != 300 {
		t.Fatalf("got %d API keys, the simulator has %d, want 300", len(keys), len(wantKeys))
	}
	noEnvironment, several := 0, 0
	for i, k := range keys {
		w := wantKeys[i]
		if k.ID != w.ID || k.DisplayName != w.Spec.DisplayName || k.Description != w.Spec.Description ||
			k.OwnerID != w.Spec.Owner.ID || k.OwnerKind != w.Spec.Owner.Kind ||
			!reflect.DeepEqual(k.Resources, wantResources(w)) {
			t.Fatalf("key %d: got %+v, want %+v with resources %+v", i, k, w, wantResources(w))
		}
		if w.Spec.Resource.Environment == "" && strings.Contains(w.Spec.Resource.ResourceName, "environment=") {
			noEnvironment++
		}
		if len(w.Spec.Resources) > 1 {
			several++
		}
		if w.Spec.ExpiresAt != "" && k.ExpiresAt.Format(time.RFC3339) != w.Spec.ExpiresAt+"T23:59:59Z" {
			t.Fatalf("key %s expires %s, want the end of %s", k.ID, k.ExpiresAt, w.Spec.ExpiresAt)
		}
	}
	if noEnvironment == 0 || several == 0 {
		t.Fatalf("%d keys without an environment in their resource, %d with several resources: the simulator should send both", noEnvironment, several)
	}
}

// crnEnvironment is the environment a CRN names, read apart from the client.
var crnEnvironment = regexp.MustCompile(`/environment=(env-[0-9a-z]+)`)

// wantResources is what a key of the simulator opens: spec.resources, else
// spec.resource, each in the environment its CRN names.
func wantResources(k sim.APIKey) []Resource {
	refs := k.Spec.Resources
	if len(refs) == 0 && k.Spec.Resource != nil {
		refs = []*sim.ObjectRef{k.Spec.Resource}
	}
	var out []Resource
	for _, r := range refs {
		env := ""
		if m := crnEnvironment.FindStringSubmatch(r.ResourceName); m != nil {
			env = m[1]
		}
		out = append(out, Resource{ID: r.ID, Kind: r.Kind, Environment: env})
	}
	return out
}

// TestQueryOnEveryPage: a list's query parameters (the environment of the
// cluster list, the scope of the quota list; here the simulator's filters)
// travel on every page, not only the first.
func TestQueryOnEveryPage(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 7, BYOKKeys: 60, APIKeys: 400})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 5 })
	all := s.BYOKKeys()
	byokCases := []struct {
		param, value string
		match        func(sim.BYOKKey) bool
	}{
		{"provider", "GCP", func(k sim.BYOKKey) bool { return k.Provider == "GCP" }},
		{"state", "AVAILABLE", func(k sim.BYOKKey) bool { return k.State == "AVAILABLE" }},
		{"validation_phase", "INVALID", func(k sim.BYOKKey) bool { return k.Validation.Phase == "INVALID" }},
		{"validation_region", "us-west-2", func(k sim.BYOKKey) bool { return k.Validation.Region == "us-west-2" }},
		{"display_name", "key 1", func(k sim.BYOKKey) bool { return strings.Contains(k.DisplayName, "key 1") }},
		{"key", "vault-2", func(k sim.BYOKKey) bool { return strings.Contains(k.Key.KeyID, "vault-2") }},
	}
	for _, tc := range byokCases {
		want := 0
		for _, k := range all {
			if tc.match(k) {
				want++
			}
		}
		got, _, err := list(context.Background(), c, EndpointBYOKKeys, "/byok/v1/keys", url.Values{tc.param: {tc.value}}, readBYOKKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want || want == 0 || want == len(all) {
			t.Errorf("%s=%s: got %d keys, want %d (of %d)", tc.param, tc.value, len(got), want, len(all))
		}
	}
	apiKeys := s.APIKeys()
	owner, res := apiKeys[0].Spec.Owner.ID, "lkc-0001"
	for _, tc := range []struct {
		param, value string
		match        func(sim.APIKey) bool
	}{
		{"spec.owner", owner, func(k sim.APIKey) bool { return k.Spec.Owner != nil && k.Spec.Owner.ID == owner }},
		{"spec.resource", res, func(k sim.APIKey) bool { return k.Spec.Resource != nil && k.Spec.Resource.ID == res }},
	} {
		want := 0
		for _, k := range apiKeys {
			if tc.match(k) {
				want++
			}
		}
		got, _, err := list(context.Background(), c, EndpointIAMAPIKeys, "/iam/v2/api-keys", url.Values{tc.param: {tc.value}}, readAPIKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != want || want == 0 {
			t.Errorf("%s=%s: got %d keys, want %d", tc.param, tc.value, len(got), want)
		}
	}
	// The filters travel on every page, not only the first.
	for _, r := range s.Requests() {
		if strings.Contains(r.Query, "page_token") && !strings.Contains(r.Query, "provider=") &&
			!strings.Contains(r.Query, "state=") && !strings.Contains(r.Query, "validation_") &&
			!strings.Contains(r.Query, "display_name=") && !strings.Contains(r.Query, "key=") &&
			!strings.Contains(r.Query, "spec.") {
			t.Fatalf("a later page lost its filter: %s", r.Query)
		}
	}
}

func TestErrorStatuses(t *testing.T) {
	cases := []struct {
		faults   sim.Faults
		reason   Reason
		requests int // requests sent: retried statuses are sent 1+3 times
	}{
		{sim.Faults{Status: 401}, ReasonUnauthorized, 1},
		{sim.Faults{Status: 403}, ReasonForbidden, 1},
		{sim.Faults{Status: 403, Detail: "The request has an invalid API key"}, ReasonUnauthorized, 1},
		{sim.Faults{Status: 404}, ReasonOther, 1},
		{sim.Faults{Status: 400}, ReasonOther, 1},
		{sim.Faults{Status: 500}, ReasonServerError, 4},
		{sim.Faults{Status: 502}, ReasonServerError, 4},
		{sim.Faults{Status: 503}, ReasonServerError, 4},
		{sim.Faults{Status: 501}, ReasonServerError, 1},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d %s", tc.faults.Status, tc.faults.Detail), func(t *testing.T) {
			s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3, APIKeys: 3})
			s.SetFaults(tc.faults)
			c := newClient(t, ts.URL)
			_, _, err := c.ListBYOKKeys(context.Background())
			checkNoSecret(t, err)
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.StatusCode != tc.faults.Status {
				t.Fatalf("got %v, want an APIError with status %d", err, tc.faults.Status)
			}
			if got := ReasonOf(err); got != tc.reason {
				t.Errorf("reason %q, want %q", got, tc.reason)
			}
			if apiErr.RequestID == "" || apiErr.Title == "" {
				t.Errorf("error lacks the request id or title: %+v", apiErr)
			}
			if n := len(s.Requests()); n != tc.requests {
				t.Errorf("%d requests sent, want %d", n, tc.requests)
			}
		})
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 5, APIKeys: 0})
	s.SetFaults(sim.Faults{Status: 503, Count: 2})
	rec := &recorder{}
	c := newClient(t, ts.URL, func(c *Config) { c.Observer = rec })
	keys, _, err := c.ListBYOKKeys(context.Background())
	if err != nil || len(keys) != 5 {
		t.Fatalf("got %d keys, %v; want 5 after two retries", len(keys), err)
	}
	if got := strings.Join(rec.codes, ","); got != "503,503,200" {
		t.Fatalf("requests answered %s, want 503,503,200", got)
	}
}

func TestTransportErrorRetriedThenExhausted(t *testing.T) {
	// A listener that accepts and closes at once: every request fails in transport.
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		n.Add(1)
		panic(http.ErrAbortHandler)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL)
	_, _, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonNetwork {
		t.Fatalf("reason %q (%v), want network", ReasonOf(err), err)
	}
	if n.Load() != 4 {
		t.Fatalf("%d requests, want 1 + 3 retries", n.Load())
	}
}

func TestRequestTimeout(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 1})
	s.SetFaults(sim.Faults{Hang: true})
	c := newClient(t, ts.URL, func(c *Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = -1 })
	_, _, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonTimeout {
		t.Fatalf("reason %q (%v), want timeout", ReasonOf(err), err)
	}
}

func TestRateLimitRetryAfter(t *testing.T) {
	t.Parallel()
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
	s.SetFaults(sim.Faults{Status: 429, RetryAfter: 1, Count: 1})
	c := newClient(t, ts.URL)
	keys, _, err := c.ListBYOKKeys(context.Background())
	if err != nil || len(keys) != 3 {
		t.Fatalf("got %d keys, %v", len(keys), err)
	}
	reqs := s.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Status != 200 {
		t.Fatalf("requests %+v, want a 429 then a 200", reqs)
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < time.Second {
		t.Fatalf("retried after %s, before Retry-After's 1s", gap)
	}
}

func TestRateLimitPastDeadlineGivesUp(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
	s.SetFaults(sim.Faults{Status: 429, RetryAfter: 60})
	c := newClient(t, ts.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Waiting into the deadline would end as a timeout: rate_limited means it
	// gave up at once.
	_, _, err := c.ListBYOKKeys(ctx)
	if ReasonOf(err) != ReasonRateLimited {
		t.Fatalf("reason %q (%v), want rate_limited", ReasonOf(err), err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

func TestRateLimitedWithoutDeadlineGivesUp(t *testing.T) {
	t.Parallel()
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
	s.SetFaults(sim.Faults{Status: 429, RetryAfter: 1})
	c := newClient(t, ts.URL)
	c.maxRateLimited = 2
	_, _, err := c.ListBYOKKeys(context.Background()) // no deadline
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusTooManyRequests || ReasonOf(err) != ReasonRateLimited {
		t.Fatalf("got %v, want the 429 after the retries", err)
	}
	if n := len(s.Requests()); n != 3 {
		t.Fatalf("%d requests, want 1 + 2 retries", n)
	}
}

func TestRemainingZeroWaitsForReset(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var times []time.Time
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		times = append(times, time.Now())
		first := len(times) == 1
		mu.Unlock()
		w.Header().Set("X-RateLimit-Limit", "10")
		if first {
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "1")
			fmt.Fprint(w, `{"data":[{"id":"cck-1","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}],"metadata":{"next":"http://x/byok/v1/keys?page_token=p2"}}`)
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "9")
		fmt.Fprint(w, `{"data":[{"id":"cck-2","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}],"metadata":{}}`)
	}))
	defer ts.Close()
	rec := &recorder{}
	c := newClient(t, ts.URL, func(c *Config) { c.Observer = rec })
	keys, _, err := c.ListBYOKKeys(context.Background())
	if err != nil || len(keys) != 2 {
		t.Fatalf("got %d keys, %v", len(keys), err)
	}
	if gap := times[1].Sub(times[0]); gap < 900*time.Millisecond {
		t.Fatalf("second request %s after the first, before the window reset", gap)
	}
	if len(rec.rls) != 2 || rec.rls[0].Remaining != 0 || rec.rls[0].Limit != 10 || rec.rls[0].Reset.IsZero() {
		t.Fatalf("rate limits observed: %+v", rec.rls)
	}
}

func TestMissingRateLimitHeadersReportNothing(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
	s.SetFaults(sim.Faults{NoRateLimitHeaders: true})
	rec := &recorder{}
	c := newClient(t, ts.URL, func(c *Config) { c.Observer = rec })
	if _, _, err := c.ListBYOKKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(rec.rls) != 0 || len(rec.codes) != 1 {
		t.Fatalf("observed rate limits %+v and codes %v; want none and one 200", rec.rls, rec.codes)
	}
}

func TestHostileNextHostGetsNoCredentials(t *testing.T) {
	var trapped atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { trapped.Add(1) }))
	defer trap.Close()
	for _, next := range []string{trap.URL, strings.Replace(trap.URL, "http://", "ftp://", 1)} {
		s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 25})
		s.SetFaults(sim.Faults{Next: next})
		c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 10 })
		keys, st, err := c.ListBYOKKeys(context.Background())
		if err != nil || len(keys) != 25 || st.Pages != 3 {
			t.Fatalf("next=%s: got %d keys in %d pages, %v; want all 25 from the configured host", next, len(keys), st.Pages, err)
		}
		if len(s.Requests()) != 3 {
			t.Fatalf("the configured host saw %d requests, want 3", len(s.Requests()))
		}
	}
	if trapped.Load() != 0 {
		t.Fatalf("the host named in metadata.next got %d requests", trapped.Load())
	}
}

func TestTooManyPages(t *testing.T) {
	_, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 30})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 1 })
	c.maxPages = 10
	_, st, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonPagination || st.Pages != 10 {
		t.Fatalf("reason %q after %d pages (%v), want pagination after 10", ReasonOf(err), st.Pages, err)
	}
}

// TestTooManyItems: an upstream of endless pages, each with fresh items and
// a fresh token, fails the list once MaxItems items were read, not when memory runs out.
func TestTooManyItems(t *testing.T) {
	var page atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		n := page.Add(1)
		var items []string
		for i := range 100 {
			items = append(items, fmt.Sprintf(`{"id":"cck-%d-%d","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}`, n, i))
		}
		fmt.Fprintf(w, `{"data":[%s],"metadata":{"next":"https://x/byok/v1/keys?page_token=t%d"}}`, strings.Join(items, ","), n)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL, func(c *Config) { c.MaxItems = 250 })
	_, st, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonPagination || !strings.Contains(err.Error(), "more than 250 items") || st.Pages != 3 {
		t.Fatalf("reason %q after %d pages (%v), want pagination after 3", ReasonOf(err), st.Pages, err)
	}
	if c, _ := New(Config{BaseURL: c.cfg.BaseURL, APIKey: "k", Secret: secret.Static("s")}); c.cfg.MaxItems != DefaultMaxItems {
		t.Errorf("MaxItems %d by default, want %d", c.cfg.MaxItems, DefaultMaxItems)
	}
}

func TestConnectionResetMidBody(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 30})
	s.SetFaults(sim.Faults{Body: "reset"})
	c := newClient(t, ts.URL)
	_, _, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonNetwork {
		t.Fatalf("reason %q (%v), want network", ReasonOf(err), err)
	}
	if n := len(s.Requests()); n != 4 {
		t.Fatalf("%d requests, want 1 + 3 retries", n)
	}
}

// serveJSON answers each request with the next of pages.
func serveJSON(t *testing.T, pages ...string) *httptest.Server {
	t.Helper()
	var n atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(pages) {
			t.Errorf("request %d, only %d pages", i+1, len(pages))
			http.Error(w, "no more pages", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, pages[i])
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestBYOKItems(t *testing.T) {
	ts := serveJSON(t,
		`{"data":[
		  {"id":"cck-1","provider":"AWS","state":"IN_USE","key":{"kind":"AwsKey","key_arn":"arn:1"},"validation":{"phase":"VALID","since":"2026-01-02T03:04:05Z","region":"us-east-1"},"metadata":{"created_at":"2025-01-01T00:00:00Z"}},
		  {"id":"cck-2","provider":"Oracle","state":"RETIRED","key":{"kind":"OciKey"},"validation":{"phase":"DEGRADED","since":null}}
		],"metadata":{"next":"https://api.confluent.cloud/byok/v1/keys?page_token=t2"}}`,
		`{"data":[
		  {"id":"cck-2","provider":"Oracle","state":"RETIRED","validation":{"phase":"DEGRADED"}},
		  {"id":"cck-3","provider":"GCP","state":"AVAILABLE","key":{"kind":"GcpKey","key_id":"projects/p/k"},"validation":{"phase":"INITIALIZING"}}
		],"metadata":{"next":null}}`)
	c := newClient(t, ts.URL)
	keys, st, err := c.ListBYOKKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 3 || st.Pages != 2 {
		t.Fatalf("got %d keys in %d pages, want 3 in 2 (the repeated cck-2 once)", len(keys), st.Pages)
	}
	if k := keys[0]; k.CloudKeyID != "arn:1" || k.Validation.Since != time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) || k.CreatedAt.Year() != 2025 {
		t.Errorf("AWS key: %+v", k)
	}
	if k := keys[1]; k.Provider != "Oracle" || k.State != "RETIRED" || k.Validation.Phase != "DEGRADED" || !k.Validation.Since.IsZero() || !k.CreatedAt.IsZero() {
		t.Errorf("a key with new enum values and no times: %+v", k)
	}
	if k := keys[2]; k.CloudKeyID != "projects/p/k" {
		t.Errorf("GCP key: %+v", k)
	}
}

func TestZeroTimesAreAbsent(t *testing.T) {
	ts := serveJSON(t, `{"data":[
	  {"id":"cck-1","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID","since":"0001-01-01T00:00:00Z"},"metadata":{"created_at":"1970-01-01T00:00:00Z"}}
	],"metadata":{}}`)
	keys, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !keys[0].Validation.Since.IsZero() || !keys[0].CreatedAt.IsZero() {
		t.Fatalf("serialised zero times must be absent, not year 1 or 1970: %+v", keys[0])
	}
}

func TestAPIKeyQuirks(t *testing.T) {
	ts := serveJSON(t, `{"data":[
	  {"id":"A1","metadata":{"created_at":"2024-05-06T07:08:09Z"},"spec":{"display_name":"sr","owner":{"id":"sa-1","kind":"ServiceAccount"},"resource":{"id":"lsrc-1","kind":"Cluster","environment":"env-1"}}},
	  {"id":"A2","spec":{"owner":{"id":"u-1","kind":"User"},"resource":null}},
	  {"id":"A3","spec":{"display_name":"internal","resource":{"id":"lkc-1","kind":"Cluster"}}},
	  {"id":"A4","spec":{"owner":{"id":"sa-2","kind":"ServiceAccount"},"resources":[{"id":"lksqlc-1","kind":"Cluster"}],"expires_at":"2027-03-04"}},
	  {"id":"A5","spec":{"owner":{"id":"sa-3","kind":"Robot"},"resource":{"id":"tf-1","kind":"Tableflow"}}}
	],"metadata":{}}`)
	keys, st, err := newClient(t, ts.URL).ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 4 || st.Skipped[SkipNoOwner].Count != 1 || st.Skipped[SkipNoOwner].Example != "A3" {
		t.Fatalf("got %d keys, %d skipped; want 4 and the ownerless one skipped", len(keys), st.Skipped[SkipNoOwner].Count)
	}
	checks := []struct {
		got, want string
	}{
		{keys[0].Resource().Kind, "SchemaRegistry"}, // reported as Cluster
		{keys[0].Resource().Environment, "env-1"},
		{keys[0].CreatedAt.Format(time.RFC3339), "2024-05-06T07:08:09Z"},
		{fmt.Sprint(keys[1].Resources), "[]"}, // null resource
		{keys[2].Resource().Kind, "ksqlDB"},   // from resources[]
		{keys[2].ExpiresAt.Format(time.RFC3339), "2027-03-04T23:59:59Z"},
		{keys[3].OwnerKind + "/" + keys[3].Resource().Kind, "Robot/Tableflow"},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: got %q, want %q", i, c.got, c.want)
		}
	}
	if !keys[1].CreatedAt.IsZero() || !keys[1].ExpiresAt.IsZero() {
		t.Errorf("absent times must stay zero: %+v", keys[1])
	}
}

func TestOverlappingPagesDeduplicated(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, APIKeys: 95})
	s.SetFaults(sim.Faults{Overlap: true})
	keys, _, err := newClient(t, ts.URL, func(c *Config) { c.PageSize = 10 }).ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k.ID] {
			t.Fatalf("key %s listed twice", k.ID)
		}
		seen[k.ID] = true
	}
	if len(keys) != 95 {
		t.Fatalf("got %d keys, want 95", len(keys))
	}
}

func TestSecretFileRotation(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 2})
	path := t.TempDir() + "/secret"
	write := func(v string) {
		if err := writeFile(path, v+"\n"); err != nil {
			t.Fatal(err)
		}
	}
	write(testSecret)
	c := newClient(t, ts.URL, func(c *Config) { c.Secret = secret.File(path) })
	if _, _, err := c.ListBYOKKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.SetCredentials(testKey, "rotated-secret")
	_, _, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonUnauthorized {
		t.Fatalf("old secret after rotation: reason %q (%v), want unauthorized", ReasonOf(err), err)
	}
	write("rotated-secret")
	if _, _, err := c.ListBYOKKeys(context.Background()); err != nil {
		t.Fatalf("new secret on disk not used: %v", err)
	}
}

func TestEchoedSecretRedacted(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, _ := r.BasicAuth()
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"errors":[{"title":"bad","detail":"your secret %s is wrong"}]}`, pw)
	}))
	defer ts.Close()
	_, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if err == nil || !strings.Contains(err.Error(), "[REDACTED]") {
		t.Fatalf("got %v, want the echoed secret redacted", err)
	}
	checkNoSecret(t, err)
}

// TestRedirects: a 301 or 307 to the same host is followed with the
// credentials (the simulator refuses requests without them); a loop stops
// after three; a redirect to another host or scheme is refused (reason
// other), the host it named gets nothing, and the error names its host only.
func TestRedirects(t *testing.T) {
	var trapped atomic.Int32
	trap := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { trapped.Add(1) }))
	defer trap.Close()
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 12})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 5 })
	for _, mode := range []string{"301", "307"} {
		s.SetFaults(sim.Faults{Redirect: mode})
		keys, st, err := c.ListBYOKKeys(context.Background())
		if err != nil || len(keys) != 12 || st.Pages != 3 {
			t.Fatalf("%s: %d keys in %d pages, %v; want the 12 keys in 3 pages", mode, len(keys), st.Pages, err)
		}
	}
	authorized := 0
	for _, r := range s.Requests() {
		if r.Status == 200 && r.Authorized && strings.Contains(r.Query, "redirected=") {
			authorized++
		}
	}
	if authorized != 6 {
		t.Fatalf("%d redirected requests came with the credentials, want all 6", authorized)
	}
	s.SetFaults(sim.Faults{Redirect: "loop"})
	if _, _, err := c.ListBYOKKeys(context.Background()); ReasonOf(err) != ReasonOther || !strings.Contains(err.Error(), "more than 3 redirects") {
		t.Fatalf("a redirect loop: %v", err)
	}
	s.SetFaults(sim.Faults{Redirect: trap.URL + "/elsewhere?token=t0ps3cret"})
	_, _, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonOther || trapped.Load() != 0 {
		t.Fatalf("reason %q (%v), %d requests at the redirect target; want other and none", ReasonOf(err), err, trapped.Load())
	}
	if want := "redirect to " + trap.URL + " refused"; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "t0ps3cret") || strings.Contains(err.Error(), "byok/v1") {
		t.Fatalf("error %q: want %q and no path or query", err, want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	u, _ := url.Parse("https://api.confluent.cloud")
	withUser, _ := url.Parse("https://k:s@api.confluent.cloud")
	for _, cfg := range []Config{
		{APIKey: "k", Secret: secret.Static("s")},
		{BaseURL: withUser, APIKey: "k", Secret: secret.Static("s")},
		{BaseURL: u, Secret: secret.Static("s")},
		{BaseURL: u, APIKey: "k"},
		{BaseURL: u, APIKey: "k", Secret: secret.Static("s"), PageSize: 101},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted a bad config", cfg)
		}
	}
}

// TestAPIKeyResources: spec.resources wins over spec.resource whenever it
// has entries (as Confluent's CLI reads it); an environment left out of a
// reference is taken from its CRN, in either form the API writes it;
// created_by is read as a string or a reference.
func TestAPIKeyResources(t *testing.T) {
	ts := serveJSON(t, `{"data":[
	  {"id":"R1","spec":{"owner":{"id":"sa-1"},"resource":{"id":"lkc-1","kind":"Cluster","environment":"env-1"},
	    "resources":[{"id":"lkc-2","kind":"Cluster","resource_name":"crn://confluent.cloud/organization=o/environment=env-2/cloud-cluster=lkc-2"},
	                 {"id":"lsrc-3","kind":"SchemaRegistry","environment":"env-3","resource_name":"crn://confluent.cloud/organization=o/environment=env-9/schema-registry=lsrc-3"},
	                 null, {"kind":"Cluster"}],"created_by":"u-admin"}},
	  {"id":"R2","spec":{"owner":{"id":"sa-1"},"resources":[],"resource":{"id":"lkc-4","kind":"Cluster",
	    "resource_name":"https://api.confluent.cloud/organization=o/environment=env-4/cloud-cluster=lkc-4"},"created_by":{"id":"sa-9"}}},
	  {"id":"R3","spec":{"owner":{"id":"sa-1"},"resource":{"id":"cloud","kind":"Cloud","resource_name":"crn://confluent.cloud/organization=o"}}}
	],"metadata":{}}`)
	keys, _, err := newClient(t, ts.URL).ListAPIKeys(context.Background())
	if err != nil || len(keys) != 3 {
		t.Fatalf("%d keys, %v", len(keys), err)
	}
	for i, want := range [][]Resource{
		{{ID: "lkc-2", Kind: "Cluster", Environment: "env-2"}, {ID: "lsrc-3", Kind: "SchemaRegistry", Environment: "env-3"}},
		{{ID: "lkc-4", Kind: "Cluster", Environment: "env-4"}},
		{{ID: "cloud", Kind: "Cloud"}},
	} {
		if !reflect.DeepEqual(keys[i].Resources, want) {
			t.Errorf("%s: resources %+v, want %+v", keys[i].ID, keys[i].Resources, want)
		}
	}
	if keys[0].CreatedBy != "u-admin" || keys[1].CreatedBy != "sa-9" || keys[2].CreatedBy != "" {
		t.Errorf("created_by: %q %q %q", keys[0].CreatedBy, keys[1].CreatedBy, keys[2].CreatedBy)
	}
}
