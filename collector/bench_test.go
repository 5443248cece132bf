package collector

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// benchSizes are the organisations of docs/benchmarks.md: N API keys and 500
// BYOK keys. `go test -short` (the smoke run in make test) uses the first only.
var benchSizes = []int{1000, 10000, 100000}

func sizes(*testing.B) []int {
	if testing.Short() {
		return benchSizes[:1]
	}
	return benchSizes
}

// benchRefresher returns a Refresher that has refreshed once from a simulated
// organisation of n API keys and 500 BYOK keys, and the simulator. (The
// scrape benchmarks are scrape's: scrape/bench_test.go.)
func benchRefresher(b *testing.B, n int) (*Refresher, *sim.Server) {
	b.Helper()
	s := sim.New(sim.Config{Org: sim.OrgConfig{Seed: 1, BYOKKeys: 500, APIKeys: n, Quirks: true}, APIKey: testKey, APISecret: testSecret, RateLimit: 1 << 30})
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	u, _ := url.Parse(ts.URL)
	c, err := apiclient.New(apiclient.Config{BaseURL: u, APIKey: testKey, Secret: secret.Static(testSecret)})
	if err != nil {
		b.Fatal(err)
	}
	// The quota scopes of a default deployment with the users collector on.
	opts := allOn
	opts.Collectors = append(slices.Clone(allOn.Collectors), identitiesOn.Collectors...)
	opts.QuotaScopes = []string{apiclient.ScopeOrganization, apiclient.ScopeServiceAccount, apiclient.ScopeKafkaCluster, apiclient.ScopeUserAccount}
	e := newRefresher(c, opts)
	e.Refresh(context.Background(), time.Now().Add(5*time.Minute))
	if !e.Ready() {
		b.Fatal("refresh failed")
	}
	return e, s
}

// BenchmarkRefresh reads every list from the simulator with no added
// latency and turns them into metrics; MB/s is JSON decoded per second.
func BenchmarkRefresh(b *testing.B) {
	for _, n := range sizes(b) {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			e, s := benchRefresher(b, n)
			bytesPerRefresh := int64(0)
			served := s.BytesServed()
			e.Refresh(context.Background(), time.Now().Add(5*time.Minute))
			bytesPerRefresh = s.BytesServed() - served
			b.SetBytes(bytesPerRefresh)
			before := len(s.Requests())
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				e.Refresh(context.Background(), time.Now().Add(5*time.Minute))
			}
			b.StopTimer()
			if !e.Ready() {
				b.Fatal("refresh failed")
			}
			want := s.MinimalRequests(100, true)
			got := (len(s.Requests()) - before) / max(b.N, 1)
			if got != want {
				b.Fatalf("%d requests per refresh, want the minimum %d", got, want)
			}
			b.ReportMetric(float64(got), "requests/refresh")
		})
	}
}
