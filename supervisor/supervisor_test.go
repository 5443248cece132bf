package supervisor

// The supervisor over real simulated organisations on one loopback
// listener (told apart by their API keys, as Confluent Cloud does) and the
// real API client: independence, reload, /probe and refresh on probe.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/config"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/scrape"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// world is three simulated organisations behind one listener.
type world struct {
	healthy, broken, slow *sim.Server
	url                   *url.URL
	secret                string // a file holding every organisation's secret
	wrong                 string // a file holding a secret no organisation accepts
}

func newWorld(t *testing.T) *world {
	t.Helper()
	org := func(seed uint64, key string) *sim.Server {
		return sim.New(sim.Config{
			Org:    sim.OrgConfig{Seed: seed, BYOKKeys: 4, APIKeys: 30, ID: "org-" + key, DisplayName: "Org " + key},
			APIKey: key, APISecret: "the-secret",
		})
	}
	w := &world{healthy: org(1, "HEALTHY"), broken: org(2, "BROKEN"), slow: org(3, "SLOW")}
	ts := httptest.NewServer(sim.Organizations{w.healthy, w.broken, w.slow})
	t.Cleanup(ts.Close)
	w.url, _ = url.Parse(ts.URL)
	dir := t.TempDir()
	w.secret, w.wrong = filepath.Join(dir, "secret"), filepath.Join(dir, "wrong")
	for p, s := range map[string]string{w.secret: "the-secret", w.wrong: "not-the-secret"} {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// org is the configuration of one organisation of w.
func (w *world) org(name, key, secretFile string, interval time.Duration) config.Organization {
	return config.Organization{
		Name: name, BaseURL: w.url, APIKey: key, Secret: secret.File(secretFile), Timeout: 5 * time.Second,
		PageSize: 10, Interval: interval,
		Collectors: config.Collectors{APIKeysPerKey: true, On: map[string]bool{"byok": true, "api_keys": true, "service_accounts": true, "organization": true}},
	}
}

// served is a supervisor with the server of what it reads, as main wires
// them.
type served struct {
	*Supervisor
	*scrape.Server
	reg *prometheus.Registry // the server's registry: every organisation's health
}

func newSupervisor(t *testing.T, opts Options) (*served, *testkit.Buffer) {
	return newSupervisorWait(t, opts, 0)
}

// newSupervisorWait is newSupervisor with the server's first-probe wait.
func newSupervisorWait(t *testing.T, opts Options, firstProbeWait time.Duration) (*served, *testkit.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logs := &testkit.Buffer{}
	opts.Logger = log.NewLogfmtLogger(logs)
	reg := prometheus.NewRegistry()
	opts.Server = scrape.NewServer(scrape.ServerOpts{Registry: reg, ProbeOnly: opts.OnProbe, FirstProbeWait: firstProbeWait})
	s := New(ctx, opts)
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return &served{s, opts.Server, reg}, logs
}

// health gathers the organisations' health and upstream metrics.
func health(t *testing.T, s *served) string {
	t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "confluent_") {
			if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
				t.Fatal(err)
			}
		}
	}
	return b.String()
}

// keys scrapes /metrics as Prometheus does and returns the organisations'
// series (what their lists say, not their health or requests).
func keys(t *testing.T, s *served) string {
	t.Helper()
	code, body := get(t, s.Metrics(), "/metrics", http.Header{"Accept": {"text/plain;version=0.0.4"}})
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	var b strings.Builder
	for line := range strings.SplitSeq(body, "\n") {
		name, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE "), "{")
		if strings.HasPrefix(name, "confluent_") && !strings.HasPrefix(name, "confluent_refresh_") &&
			!strings.HasPrefix(name, "confluent_http_") && !strings.HasPrefix(name, "confluent_rate_limit") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

func count(s *sim.Server) int { return len(s.Requests()) }

// TestOrganizationsAreIndependent: one organisation refused (401), one
// slow (its lists held), one healthy. Each shows its own series, health
// and reasons; the healthy one refreshes again and again while the slow
// one is still on its first refresh; nothing waits for another.
func TestOrganizationsAreIndependent(t *testing.T) {
	w := newWorld(t)
	w.slow.SetFaults(sim.Faults{Hold: true})
	s, logs := newSupervisor(t, Options{})
	err := s.Apply([]config.Organization{
		w.org("healthy", "HEALTHY", w.secret, time.Second),
		w.org("broken", "BROKEN", w.wrong, time.Minute),
		w.org("slow", "SLOW", w.secret, time.Minute),
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the healthy organisation refreshed three times while the slow one is held", func() bool {
		return strings.Count(logs.String(), `msg="Refresh complete" organization=healthy collector=byok`) >= 3
	})
	if w.slow.Held() == 0 {
		t.Fatal("the slow organisation is not held")
	}
	got := keys(t, s)
	if !strings.Contains(got, `confluent_byok_keys{organization="healthy",`) {
		t.Errorf("the healthy organisation's keys are not served:\n%.2000s", got)
	}
	if strings.Contains(got, `organization="broken"`) || strings.Contains(got, `organization="slow"`) {
		t.Errorf("series of an organisation that never completed a refresh:\n%s", got)
	}
	if !strings.Contains(got, `confluent_organization_info{display_name="Org HEALTHY",organization="healthy",organization_id="org-HEALTHY"} 1`) {
		t.Errorf("no organization_info of the healthy organisation:\n%.3000s", got)
	}
	h := health(t, s)
	for _, want := range []string{
		`confluent_refresh_success{collector="byok",organization="healthy"} 1`,
		`confluent_refresh_success{collector="byok",organization="broken"} 0`,
		`confluent_refresh_errors_total{collector="byok",organization="broken",reason="unauthorized"} 1`,
		`confluent_refresh_errors_total{collector="byok",organization="healthy",reason="unauthorized"} 0`,
		`confluent_http_requests_total{code="401",endpoint="byok_keys",organization="broken"} 1`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("health lacks %s:\n%s", want, h)
		}
	}
	if strings.Contains(h, `confluent_refresh_success{collector="byok",organization="slow"}`) {
		t.Error("the slow organisation's refresh is reported before it ended")
	}
	if s.Ready() {
		t.Error("ready while two organisations have no complete refresh")
	}
	if len(logs.Lines(`organization=broken`, `reason=unauthorized`, "hint=")) == 0 {
		t.Errorf("the refused organisation's failure is not logged with its name and a hint:\n%s", logs.String())
	}

	w.slow.SetFaults(sim.Faults{}) // the slow lists answer now
	eventually(t, 10*time.Second, "the slow organisation's keys are served", func() bool {
		return strings.Contains(keys(t, s), `confluent_byok_keys{organization="slow",`)
	})
	// Both are served together, each family once, series sorted.
	got = keys(t, s)
	if strings.Count(got, "# TYPE confluent_byok_keys gauge") != 1 {
		t.Errorf("a family twice:\n%s", got)
	}
	if i, j := strings.Index(got, `confluent_byok_key_info{cloud_key_id`), strings.Index(got, `organization="slow"`); i < 0 || j < 0 {
		t.Fatalf("missing series:\n%s", got)
	}
}

// TestReloadAddsRemovesAndRestarts: Apply adds, removes and restarts
// organisations; an unchanged one keeps running with its data; a removed
// one's series disappear.
func TestReloadAddsRemovesAndRestarts(t *testing.T) {
	w := newWorld(t)
	s, logs := newSupervisor(t, Options{})
	healthy := w.org("healthy", "HEALTHY", w.secret, time.Minute)
	if err := s.Apply([]config.Organization{healthy}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "healthy ready", s.Ready)
	before := count(w.healthy)

	slow := w.org("slow", "SLOW", w.secret, time.Minute)
	if err := s.Apply([]config.Organization{healthy, slow}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the added organisation ready", s.Ready)
	if count(w.healthy) != before {
		t.Errorf("the unchanged organisation was refreshed again by the reload: %d requests, had %d", count(w.healthy), before)
	}
	if got := s.Names(); strings.Join(got, ",") != "healthy,slow" {
		t.Errorf("names %v", got)
	}
	both := keys(t, s)
	if !strings.Contains(both, `organization="healthy"`) || !strings.Contains(both, `organization="slow"`) {
		t.Fatalf("not both served:\n%.1000s", both)
	}

	if err := s.Apply([]config.Organization{slow}); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, s) + health(t, s); strings.Contains(got, `organization="healthy"`) {
		t.Errorf("the removed organisation's series are still served:\n%s", got)
	}
	if len(logs.Lines(`msg="Stopped organization: no longer configured"`, "organization=healthy")) != 1 {
		t.Errorf("the removal is not logged:\n%s", logs.String())
	}
	after := count(w.healthy)
	slow.PageSize = 5
	if err := s.Apply([]config.Organization{slow}); err != nil {
		t.Fatal(err)
	}
	if len(logs.Lines(`msg="Restarting organization: its configuration changed"`, "organization=slow")) != 1 {
		t.Errorf("the restart is not logged:\n%s", logs.String())
	}
	eventually(t, 10*time.Second, "the restarted organisation ready", s.Ready)
	if count(w.healthy) != after {
		t.Error("a removed organisation still sends requests")
	}
}

func get(t *testing.T, h http.Handler, target string, header http.Header) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// TestProbeServesOneOrganization: /probe?organization=NAME serves that organisation's series
// and health only; an unknown or missing name is a clear 4xx.
func TestProbeServesOneOrganization(t *testing.T) {
	w := newWorld(t)
	s, _ := newSupervisor(t, Options{})
	if err := s.Apply([]config.Organization{
		w.org("healthy", "HEALTHY", w.secret, time.Minute), w.org("slow", "SLOW", w.secret, time.Minute),
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "ready", s.Ready)
	code, body := get(t, s.Probe(), "/probe?organization=slow", nil)
	if code != 200 || !strings.Contains(body, `confluent_byok_keys{organization="slow"`) ||
		!strings.Contains(body, `confluent_refresh_success{collector="byok",organization="slow"} 1`) ||
		!strings.Contains(body, `confluent_rate_limit_remaining{endpoint="byok_keys",organization="slow"}`) {
		t.Errorf("probe of slow: %d\n%.2000s", code, body)
	}
	if strings.Contains(body, `organization="healthy"`) || strings.Contains(body, "go_goroutines") {
		t.Errorf("the probe serves more than its organisation:\n%s", body)
	}
	code, body = get(t, s.Probe(), "/probe?organization=nope", nil)
	if code != 404 || !strings.Contains(body, `Unknown organization "nope"`) || !strings.Contains(body, "healthy, slow") {
		t.Errorf("unknown organisation: %d %.300q", code, body)
	}
	if code, body = get(t, s.Probe(), "/probe", nil); code != 400 || !strings.Contains(body, "organization parameter is missing") {
		t.Errorf("no organisation: %d %.300q", code, body)
	}
}

// TestRefreshOnProbe: with OnProbe an organisation sends no request until
// it is probed; the first probe starts it and answers with its first
// refresh; it stops after three intervals without a probe; /metrics
// serves no organisation's series.
func TestRefreshOnProbe(t *testing.T) {
	w := newWorld(t)
	s, logs := newSupervisor(t, Options{OnProbe: true})
	if err := s.Apply([]config.Organization{
		w.org("healthy", "HEALTHY", w.secret, 200*time.Millisecond), w.org("slow", "SLOW", w.secret, time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	if !s.Ready() {
		t.Error("not ready: organisations refreshed on probe are not waited for")
	}
	if count(w.healthy)+count(w.slow) != 0 {
		t.Fatal("requests sent before any probe")
	}
	code, body := get(t, s.Probe(), "/probe?organization=healthy", http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"5"}})
	if code != 200 || !strings.Contains(body, `confluent_byok_keys{organization="healthy"`) {
		t.Fatalf("first probe: %d\n%.1000s", code, body)
	}
	if count(w.slow) != 0 {
		t.Error("an organisation never probed sent requests")
	}
	if got := keys(t, s) + health(t, s); got != "" {
		t.Errorf("/metrics serves organisation series with refresh on probe:\n%s", got)
	}
	eventually(t, 10*time.Second, "stopped after three intervals without a probe", func() bool {
		return len(logs.Lines(`msg="Stopped refreshing organization: not probed for 3 refresh intervals"`, "organization=healthy")) == 1
	})
	// The stop waited for the refresh loops to end: nothing sends now.
	stopped := count(w.healthy)
	// The next probe starts it again, afresh.
	if code, body := get(t, s.Probe(), "/probe?organization=healthy", nil); code != 200 || !strings.Contains(body, `confluent_byok_keys{organization="healthy"`) {
		t.Errorf("probe after the stop: %d\n%.500s", code, body)
	}
	if count(w.healthy) == stopped {
		t.Error("the probe after the stop did not start the organisation again")
	}
}

// TestMetricsServesEveryOrganization: /metrics serves every organisation's
// series, each family once under one HELP and TYPE.
func TestMetricsServesEveryOrganization(t *testing.T) {
	w := newWorld(t)
	s, _ := newSupervisor(t, Options{})
	if err := s.Apply([]config.Organization{w.org("b", "HEALTHY", w.secret, time.Minute)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "ready", s.Ready)
	if err := s.Apply([]config.Organization{w.org("b", "HEALTHY", w.secret, time.Minute), w.org("a", "SLOW", w.secret, time.Minute)}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "both ready", func() bool { return s.Ready() && strings.Contains(keys(t, s), `organization="a"`) })
	got := keys(t, s)
	for _, name := range []string{"confluent_byok_keys", "confluent_iam_api_key_info", "confluent_organization_info"} {
		if n := strings.Count(got, "# TYPE "+name+" "); n != 1 {
			t.Errorf("%s: %d TYPE lines, want 1", name, n)
		}
		for _, org := range []string{"a", "b"} {
			if !strings.Contains(got, name+"{") || !strings.Contains(got, `organization="`+org+`"`) {
				t.Errorf("%s of %s missing", name, org)
			}
		}
	}
}

// TestRemovedOrganizationIsNotStartedByALateProbe: a probe that found an
// organisation just before a reload removed it does not start it again.
func TestRemovedOrganizationIsNotStartedByALateProbe(t *testing.T) {
	w := newWorld(t)
	s, _ := newSupervisor(t, Options{OnProbe: true})
	if err := s.Apply([]config.Organization{w.org("healthy", "HEALTHY", w.secret, time.Minute)}); err != nil {
		t.Fatal(err)
	}
	o := s.orgs["healthy"]
	if err := s.Apply(nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the probe's wait: none
	o.probed(ctx)
	if o.current().done != nil {
		t.Error("a removed organisation was started by a probe")
	}
	if count(w.healthy) != 0 {
		t.Error("a removed organisation sent requests")
	}
}

// TestShortIntervalIsWarned: an organisation refreshed more often than every
// 30s is warned about, by name; one at the limit is not.
func TestShortIntervalIsWarned(t *testing.T) {
	w := newWorld(t)
	s, logs := newSupervisor(t, Options{OnProbe: true})
	if err := s.Apply([]config.Organization{
		w.org("fast", "HEALTHY", w.secret, 29*time.Second), w.org("calm", "SLOW", w.secret, 30*time.Second),
	}); err != nil {
		t.Fatal(err)
	}
	if len(logs.Lines("level=warn", "spends the API's rate limit fast", "organization=fast")) != 1 ||
		len(logs.Lines("level=warn", "organization=calm")) != 0 {
		t.Errorf("warnings:\n%s", logs.String())
	}
}

// TestProbedOrganizationKeepsRunning: while probes keep coming, an
// organisation refreshed on probe is never stopped, however many intervals
// pass.
func TestProbedOrganizationKeepsRunning(t *testing.T) {
	w := newWorld(t)
	s, logs := newSupervisor(t, Options{OnProbe: true})
	interval := 200 * time.Millisecond // stopped after 600ms without a probe; probes come every 50ms
	if err := s.Apply([]config.Organization{w.org("healthy", "HEALTHY", w.secret, interval)}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * interval); time.Now().Before(deadline); {
		if code, _ := get(t, s.Probe(), "/probe?organization=healthy", nil); code != 200 {
			t.Fatalf("probe: %d", code)
		}
		if len(logs.Lines("Stopped refreshing organization")) != 0 {
			t.Fatalf("stopped while probed every %s:\n%s", interval/4, logs.String())
		}
		time.Sleep(interval / 4) // the probes' own pace, as Prometheus's scrape interval
	}
}

// TestFirstProbeWaitsWithinTheScrapeTimeout: the probe that starts an
// organisation waits for its first refresh, but answers (with what there is)
// before the scrape timeout Prometheus sends; without one, it waits
// firstProbeWait.
func TestFirstProbeWaitsWithinTheScrapeTimeout(t *testing.T) {
	const firstProbeWait = 300 * time.Millisecond
	for _, tc := range []struct {
		timeout string
		wait    time.Duration
	}{
		{"3", 2400 * time.Millisecond}, // 80% of it: the rest is left to answer before Prometheus gives up
		{"0", firstProbeWait},          // no usable timeout: the default
		{"", firstProbeWait},
	} {
		h := http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {tc.timeout}}
		w := newWorld(t)
		w.slow.SetFaults(sim.Faults{Hold: true}) // the first refresh never ends
		s, _ := newSupervisorWait(t, Options{OnProbe: true}, firstProbeWait)
		if err := s.Apply([]config.Organization{w.org("slow", "SLOW", w.secret, time.Minute)}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code, body := get(t, s.Probe(), "/probe?organization=slow", h)
		took := time.Since(start)
		if code != 200 || strings.Contains(body, "confluent_byok_keys{") {
			t.Errorf("timeout %q: %d, or keys served before their first refresh completed", tc.timeout, code)
		}
		// It waited the whole wait for a refresh that never ends, and then
		// answered: how long answering takes is the machine's load, not
		// the exporter's choice (scrape's TestProbeWait checks the wait exactly), so
		// the upper bound only says it did not wait for the refresh.
		if took < tc.wait || took > tc.wait+10*time.Second {
			t.Errorf("timeout %q: answered after %s, want %s and then at once", tc.timeout, took, tc.wait)
		}
		w.slow.SetFaults(sim.Faults{}) // let the held refresh end
	}
}

// TestAuditLogReaderOutlivesAReload: a reload that changes an
// organisation but not its audit log keeps the reader reading; one that
// changes the CA file's content (the same path) starts a new reader, which
// resumes from what the old one saved.
func TestAuditLogReaderOutlivesAReload(t *testing.T) {
	w := newWorld(t)
	b, err := sim.StartAuditLog(nil, sim.AuditLogOptions{APIKey: "AUDITKEY0000001", Secret: "audit-secret-0123", TLS: true})
	if err == nil {
		err = b.Authenticate(context.Background(), sim.Authentication{Identifier: "K1", Success: true})
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("ca.pem", string(b.CAPEM()))
	auditSecret := write("audit.secret", "audit-secret-0123")
	load := func(interval string) []config.Organization {
		file := write("orgs.yml", `organizations:
  - name: healthy
    api_key: HEALTHY
    api_secret_file: `+w.secret+`
    refresh_interval: `+interval+`
    audit_log:
      bootstrap_servers: [`+b.Addrs()[0]+`]
      api_key: AUDITKEY0000001
      api_secret_file: `+auditSecret+`
      ca_file: `+ca+`
`)
		defaults := w.org("default", "X", w.secret, time.Minute)
		defaults.URL, defaults.MaxItems = w.url.String(), 1000
		defaults.AuditLog = config.AuditLog{Topic: auditlog.DefaultTopic, Lookback: config.DefaultAuditLogLookback, TLS: true}
		orgs, err := config.LoadFile(file, defaults)
		if err != nil {
			t.Fatal(err)
		}
		return orgs
	}
	s, logs := newSupervisor(t, Options{StoragePath: filepath.Join(dir, "data")})
	if err := s.Apply(load("1m")); err != nil {
		t.Fatal(err)
	}
	reader := func() *auditReader { return s.orgs["healthy"].auditOf() }
	first := reader()
	eventually(t, 20*time.Second, "caught up", func() bool { return first.reader.Status().CaughtUp })

	if err := s.Apply(load("2m")); err != nil {
		t.Fatal(err)
	}
	if reader() != first || len(logs.Lines("its audit log is read on", "organization=healthy")) != 1 {
		t.Fatalf("a reload of the refresh interval restarted the audit-log reader:\n%s", logs)
	}
	select {
	case <-first.done:
		t.Fatal("the reader stopped")
	default:
	}

	// The same path, another content: a CA added.
	other, err := sim.StartAuditLog(nil, sim.AuditLogOptions{APIKey: "K", Secret: "other-secret", TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	other.Close()
	write("ca.pem", string(b.CAPEM())+string(other.CAPEM()))
	if err := s.Apply(load("2m")); err != nil {
		t.Fatal(err)
	}
	second := reader()
	if second == first {
		t.Fatal("a new CA file's content did not restart the reader")
	}
	<-first.done // stopped, and saved
	eventually(t, 20*time.Second, "caught up again", func() bool { return second.reader.Status().CaughtUp })
	var read uint64
	for _, n := range second.reader.Status().Records {
		read += n
	}
	if read != 0 || len(logs.Lines("Resuming the audit log where it was saved", "organization=healthy", "partitions=6")) != 1 {
		t.Errorf("the new reader read %d records (want none: nothing was written since) or did not resume:\n%s", read, logs)
	}
}
