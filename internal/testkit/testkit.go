// Package testkit holds what the tests of several packages share: the
// simulated API on loopback, a log buffer safe for concurrent writers, a
// line diff, a Prometheus query. Only tests and the load run import it.
package testkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// StartSim serves the simulated API over org on loopback, accepting key and
// secret, until the test ends.
func StartSim(t testing.TB, org sim.OrgConfig, key, secret string) (*sim.Server, *httptest.Server) {
	t.Helper()
	s := sim.New(sim.Config{Org: org, APIKey: key, APISecret: secret})
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// Buffer collects log lines or a process's output while writers run.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Reset empties the buffer.
func (l *Buffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

// Lines returns the buffer's lines that contain every one of subs.
func (l *Buffer) Lines(subs ...string) []string {
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		ok := line != ""
		for _, s := range subs {
			ok = ok && strings.Contains(line, s)
		}
		if ok {
			out = append(out, line)
		}
	}
	return out
}

// LineDiff lists the lines of want missing from got ("- ") and the lines of
// got not in want ("+ "), at most 40 of each.
func LineDiff(want, got string) string {
	w, g := lineSet(want), lineSet(got)
	var b strings.Builder
	n := 0
	for _, l := range strings.Split(want, "\n") {
		if !g[l] && n < 40 {
			fmt.Fprintf(&b, "- %s\n", l)
			n++
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if !w[l] && n < 80 {
			fmt.Fprintf(&b, "+ %s\n", l)
			n++
		}
	}
	return b.String()
}

func lineSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(s, "\n") {
		m[l] = true
	}
	return m
}

// PromValue runs an instant query on the Prometheus at promURL that returns
// one sample and gives its value.
func PromValue(promURL, expr string) (float64, error) {
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, err
	}
	if len(r.Data.Result) != 1 {
		return 0, fmt.Errorf("%s: %d results", expr, len(r.Data.Result))
	}
	v, _ := r.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(v, 64)
}
