package apiclient

// Tests of what the real Confluent Cloud does that its OpenAPI files do not
// say (docs/upstream-api-notes.md): odd items, error shapes, echoed secrets,
// a rate limit shared by every list.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// TestOddItemsDoNotFailTheList: the simulator's odd items (no id, nulls,
// wrong types, unreadable times) are skipped or exported with what they
// have, and counted; the rest of the list is served.
func TestOddItemsDoNotFailTheList(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 12, APIKeys: 12})
	s.SetFaults(sim.Faults{Body: "odd-items", Page: 1})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 5 })

	byok, st, err := c.ListBYOKKeys(context.Background())
	if err != nil {
		t.Fatalf("odd items failed the BYOK list: %v", err)
	}
	if len(byok) != 12+2 {
		t.Fatalf("got %d BYOK keys, want the 12 and the 2 odd ones with an id", len(byok))
	}
	if got := st.Skipped[SkipNoID]; got.Count != 3 || got.Example != "page 1 item 6" {
		t.Errorf("skipped no_id: %+v, want 3 (null, no id, a number for id), the first at page 1 item 6", got)
	}
	wantInvalid := map[string]int{
		"provider": 2, "state": 1, "validation": 1, "key": 1,
		"validation.since": 1, "metadata.created_at": 1,
	}
	checkTallies(t, "BYOK invalid", st.Invalid, wantInvalid)
	odd1, odd2 := find(t, byok, "cck-odd01"), find(t, byok, "cck-odd02")
	if odd1.Provider != "" || odd1.State != "" || odd1.Validation.Phase != "" || odd1.CloudKeyID == "" ||
		len(odd1.KMS.Roles) != 1 || !odd1.CreatedAt.Equal(time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("nulls must be empty, the rest kept, the leap second read as the next second: %+v", odd1)
	}
	if odd2.State != "AVAILABLE" || odd2.Validation.Phase != "VALID" || !odd2.CreatedAt.IsZero() || !odd2.Validation.Since.IsZero() {
		t.Errorf("an impossible date and a time without zone must be left out, the rest kept: %+v", odd2)
	}

	apiKeys, st, err := c.ListAPIKeys(context.Background())
	if err != nil {
		t.Fatalf("odd items failed the API key list: %v", err)
	}
	if len(apiKeys) != 12+2 {
		t.Fatalf("got %d API keys, want the 12 and the 2 odd ones with id and owner", len(apiKeys))
	}
	checkTallies(t, "API keys skipped", st.Skipped, map[string]int{SkipNoID: 2, SkipNoOwner: 1})
	checkTallies(t, "API keys invalid", st.Invalid, map[string]int{
		"metadata.created_at": 1, "spec.display_name": 1, "spec.resource": 1, "spec.expires_at": 1,
	})
	if k := find(t, apiKeys, "ODDTIMES"); k.DisplayName != "" || k.Description != "made with the CLI" || k.OwnerID != "sa-odd" ||
		!k.CreatedAt.IsZero() || !k.ExpiresAt.IsZero() || len(k.Resources) != 0 {
		t.Errorf("unreadable values must be left out, the rest kept: %+v", k)
	}
	if k := find(t, apiKeys, "ODDLEAPSECOND"); k.Resource() != (Resource{ID: "global", Kind: "Global"}) {
		t.Errorf("a Global key: %+v", k)
	}
}

func checkTallies(t *testing.T, what string, got map[string]Tally, want map[string]int) {
	t.Helper()
	for k, n := range want {
		if got[k].Count != n || got[k].Example == "" {
			t.Errorf("%s %s: %+v, want %d with an example", what, k, got[k], n)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s: %+v", what, k, got[k])
		}
	}
}

func find[K interface{ BYOKKey | APIKey }](t *testing.T, keys []K, id string) K {
	t.Helper()
	for _, k := range keys {
		switch k := any(k).(type) {
		case BYOKKey:
			if k.ID == id {
				return any(k).(K)
			}
		case APIKey:
			if k.ID == id {
				return any(k).(K)
			}
		}
	}
	t.Fatalf("no key %s", id)
	var zero K
	return zero
}

// TestTimestampForms: each odd form of a time is read or left out, never a
// failure and never a wrong time.
func TestTimestampForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time // zero: absent
		bad  bool
	}{
		{`"2026-01-02T03:04:05Z"`, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), false},
		{`"2026-01-02T03:04:05.123+02:00"`, time.Date(2026, 1, 2, 1, 4, 5, 123e6, time.UTC), false},
		{`"2016-12-31T23:59:60Z"`, time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"0001-01-01T00:00:00Z"`, time.Time{}, false},
		{`"2026-01-02T03:04:05"`, time.Time{}, true},
		{`"2026-02-30T00:00:00Z"`, time.Time{}, true},
		{`"yesterday"`, time.Time{}, true},
		{`1767322800`, time.Time{}, true},
		{`{"seconds":1}`, time.Time{}, true},
	} {
		var f fields
		got := f.time(fastjson.MustParse(tc.in), "t")
		if bad := len(f.invalid) > 0; !got.Equal(tc.want) || bad != tc.bad {
			t.Errorf("%s: got %v (bad %v), want %v (bad %v)", tc.in, got, bad, tc.want, tc.bad)
		}
	}
}

// TestDateForms: spec.expires_at is a date, the end of that day in UTC;
// a full time is taken as it is, and anything else is left out and noted.
func TestDateForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time // zero: absent
		bad  bool
	}{
		{`"2027-03-04"`, time.Date(2027, 3, 4, 23, 59, 59, 0, time.UTC), false},
		{`"2027-03-04T05:06:07Z"`, time.Date(2027, 3, 4, 5, 6, 7, 0, time.UTC), false},
		{`null`, time.Time{}, false},
		{`""`, time.Time{}, false},
		{`"2027-02-30"`, time.Time{}, true},
		{`"2027-03-04T05:06:07"`, time.Time{}, true},
		{`1804118400`, time.Time{}, true},
	} {
		var f fields
		got := f.date(fastjson.MustParse(tc.in), "d")
		if bad := len(f.invalid) > 0; !got.Equal(tc.want) || bad != tc.bad {
			t.Errorf("%s: got %v (bad %v), want %v (bad %v)", tc.in, got, bad, tc.want, tc.bad)
		}
	}
}

// TestErrorShapes: every error body shape Confluent answers with gives the
// right reason, and the API's own words reach the error.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"errors-detail", "errors-title", "error-object", "message", "text", "gzip"} {
		for _, tc := range []struct {
			status int
			detail string
			reason Reason
		}{
			{403, "invalid API key", ReasonUnauthorized},
			{403, "The request has an Invalid Api Key.", ReasonUnauthorized},
			{403, "Missing the OrganizationAdmin role", ReasonForbidden},
			{401, "Unauthorized", ReasonUnauthorized},
			{400, "page_size is not a number", ReasonOther},
		} {
			t.Run(shape+"/"+tc.detail, func(t *testing.T) {
				s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
				s.SetFaults(sim.Faults{Status: tc.status, Detail: tc.detail, ErrorShape: shape})
				_, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
				if got := ReasonOf(err); got != tc.reason {
					t.Errorf("reason %q, want %q (%v)", got, tc.reason, err)
				}
				if err == nil || !strings.Contains(err.Error(), tc.detail) {
					t.Errorf("error %v lacks the API's words %q", err, tc.detail)
				}
			})
		}
	}
}

// TestErrorTextIsBounded: a 1 MiB detail does not become a 1 MiB error.
func TestErrorTextIsBounded(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
	s.SetFaults(sim.Faults{Status: 403, Detail: "denied\n" + strings.Repeat("x", 1<<20)})
	_, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if err == nil || len(err.Error()) > 2*maxMessage || !strings.Contains(err.Error(), "denied x") ||
		strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "bytes more") {
		t.Fatalf("want one bounded line that keeps the start and says what was cut; got %d bytes: %.200q", len(err.Error()), err)
	}
}

// TestErrorEnvelopeWith200: a 200 carrying an error instead of a list fails
// the list, and says what the API said.
func TestErrorEnvelopeWith200(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3})
	s.SetFaults(sim.Faults{Body: "error-envelope"})
	_, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonDecode || !strings.Contains(err.Error(), "The list cannot be served right now") {
		t.Fatalf("got %v (reason %q), want decode with the API's words", err, ReasonOf(err))
	}
}

// hardSecret has every character that JSON, percent and base64 encode
// differently.
const hardSecret = `pa/ss+wo"rd<&>=?% é`

// TestEchoedSecretRedactedInEveryEncoding: an upstream that echoes the
// credentials, in an error or in a list, in any encoding, gets none of them
// into an error or a value the exporter would export.
func TestEchoedSecretRedactedInEveryEncoding(t *testing.T) {
	forms := secretForms(testKey, hardSecret)
	for _, mode := range []string{"raw", "json", "unicode", "mixed", "base64", "unicode-base64", "percent", "header"} {
		t.Run(mode, func(t *testing.T) {
			s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: 3}, APIKey: testKey, APISecret: hardSecret})
			ts := httptest.NewServer(s)
			defer ts.Close()
			c := newClient(t, ts.URL, func(c *Config) { c.Secret = secret.Static(hardSecret) })

			s.SetFaults(sim.Faults{Status: 400, Echo: mode})
			_, _, err := c.ListBYOKKeys(context.Background())
			if err == nil {
				t.Fatal("want the 400")
			}
			if mode != "header" && !strings.Contains(err.Error(), redacted) {
				t.Errorf("the echo was not seen: %v", err)
			}
			checkNone(t, "error", err.Error(), forms)

			s.SetFaults(sim.Faults{Echo: mode})
			keys, _, err := c.ListBYOKKeys(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range keys {
				checkNone(t, "display name", k.DisplayName, forms)
			}
		})
	}
}

// secretForms are the encodings of the secret a test must not find.
func secretForms(key, secret string) []string {
	esc, _ := json.Marshal(secret)
	pair := key + ":" + secret
	return []string{
		secret, pair, string(esc[1 : len(esc)-1]), strings.ReplaceAll(string(esc[1:len(esc)-1]), "/", `\/`),
		url.QueryEscape(secret), url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(pair)), base64.StdEncoding.EncodeToString([]byte(secret)),
	}
}

func checkNone(t *testing.T, what, s string, forms []string) {
	t.Helper()
	for _, f := range forms {
		if strings.Contains(s, f) {
			t.Errorf("%s carries the secret (as %q): %q", what, f, s)
		}
	}
}

// TestRedactorForms checks the redactor alone against each encoding, with
// lower-case percent escapes and base64 without padding.
func TestRedactorForms(t *testing.T) {
	r := newRedactor(testKey, hardSecret)
	pair := testKey + ":" + hardSecret
	for _, echo := range append(secretForms(testKey, hardSecret),
		strings.ToLower(url.QueryEscape(hardSecret)),
		strings.TrimRight(base64.StdEncoding.EncodeToString([]byte(pair)), "="),
		base64.URLEncoding.EncodeToString([]byte(pair)),
	) {
		got := r.string("before " + echo + " after")
		if got != "before "+redacted+" after" {
			t.Errorf("%q redacted to %q", echo, got)
		}
	}
	// Upper-case letters outside the escapes stay as they are in the
	// lower-case-hex form: only the %XX digits change case.
	upper := newRedactor(testKey, "ABC/DEF")
	if got := upper.string("x ABC%2fDEF x"); got != "x "+redacted+" x" {
		t.Errorf("lower-case hex with upper-case letters around: %q", got)
	}
	// A secret with nothing to escape has fewer distinct forms, each listed once.
	plain := newRedactor(testKey, "plainsecret")
	for i := 1; i < len(plain.forms); i++ {
		for j := range i {
			if bytes.Equal(plain.forms[i], plain.forms[j]) {
				t.Errorf("form %q listed twice", plain.forms[i])
			}
		}
	}
	if got := newRedactor(testKey, "").string("nothing to hide"); got != "nothing to hide" {
		t.Errorf("an empty secret changed the text: %q", got)
	}
}

// TestSecretFileOddities: a byte-order mark is not part of the secret; a
// file deleted at run time is reason other, and the error names the file.
func TestSecretFileOddities(t *testing.T) {
	_, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 2})
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte("\ufeff"+testSecret+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newClient(t, ts.URL, func(c *Config) { c.Secret = secret.File(path) })
	if _, _, err := c.ListBYOKKeys(context.Background()); err != nil {
		t.Fatalf("a secret file with a byte-order mark: %v", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonOther || !strings.Contains(err.Error(), path) {
		t.Fatalf("deleted secret file: reason %q, error %v; want other, naming %s", ReasonOf(err), err, path)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err = c.ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonOther || !strings.Contains(err.Error(), path) {
		t.Fatalf("secret file is a directory: reason %q, error %v; want other, naming %s", ReasonOf(err), err, path)
	}
}

// TestRateLimitHoldsEveryList: the limit is per organisation, so a window
// one list found exhausted holds back the other list too.
func TestRateLimitHoldsEveryList(t *testing.T) {
	var apiKeyRequests atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/iam/") {
			apiKeyRequests.Add(1)
			_, _ = w.Write([]byte(`{"data":[]}`))
			return
		}
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer ts.Close()
	c := newClient(t, ts.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, _, err := c.ListBYOKKeys(ctx)
	var rl *RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("BYOK: got %v, want to give up on the 30s wait", err)
	}
	_, _, err = c.ListAPIKeys(ctx)
	if !errors.As(err, &rl) || apiKeyRequests.Load() != 0 {
		t.Fatalf("API keys: got %v after %d requests; want to give up without a request into the exhausted window", err, apiKeyRequests.Load())
	}
}

// TestRemainingZeroHoldsEveryList: X-RateLimit-Remaining: 0 on the last page
// of one list delays the first request of the other until the reset.
func TestRemainingZeroHoldsEveryList(t *testing.T) {
	t.Parallel()
	var exhaustedAt atomic.Int64
	var early atomic.Bool
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/iam/") {
			if at := exhaustedAt.Load(); at == 0 || time.Since(time.Unix(0, at)) < time.Second {
				early.Store(true)
			}
			_, _ = w.Write([]byte(`{"data":[]}`))
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", "1")
		exhaustedAt.Store(time.Now().UnixNano())
		_, _ = w.Write([]byte(`{"data":[]}`))
	}))
	defer ts.Close()
	c := newClient(t, ts.URL)
	if _, _, err := c.ListBYOKKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ListAPIKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if early.Load() {
		t.Fatal("the API key list asked within a window the BYOK list found exhausted")
	}
}

// TestGzipBodyWithoutContentEncoding: a list body that comes compressed
// without saying so is read.
func TestGzipBodyWithoutContentEncoding(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(gzipBytes(t, `{"data":[{"id":"cck-1","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}]}`))
	}))
	defer ts.Close()
	keys, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if err != nil || len(keys) != 1 || keys[0].ID != "cck-1" {
		t.Fatalf("got %+v, %v", keys, err)
	}
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRateLimitLooksAgainAfterWaiting: a list waiting for a block to end
// looks again when it wakes: a 429 that arrived while it slept (here the
// other list's, sent before the first 429 came back) moved the end, and
// asking at the old end would spend the quota into a known block.
func TestRateLimitLooksAgainAfterWaiting(t *testing.T) {
	t.Parallel()
	var (
		mu          sync.Mutex
		secondEnd   time.Time // when the second 429's block ends
		byokRetried time.Time
		byokCalls   int
	)
	slowSent := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/iam/") {
			if secondEnd.IsZero() {
				close(slowSent)
				mu.Unlock()
				time.Sleep(300 * time.Millisecond) // in flight while BYOK's 429 comes back
				mu.Lock()
				secondEnd = time.Now().Add(2 * time.Second)
				w.Header().Set("Retry-After", "2")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			_, _ = w.Write([]byte(`{"data":[]}`))
			return
		}
		if byokCalls++; byokCalls == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		byokRetried = time.Now()
		_, _ = w.Write([]byte(`{"data":[]}`))
	}))
	defer ts.Close()
	c := newClient(t, ts.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, _, err := c.ListAPIKeys(ctx); err != nil {
			t.Error(err)
		}
	})
	<-slowSent
	if _, _, err := c.ListBYOKKeys(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if byokRetried.Before(secondEnd) {
		t.Errorf("BYOK asked again %s before the block the second 429 set had ended", secondEnd.Sub(byokRetried).Round(time.Millisecond))
	}
}
