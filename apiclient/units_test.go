package apiclient

// Small functions the list tests reach only on some paths, tested directly.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
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
		if _, _, err := newClient(t, base).ListBYOKKeys(context.Background(), nil); err != nil {
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
	c, err := New(Config{BaseURL: u, APIKey: "k", Secret: StaticSecret("s")})
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
		BaseURL: u, APIKey: "k", Secret: StaticSecret("s"),
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
		{Config{BaseURL: u, APIKey: "k", Secret: StaticSecret("s"), PageSize: -1}, "page size -1 is outside 1..100"},
		{Config{BaseURL: u, APIKey: "k", Secret: StaticSecret("s"), PageSize: 101}, "page size 101 is outside 1..100"},
		{Config{BaseURL: &url.URL{Scheme: "https"}, APIKey: "k", Secret: StaticSecret("s")}, "base URL must have a host"},
	} {
		if _, err := New(tc.cfg); err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v): %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if _, err := New(Config{BaseURL: u, APIKey: "k", Secret: StaticSecret("s"), PageSize: 100}); err != nil {
		t.Errorf("page size 100: %v", err)
	}
}

// TestRedirectRefused: the client's CheckRedirect keeps the 3xx answer
// instead of following it with the credentials.
func TestRedirectRefused(t *testing.T) {
	u, _ := url.Parse("https://api.confluent.cloud")
	c, err := New(Config{BaseURL: u, APIKey: "k", Secret: StaticSecret("s"), HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.http.CheckRedirect(nil, nil); !errors.Is(err, http.ErrUseLastResponse) {
		t.Fatalf("CheckRedirect: %v, want http.ErrUseLastResponse", err)
	}
}
