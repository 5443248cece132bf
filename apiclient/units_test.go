package apiclient

// Small functions the list tests reach only on some paths, tested directly.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

func TestPrincipals(t *testing.T) {
	for _, tc := range []struct {
		key  KMSKey
		want []string
	}{
		{KMSKey{Kind: "AwsKey", Roles: []string{"role/a", "", "role/b"}}, []string{"role/a", "role/b"}},
		{KMSKey{Kind: "AzureKey", ApplicationID: "app"}, []string{"app"}},
		{KMSKey{Kind: "GcpKey", SecurityGroup: "group@example.com"}, []string{"group@example.com"}},
		{KMSKey{Kind: "OciKey"}, nil},
	} {
		if got := tc.key.Principals(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.key.Kind, got, tc.want)
		}
	}
}

// TestBoundCutsAtARuneBoundary: a long message is cut to maxMessage bytes,
// never in the middle of a character.
func TestBoundCutsAtARuneBoundary(t *testing.T) {
	for pad := range 4 {
		s := strings.Repeat("a", maxMessage-pad) + strings.Repeat("é", 200)
		got := bound(s)
		head, _, ok := strings.Cut(got, "…")
		if !ok || !utf8.ValidString(got) || len(head) > maxMessage || len(head) < maxMessage-1 {
			t.Errorf("pad %d: %d bytes kept, valid UTF-8 %v: %q", pad, len(head), utf8.ValidString(got), got)
		}
		if want := len(s) - len(head); !strings.HasSuffix(got, "("+strconv.Itoa(want)+" bytes more)") {
			t.Errorf("pad %d: %q does not say %d bytes were cut", pad, got[len(head):], want)
		}
	}
	if got := bound(" two\nlines\t\x00 "); got != "two lines" {
		t.Errorf("white space and control characters: %q", got)
	}
	if s := strings.Repeat("x", maxMessage); bound(s) != s {
		t.Error("a message of exactly maxMessage bytes was cut")
	}
}

func TestParseSeconds(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"7", 7 * time.Second, true},
		{"-1", 0, false},
		{"86401", 24 * time.Hour, true},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), 24 * time.Hour, true},
	} {
		got, ok := parseSeconds(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseSeconds(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestBasePathJoined: a base URL with a path prefix (a proxy) keeps it, with
// one slash before the API path however many the flag had.
func TestBasePathJoined(t *testing.T) {
	var paths []string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		_, _ = w.Write([]byte(`{"data":[]}`))
	}))
	defer ts.Close()
	for _, base := range []string{ts.URL + "/proxy", ts.URL + "/proxy/", ts.URL + "/proxy//"} {
		if _, _, err := newClient(t, base).ListBYOKKeys(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range paths {
		if p != "/proxy/byok/v1/keys" {
			t.Errorf("requested %s, want /proxy/byok/v1/keys", p)
		}
	}
}

func TestReasonOfNil(t *testing.T) {
	if r := ReasonOf(nil); r != "" {
		t.Fatalf("ReasonOf(nil) = %q", r)
	}
}

// TestNewDefaults: what a zero Config field means, and that a set one is kept.
func TestNewDefaults(t *testing.T) {
	u, _ := url.Parse("https://api.confluent.cloud")
	c, err := New(Config{BaseURL: u, APIKey: "k", Secret: secret.Static("s")})
	if err != nil {
		t.Fatal(err)
	}
	got := c.cfg
	if got.PageSize != 100 || got.Timeout != 30*time.Second || got.MaxRetries != 3 ||
		got.RetryBaseDelay != time.Second || got.UserAgent != "confluent_keys_exporter" {
		t.Errorf("defaults: %+v", got)
	}
	if c.maxPages != MaxPages || c.maxRateLimited != maxRateLimited || c.http.CheckRedirect == nil {
		t.Errorf("limits: %d pages, %d 429s, redirects refused: %v", c.maxPages, c.maxRateLimited, c.http.CheckRedirect != nil)
	}
	c, err = New(Config{
		BaseURL: u, APIKey: "k", Secret: secret.Static("s"),
		PageSize: 1, Timeout: time.Nanosecond, MaxRetries: -1, RetryBaseDelay: time.Nanosecond, UserAgent: "x/1",
	})
	if err != nil {
		t.Fatal(err)
	}
	got = c.cfg
	if got.PageSize != 1 || got.Timeout != time.Nanosecond || got.MaxRetries != -1 ||
		got.RetryBaseDelay != time.Nanosecond || got.UserAgent != "x/1" {
		t.Errorf("set values not kept: %+v", got)
	}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{BaseURL: u, APIKey: "k", Secret: secret.Static("s"), PageSize: -1}, "page size -1 is outside 1..100"},
		{Config{BaseURL: u, APIKey: "k", Secret: secret.Static("s"), PageSize: 101}, "page size 101 is outside 1..100"},
		{Config{BaseURL: &url.URL{Scheme: "https"}, APIKey: "k", Secret: secret.Static("s")}, "base URL must have a host"},
	} {
		if _, err := New(tc.cfg); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(Config{BaseURL: u, APIKey: "k", Secret: secret.Static("s"), PageSize: 100}); err != nil {
		t.Errorf("page size 100: %v", err)
	}
}

// TestCheckRedirect: a redirect is followed to the same scheme and host
// only, at most three times; the refusal names the target's host, never
// its path or query.
func TestCheckRedirect(t *testing.T) {
	req := func(raw string) *http.Request { r, _ := http.NewRequest(http.MethodGet, raw, nil); return r }
	first := req("https://api.confluent.cloud/byok/v1/keys")
	for _, tc := range []struct {
		to   string
		via  int
		want string
	}{
		{"https://api.confluent.cloud/byok/v1/keys?x=1", 1, ""},
		{"https://api.confluent.cloud/other", 3, ""},
		{"https://api.confluent.cloud/other", 4, "more than 3 redirects"},
		{"https://evil.example/byok/v1/keys?token=t0ps3cret", 1, "redirect to https://evil.example refused"},
		{"http://api.confluent.cloud/byok/v1/keys", 1, "redirect to http://api.confluent.cloud refused"},
		{"https://api.confluent.cloud:8443/byok/v1/keys", 1, "redirect to https://api.confluent.cloud:8443 refused"},
	} {
		via := slices.Repeat([]*http.Request{first}, tc.via)
		err := checkRedirect(req(tc.to), via)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s after %d: %v", tc.to, tc.via, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "t0ps3cret")):
			t.Errorf("%s after %d: %v, want %q", tc.to, tc.via, err, tc.want)
		}
	}
	if ReasonOf(&RedirectError{}) != ReasonOther {
		t.Error("a refused redirect is not reason other")
	}
}

func TestPageTokenLimits(t *testing.T) {
	for _, tc := range []struct {
		next, want, err string
	}{
		{"https://x/byok/v1/keys?page_token=" + strings.Repeat("t", 255), strings.Repeat("t", 255), ""},
		{"https://x/byok/v1/keys?page_token=" + strings.Repeat("t", 256), strings.Repeat("t", 256), ""}, // the API's 255 bounds what is sent, not what comes
		{"https://x/byok/v1/keys?page_token=" + strings.Repeat("t", 4096), strings.Repeat("t", 4096), ""},
		{"https://x/byok/v1/keys?page_token=" + strings.Repeat("t", 4097), "", "page_token is 4097 characters, more than the 4096"},
		{"https://x/byok/v1/keys?page_size=10", "", "next link has no page_token"},
		{"https://x/%zz", "", "next link is not a URL"},
	} {
		got, err := pageToken(tc.next)
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("pageToken(%.50q) = %q, %v; want %q, %q", tc.next, got, err, tc.want, tc.err)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	arrived := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "0")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", "0")
	if got := parseRateLimit(h, arrived); got != (RateLimit{Limit: 0, Remaining: 0, Reset: arrived}) {
		t.Errorf("zeros: %+v", got)
	}
	h.Set("X-RateLimit-Limit", "-1")
	h.Set("X-RateLimit-Remaining", "many")
	h.Del("X-RateLimit-Reset")
	if got := parseRateLimit(h, arrived); got != (RateLimit{Limit: -1, Remaining: -1}) {
		t.Errorf("unreadable values must read as absent: %+v", got)
	}
}

// TestRetryWait: a 429 waits what it asks, else the fallback, never under a second.
func TestRetryWait(t *testing.T) {
	for _, tc := range []struct{ asked, fallback, want time.Duration }{
		{0, 5 * time.Second, 5 * time.Second},
		{3 * time.Second, 5 * time.Second, 3 * time.Second},
		{0, 10 * time.Millisecond, time.Second},
		{100 * time.Millisecond, 5 * time.Second, time.Second},
	} {
		r := &response{retryAfter: tc.asked}
		if got := r.retryWait(tc.fallback); got != tc.want {
			t.Errorf("asked %v, fallback %v: waits %v, want %v", tc.asked, tc.fallback, got, tc.want)
		}
	}
}

// TestBackoffBounds: retry n waits between half and all of base<<(n-1).
func TestBackoffBounds(t *testing.T) {
	c := &Client{cfg: Config{RetryBaseDelay: 100 * time.Millisecond}}
	for n, hi := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond} {
		var sawLow, sawHigh bool
		for range 200 {
			d := c.backoff(n)
			if d < hi/2 || d > hi {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", n, d, hi/2, hi)
			}
			sawLow = sawLow || d < hi*3/4
			sawHigh = sawHigh || d > hi*3/4
		}
		if !sawLow || !sawHigh {
			t.Errorf("backoff(%d) has no jitter over its range", n)
		}
	}
}

// TestBackoffOfTheSmallestBase: a base delay too small to halve still backs off.
func TestBackoffOfTheSmallestBase(t *testing.T) {
	c := &Client{cfg: Config{RetryBaseDelay: time.Nanosecond}}
	if d := c.backoff(1); d < 0 || d > time.Nanosecond {
		t.Fatalf("backoff(1) = %v, want 0 or 1ns", d)
	}
}

// TestEmptyBody: a 200 with no body at all is a decode failure, said so.
func TestEmptyBody(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ts.Close()
	_, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if ReasonOf(err) != ReasonDecode || !strings.Contains(err.Error(), "unexpected end of JSON input") {
		t.Fatalf("got %v, want decode: unexpected end of JSON input", err)
	}
}

// TestBlockJitter: a block lasts until the time asked plus a jitter of at
// most a tenth of the wait, capped at a second; a later block never
// shortens an earlier one.
func TestBlockJitter(t *testing.T) {
	for _, wait := range []time.Duration{2 * time.Second, time.Minute, time.Nanosecond} {
		// The jitter is random: enough draws that a wrong bound shows.
		for range 50 {
			p := newPacer()
			until := time.Now().Add(wait)
			p.block(until)
			jitter := p.blockedUntil.Sub(until)
			if jitter < 0 || jitter > min(wait/10, time.Second)+time.Millisecond {
				t.Fatalf("wait %v: jitter %v, want within [0, %v]", wait, jitter, min(wait/10, time.Second))
			}
			p.block(time.Now())
			if p.blockedUntil.Before(until) {
				t.Fatalf("wait %v: a shorter block replaced a longer one", wait)
			}
		}
	}
}

func TestErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{
			&APIError{Endpoint: "byok_keys", StatusCode: 403, Title: "Forbidden", Code: "user_unauthorized", Detail: "no role", RequestID: "r1"},
			`byok_keys: HTTP 403 "Forbidden" (code user_unauthorized): no role [request_id r1]`,
		},
		{
			&APIError{Endpoint: "cmk_clusters", StatusCode: 403, Title: "Forbidden", Resolution: "Ask an admin", RequestID: "r3"},
			`cmk_clusters: HTTP 403 "Forbidden" (resolution: Ask an admin) [request_id r3]`,
		},
		{&APIError{Endpoint: "byok_keys", StatusCode: 500}, `byok_keys: HTTP 500`},
		{&DecodeError{Endpoint: "iam_api_keys", Err: errors.New("bad"), RequestID: "r2"}, `iam_api_keys: decoding response: bad [request_id r2]`},
		{&DecodeError{Endpoint: "iam_api_keys", Err: errors.New("bad")}, `iam_api_keys: decoding response: bad`},
		{&CredentialError{Err: errors.New("open /s: gone")}, `reading API secret: open /s: gone`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
	for f, want := range map[failure]string{
		{Title: "T", Code: "c", Detail: "d"}: `"T" (code c): d`,
		{Detail: "d"}:                        `d`,
		{Title: "T"}:                         `"T"`,
		{Code: "c"}:                          `(code c)`,
		{Detail: "d", Resolution: "r"}:       `d (resolution: r)`,
	} {
		if got := f.String(); got != want {
			t.Errorf("%+v: %q, want %q", f, got, want)
		}
	}
}

func TestReadFailureEdges(t *testing.T) {
	for body, want := range map[string]failure{
		`{"errors":[{"code":403,"title":"T","detail":"d"}]}`:       {Code: "403", Title: "T", Detail: "d"},
		`{"errors":[{"title":"T","resolution":"Grant the role"}]}`: {Title: "T", Resolution: "Grant the role"},
		`{"error":{"code":"forbidden","message":"m"}}`:             {Code: "forbidden", Detail: "m"},
		`{"error":"plain"}`:            {Detail: "plain"},
		`{"message":"m","detail":"d"}`: {Detail: "m"},
		`{"detail":"d"}`:               {Detail: "d"},
		"  denied  ":                   {Detail: "denied"},
		`{"errors":[]}`:                {},
		`{}`:                           {},
		``:                             {},
		`<html>502</html>`:             {},
		"\xff\xfe":                     {},
	} {
		got, ok := readFailure([]byte(body), nil)
		if got != want || ok != (want != failure{}) {
			t.Errorf("readFailure(%q) = %+v, %v; want %+v", body, got, ok, want)
		}
	}
	for raw, want := range map[string]string{`"s"`: "s", `403`: "403", `null`: "", `{}`: "", `"\u00e9\xff"`: "é\\xff"} {
		if got := plain(fastjson.MustParse(raw)); got != want {
			t.Errorf("plain(%s) = %q, want %q", raw, got, want)
		}
	}
	if plain(nil) != "" {
		t.Error("plain(nil) is not empty")
	}
}

func TestGunzipped(t *testing.T) {
	plain := []byte(`{"data":[]}`)
	if got, over, err := gunzipped(plain, 100); err != nil || over || string(got) != string(plain) {
		t.Errorf("plain body: %q, %v, %v", got, over, err)
	}
	if got, _, err := gunzipped([]byte{0x1f}, 100); err != nil || len(got) != 1 {
		t.Errorf("one byte: %q, %v", got, err)
	}
	notGzip := []byte{0x1f, 0x8b, 'x', 'y'}
	if got, _, err := gunzipped(notGzip, 100); err != nil || string(got) != string(notGzip) {
		t.Errorf("gzip magic without a gzip header: %q, %v", got, err)
	}
	zipped := gzipBytes(t, strings.Repeat("a", 100))
	if got, over, err := gunzipped(zipped, 100); err != nil || over || len(got) != 100 {
		t.Errorf("exactly the limit: %d bytes, over %v, %v", len(got), over, err)
	}
	if _, over, err := gunzipped(zipped, 99); err != nil || !over {
		t.Errorf("over the limit: over %v, %v", over, err)
	}
	truncated := zipped[:len(zipped)-6] // the whole data, the trailer cut
	for _, limit := range []int{1000, 100} {
		if _, _, err := gunzipped(truncated, limit); err == nil {
			t.Errorf("limit %d: a truncated gzip body was accepted", limit)
		}
	}
}

// TestReadBody: a body is read whole up to the limit, in chunks joined
// once; one over it is refused after limit+1 bytes, handing back its first
// chunk (an error's words) only.
func TestReadBody(t *testing.T) {
	for _, size := range []int{0, 1, bodyChunk - 1, bodyChunk, bodyChunk + 1, 3*bodyChunk + 7} {
		data := strings.Repeat("x", size)
		got, over, err := readBody(strings.NewReader(data), 3*bodyChunk+7)
		if err != nil || over || string(got) != data {
			t.Errorf("%d bytes: %d read, over %v, %v", size, len(got), over, err)
		}
	}
	got, over, err := readBody(strings.NewReader(strings.Repeat("y", 5*bodyChunk)), 3*bodyChunk)
	if err != nil || !over || len(got) != bodyChunk {
		t.Errorf("over the limit: %d bytes handed back, over %v, %v", len(got), over, err)
	}
}

// TestEmptyResources: an API key with an empty resources list (the 2022
// form) has no resource, and does not panic.
func TestEmptyResources(t *testing.T) {
	ts := serveJSON(t, `{"data":[{"id":"A1","spec":{"owner":{"id":"sa-1"},"resources":[]}}]}`)
	keys, _, err := newClient(t, ts.URL).ListAPIKeys(context.Background())
	if err != nil || len(keys) != 1 || len(keys[0].Resources) != 0 {
		t.Fatalf("got %+v, %v", keys, err)
	}
}

// TestOnly2xxIsAList: a 300 carrying a list body is not a list (Go does not
// follow a 300, and 1xx are interim answers it never hands over).
func TestOnly2xxIsAList(t *testing.T) {
	for _, status := range []int{300} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"data":[{"id":"cck-1"}]}`))
		}))
		_, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
		ts.Close()
		var apiErr *APIError
		if !errors.As(err, &apiErr) || apiErr.StatusCode != status || ReasonOf(err) != ReasonOther {
			t.Errorf("status %d: %v (reason %q), want an APIError, reason other", status, err, ReasonOf(err))
		}
	}
}

// TestBodyCapEdges: a list body of exactly the cap is read, one byte more is
// not; an error body over the cap is still the error its status says, not a
// decode failure. (The cap is 64 KiB here; TestBodyCapBoundsMemory reads
// against the real 4 MiB.)
func TestBodyCapEdges(t *testing.T) {
	const limit = 64 << 10
	list := `{"data":[{"id":"cck-1","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}]}`
	exact := list + strings.Repeat(" ", limit-len(list)) // JSON allows trailing white space
	for _, tc := range []struct {
		status int
		body   string
		reason Reason // "" for a list read
	}{
		{200, exact, ""},
		{200, exact + " ", ReasonDecode},
		{300, exact + " ", ReasonOther},
		{503, exact + " ", ReasonServerError},
	} {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(tc.status)
			_, _ = io.WriteString(w, tc.body)
		}))
		c := newClient(t, ts.URL, func(c *Config) { c.MaxRetries = -1 })
		c.maxBody = limit
		keys, _, err := c.ListBYOKKeys(context.Background())
		ts.Close()
		if got := ReasonOf(err); got != tc.reason || tc.reason == "" && len(keys) != 1 {
			t.Errorf("status %d, %d bytes: %d keys, reason %q (%v); want reason %q", tc.status, len(tc.body), len(keys), got, err, tc.reason)
		}
	}
}

// TestEnvelopeEdges: what of a page's envelope decodes, and what fails it
// with which words.
func TestEnvelopeEdges(t *testing.T) {
	var p fastjson.Parser
	for body, want := range map[string]struct {
		items int
		next  string
		err   string
	}{
		`{"data":[{"id":"a"},{"id":"b"}],"metadata":{"next":"n"}}`: {items: 2, next: "n"},
		`{"data":null,"metadata":{}}`:                              {},
		`{"data":[],"metadata":null}`:                              {},
		`{"data":[],"metadata":{"next":null}}`:                     {},
		`{"data":[]}`:                                              {},
		`[{"data":[]}]`:                                            {err: "the body is a JSON array, not the list envelope"},
		`{"data":"x"}`:                                             {err: "data is a JSON string, not an array"},
		`{"data":[],"metadata":[]}`:                                {err: "metadata is a JSON array, not an object"},
		`{"data":[],"metadata":{"next":5}}`:                        {err: "metadata.next is a JSON number, not a string"},
		`{"metadata":{}}`:                                          {err: `missing required field "data"`},
		`{"errors":[{"title":"Gone"}]}`:                            {err: `an error instead of a list: "Gone"`},
		`{"data":[}`:                                               {err: "invalid character '}'"},
		`<html>`:                                                   {err: "body is HTML"},
		strings.Repeat("[", 400) + strings.Repeat("]", 400):        {err: "JSON nested deeper than 300 levels"},
	} {
		items, next, err := decodePage(&p, []byte(body), nil)
		if want.err != "" {
			if err == nil || !strings.Contains(err.Error(), want.err) {
				t.Errorf("%.40s: %v, want an error saying %q", body, err, want.err)
			}
			continue
		}
		if err != nil || len(items) != want.items || next != want.next {
			t.Errorf("%.40s: %d items, next %q, %v; want %d, %q", body, len(items), next, err, want.items, want.next)
		}
	}
}

// TestRedactorBuiltOncePerSecret: the redactor of the credentials is built
// when the secret changes, not for every request.
func TestRedactorBuiltOncePerSecret(t *testing.T) {
	c := newClient(t, "https://api.example")
	first := c.redactorFor("one")
	if c.redactorFor("one") != first {
		t.Fatal("the same secret built a new redactor")
	}
	second := c.redactorFor("two")
	if second == first || second.string("x two x") != "x "+redacted+" x" {
		t.Fatal("a new secret kept the old redactor")
	}
}

// TestQuotaScopeCase: a scope in any case is the enum's upper case; the
// resource of each scope is read from its reference (users and service
// accounts from user).
func TestQuotaScopeCase(t *testing.T) {
	ts := serveJSON(t, `{"data":[
	  {"id":"a","scope":"organization","applied_limit":1},
	  {"id":"b","scope":"Service_Account","applied_limit":2,"user":{"id":"sa-1"}},
	  {"id":"c","scope":"KAFKA_CLUSTER","applied_limit":3,"kafka_cluster":{"id":"lkc-1","environment":"env-1"}},
	  {"id":"c","scope":"KAFKA_CLUSTER","applied_limit":4,"kafka_cluster":null}
	],"metadata":{}}`)
	quotas, st, err := newClient(t, ts.URL).ListAppliedQuotas(context.Background(), "whatever")
	if err != nil || len(quotas) != 4 {
		t.Fatalf("%d quotas, %v", len(quotas), err)
	}
	for i, want := range []string{"ORGANIZATION ", "SERVICE_ACCOUNT sa-1", "KAFKA_CLUSTER lkc-1", "KAFKA_CLUSTER "} {
		if got := quotas[i].Scope + " " + quotas[i].ResourceID; got != want {
			t.Errorf("quota %d: %q, want %q", i, got, want)
		}
	}
	if st.Invalid["kafka_cluster"].Count != 1 {
		t.Errorf("a KAFKA_CLUSTER quota without its cluster was not counted: %+v", st.Invalid)
	}
}
