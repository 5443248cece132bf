package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// webhookAlert is one alert of an Alertmanager webhook notification.
type webhookAlert struct {
	Status      string            `json:"status"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
}

// webhook receives Alertmanager's notifications.
type webhook struct {
	mu     sync.Mutex
	alerts []webhookAlert
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Alerts []webhookAlert `json:"alerts"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.alerts = append(h.alerts, msg.Alerts...)
	h.mu.Unlock()
}

// find returns the first alert received with this name, key and status.
func (h *webhook) find(name, keyID, status string) (webhookAlert, bool) {
	return h.findBy(name, "key_id", keyID, status)
}

// findBy is find by another label than key_id.
func (h *webhook) findBy(name, label, value, status string) (webhookAlert, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, a := range h.alerts {
		if a.Labels["alertname"] == name && a.Labels[label] == value && a.Status == status {
			return a, true
		}
	}
	return webhookAlert{}, false
}

// startProcess runs a helper program (Prometheus, Alertmanager) until the
// test ends, and waits until url answers 200.
func startProcess(t *testing.T, readyURL string, name string, args ...string) *testkit.Buffer {
	t.Helper()
	path := testkit.Tool(t, name, map[string]string{"prometheus": "prometheus", "prometheus-alertmanager": "prometheus-alertmanager"}[name])
	out := &testkit.Buffer{}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _, err := get(readyURL); err == nil && code == http.StatusOK {
			return out
		}
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, out.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 30s:\n%s", name, out.String())
		}
	}
}

// startAlertmanager runs Alertmanager on addr, sending every notification
// to hookURL; route is the rest of its route (group_by, routes).
func startAlertmanager(t *testing.T, dir, addr, hookURL, route string) {
	t.Helper()
	config := writeConfig(t, dir, "alertmanager.yml", fmt.Sprintf(`
route:
  receiver: hook%s
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s/
        send_resolved: true
`, route, hookURL))
	startProcess(t, "http://"+addr+"/-/ready", "prometheus-alertmanager",
		"--config.file="+config, "--storage.path="+filepath.Join(dir, "am"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
}

// startPrometheus runs Prometheus on addr, scraping every second with the
// given scrape_configs, evaluating rules and sending alerts to amAddr; it
// returns its URL.
func startPrometheus(t *testing.T, dir, addr, rules, amAddr, scrapeConfigs string) string {
	t.Helper()
	config := writeConfig(t, dir, "prometheus.yml", fmt.Sprintf(`
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [%q]
alerting:
  alertmanagers:
    - static_configs: [{targets: [%q]}]
scrape_configs:%s
`, rules, amAddr, scrapeConfigs))
	url := "http://" + addr
	startProcess(t, url+"/-/ready", "prometheus",
		"--config.file="+config, "--storage.tsdb.path="+filepath.Join(dir, "prom"),
		"--web.listen-address="+addr, "--rules.alert.resend-delay=1s")
	return url
}

func writeConfig(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// promQuery runs an instant query and returns how many series it returned.
func promQuery(promURL, expr string) (int, error) {
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return 0, fmt.Errorf("%w: %s", err, b)
	}
	if r.Status != "success" {
		return 0, fmt.Errorf("query failed: %s", r.Error)
	}
	return len(r.Data.Result), nil
}

// TestRealStack runs the simulator, the exporter, a real Prometheus loading
// alerts/ and a real Alertmanager, turns a BYOK key INVALID and waits for the
// alert at a webhook, then repairs the key and waits for the resolution. It
// also runs every dashboard query against that Prometheus.
func TestRealStack(t *testing.T) {
	testkit.Slow(t)
	s, api := newSimServer(t, sim.DefaultOrg)
	// Odd items on the first page of each list, as the real API can send:
	// the dashboard's panel of what was left out has something to show.
	s.SetFaults(sim.Faults{Body: "odd-items", Page: 1})
	exp := startExporter(t, api.URL, append(startAuditLog(t, s), "--refresh.interval=1s", "--collector.users")...)
	exp.waitFor(t, "/-/ready", 200, 20*time.Second)

	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	dir := t.TempDir()
	overdue := oldestServiceAccountKey(t, s)
	unused := unusedClusterKey(t, s)
	rules := rotationRulesFor(t, dir, overdue)
	amAddr, promAddr := freePort(t), freePort(t)
	// Prometheus scrapes through a proxy that notes what it asked for and
	// what it got, so the test knows the scrape was negotiated as in production.
	target, _ := url.Parse(exp.url)
	seen := &scrapeWitness{}
	proxy := httptest.NewServer(seen.wrap(httputil.NewSingleHostReverseProxy(target)))
	defer proxy.Close()
	startAlertmanager(t, dir, amAddr, hookSrv.URL, `
  group_by: [alertname, organization, owner_id, key_id]
  routes:
    # Whatever else fires at once (the demo organisation's old keys): one notification.
    - matchers: [alertname!~"ConfluentBYOKKeyInvalidInUse|ConfluentAPIKeyRotationOverdue|ConfluentAPIKeyUnused"]
      group_by: [alertname]`)

	promURL := startPrometheus(t, dir, promAddr, rules, amAddr, fmt.Sprintf(`
  - job_name: confluent_keys_exporter
    static_configs: [{targets: [%q]}]`, strings.TrimPrefix(proxy.URL, "http://")))

	// A VALID key protecting clusters turns INVALID.
	var key sim.BYOKKey
	for _, k := range s.BYOKKeys() {
		if k.State == "IN_USE" && k.Validation.Phase == "VALID" {
			key = k
			break
		}
	}
	if key.ID == "" {
		t.Fatal("the simulated org has no VALID key in use")
	}
	s.SetValidation(key.ID, "INVALID", "Access to key denied.", time.Now())

	fired := waitForAlert(t, hook, "ConfluentBYOKKeyInvalidInUse", key.ID, "firing", 90*time.Second)
	wantLabels := map[string]string{
		"severity": "critical", "display_name": key.DisplayName, "provider": key.Provider,
		"region": key.Validation.Region, "validation_message": "Access to key denied.", "job": "confluent_keys_exporter",
	}
	for k, v := range wantLabels {
		if fired.Labels[k] != v {
			t.Errorf("alert label %s=%q, want %q (labels %v)", k, fired.Labels[k], v, fired.Labels)
		}
	}
	if s := fired.Annotations["summary"]; !strings.Contains(s, key.DisplayName) || !strings.Contains(s, key.ID) {
		t.Errorf("summary %q does not name the key", s)
	}
	// The one who must be granted access to the KMS key, named by Prometheus's
	// own query in the description.
	for _, p := range append(key.Key.Roles, key.Key.ApplicationID, key.Key.SecurityGroup) {
		if d := fired.Annotations["description"]; p != "" && !strings.Contains(d, p) {
			t.Errorf("description %q does not name the principal %s", d, p)
		}
	}
	if !strings.Contains(fired.Annotations["runbook_url"], "docs/runbooks.md#confluentbyokkeyinvalidinuse") {
		t.Errorf("runbook_url %q", fired.Annotations["runbook_url"])
	}
	// The Kafka clusters the key encrypts, by name and id: what goes down.
	var clusters int
	for _, c := range s.KafkaClusters() {
		if c.Spec.BYOK != nil && c.Spec.BYOK.ID == key.ID {
			clusters++
			if d := fired.Annotations["description"]; !strings.Contains(d, c.Spec.DisplayName+" ("+c.ID+")") {
				t.Errorf("description %q does not name the cluster %s (%s)", d, c.Spec.DisplayName, c.ID)
			}
		}
	}
	if clusters == 0 {
		t.Fatalf("the simulated key %s encrypts no cluster", key.ID)
	}

	// An API key past the rotation threshold: one alert for its owner,
	// named, the key and its environment named as the oldest, and a link to
	// the dashboard filtered to that owner.
	rotation := waitForOwnerAlert(t, hook, "ConfluentAPIKeyRotationOverdue", overdue.owner.ID, 90*time.Second)
	for _, want := range []string{overdue.owner.DisplayName + " (" + overdue.owner.ID + ")", "the oldest, API key " + overdue.key.ID, overdue.envName} {
		if d := rotation.Annotations["description"]; !strings.Contains(d, want) {
			t.Errorf("rotation description %q does not name %q", d, want)
		}
	}
	if sum := rotation.Annotations["summary"]; !strings.Contains(sum, overdue.owner.DisplayName) {
		t.Errorf("rotation summary %q does not name the owner %s", sum, overdue.owner.DisplayName)
	}
	checkDashboardLink(t, rotation, overdue.owner.ID)

	// Kafka keys no client authenticated with in the audit log: one page
	// for their owner, naming the oldest of them, its cluster by name.
	page := waitForOwnerAlert(t, hook, "ConfluentAPIKeyUnused", unused.owner.ID, 90*time.Second)
	if sum := page.Annotations["summary"]; !strings.Contains(sum, unused.owner.DisplayName+" ("+unused.owner.ID+")") {
		t.Errorf("unused-key summary %q does not name the owner %s", sum, unused.owner.DisplayName)
	}
	m := regexp.MustCompile(`The oldest, API key (\S+) .* on Cluster (.+?) \((lkc-[^)]+)\)`).FindStringSubmatch(page.Annotations["description"])
	if m == nil {
		t.Fatalf("unused-key description %q does not name the oldest key and its cluster", page.Annotations["description"])
	}
	if k, ok := apiKeyByID(s, m[1]); !ok || k.Spec.Owner == nil || k.Spec.Owner.ID != unused.owner.ID || s.KeyUsage()[m[1]] != "unused" {
		t.Errorf("unused-key description names %s, which is no unused key of %s", m[1], unused.owner.ID)
	}
	if c, ok := clusterByID(s, m[3]); !ok || c.Spec.DisplayName != m[2] {
		t.Errorf("unused-key description names cluster %s (%s), which the organisation calls %q", m[2], m[3], c.Spec.DisplayName)
	}
	checkDashboardLink(t, page, unused.owner.ID)

	// A certificate of an mTLS authority's chain about to expire: the
	// critical page names the authority and its identity pools by name.
	authority := s.CertificateAuthorities()[0]
	if !s.SetCertificateExpiry(authority.ID, 0, time.Now().Add(3*24*time.Hour)) {
		t.Fatalf("no certificate to renew on %s", authority.ID)
	}
	var critical webhookAlert
	for deadline := time.Now().Add(90 * time.Second); ; {
		if a, ok := hook.findBy("ConfluentCertificateAuthorityExpiringCritical", "certificate_authority_id", authority.ID, "firing"); ok {
			critical = a
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ConfluentCertificateAuthorityExpiringCritical for %s at the webhook", authority.ID)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if sum := critical.Annotations["summary"]; !strings.Contains(sum, authority.DisplayName+" ("+authority.ID+")") {
		t.Errorf("expiry summary %q does not name the authority %s", sum, authority.DisplayName)
	}
	pools := s.IdentityPoolsOf(authority.ID)
	if len(pools) == 0 {
		t.Fatalf("the simulated authority %s has no identity pool", authority.ID)
	}
	for _, p := range pools {
		if d := critical.Annotations["description"]; !strings.Contains(d, p+" (") {
			t.Errorf("expiry description %q does not name the pool %s", d, p)
		}
	}

	// Every dashboard query returns data from this Prometheus.
	queries := loadDashboards(t)
	deadline := time.Now().Add(30 * time.Second)
	for _, q := range queries {
		for {
			n, err := promQuery(promURL, q.expr)
			if err == nil && n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: panel %q query %s returned no data (%v):\n%s", q.file, q.panel, q.refID, err, q.expr)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	// Panels of keys keep their rows when the names are missing (their
	// collectors off or failing): the same queries with the name metrics
	// absent still return data.
	nameMetrics := regexp.MustCompile(`\b(confluent_iam_service_account_info|confluent_iam_user_info|confluent_environment_info|confluent_kafka_cluster_info)\b`)
	checked := 0
	for _, q := range queries {
		if !nameMetrics.MatchString(q.expr) || !strings.Contains(q.expr, "confluent_byok_key") && !strings.Contains(q.expr, "confluent_iam_api_key") {
			continue
		}
		checked++
		expr := nameMetrics.ReplaceAllString(q.expr, "${1}_absent")
		if n, err := promQuery(promURL, expr); err != nil || n == 0 {
			t.Errorf("%s: panel %q query %s returns nothing without the names (%d, %v)", q.file, q.panel, q.refID, n, err)
		}
	}
	if checked < 3 {
		t.Errorf("only %d panels join names to keys", checked)
	}

	// The README's example queries run (some may select nothing, which is fine).
	for _, q := range readmeQueries(t) {
		if _, err := promQuery(promURL, q); err != nil {
			t.Errorf("README.md query fails in Prometheus: %v\n%s", err, q)
		}
	}
	if n, err := promQuery(promURL, readmeQueries(t)[0]); err != nil || n == 0 {
		t.Errorf("the README's INVALID-in-use query finds nothing (%d, %v) while a key is INVALID", n, err)
	}

	// Prometheus asked for OpenMetrics with gzip, got it (two gzip members)
	// and read every sample of the exposition.
	if enc, ct := seen.last(); enc != "gzip" || !strings.HasPrefix(ct, "application/openmetrics-text") {
		t.Errorf("Prometheus's scrape was answered with Content-Encoding %q, Content-Type %q", enc, ct)
	}
	waitForSamples(t, promURL, exp.url)

	// The key is repaired: the alert resolves.
	s.SetValidation(key.ID, "VALID", "", time.Now())
	waitForAlert(t, hook, "ConfluentBYOKKeyInvalidInUse", key.ID, "resolved", 90*time.Second)
}

// overdueKey is the API key the real-stack test makes overdue, with the
// names its alert must give.
type overdueKey struct {
	key     sim.APIKey
	owner   sim.ServiceAccount
	envName string
	ageDays float64
}

// oldestServiceAccountKey finds the oldest API key owned by a service
// account with a name, on a resource in a named environment.
func oldestServiceAccountKey(t *testing.T, s *sim.Server) overdueKey {
	t.Helper()
	owners := map[string]sim.ServiceAccount{}
	for _, a := range s.ServiceAccounts() {
		owners[a.ID] = a
	}
	envs := map[string]string{}
	for _, e := range s.Environments() {
		envs[e.ID] = e.DisplayName
	}
	var best overdueKey
	for _, k := range s.APIKeys() {
		if k.Spec.Owner == nil || k.Spec.Resource == nil || envs[k.Spec.Resource.Environment] == "" {
			continue
		}
		owner, ok := owners[k.Spec.Owner.ID]
		created, err := time.Parse(time.RFC3339, k.Metadata.CreatedAt)
		if !ok || err != nil {
			continue
		}
		if age := time.Since(created).Hours() / 24; age > best.ageDays {
			best = overdueKey{key: k, owner: owner, envName: envs[k.Spec.Resource.Environment], ageDays: age}
		}
	}
	if best.key.ID == "" {
		t.Fatal("no API key of a named service account in a named environment")
	}
	return best
}

// unusedKey is the API key the real-stack test expects unused, with the
// names its page must give.
type unusedKey struct {
	key     sim.APIKey
	owner   sim.ServiceAccount
	cluster sim.KafkaCluster
}

// unusedClusterKey finds a Kafka cluster key of a named service account
// on a named cluster that never authenticates in the simulated audit log.
func unusedClusterKey(t *testing.T, s *sim.Server) unusedKey {
	t.Helper()
	owners := map[string]sim.ServiceAccount{}
	for _, a := range s.ServiceAccounts() {
		owners[a.ID] = a
	}
	clusters := map[string]sim.KafkaCluster{}
	for _, c := range s.KafkaClusters() {
		clusters[c.ID] = c
	}
	usage := s.KeyUsage()
	for _, k := range s.APIKeys() {
		if usage[k.ID] != "unused" || k.Spec.Owner == nil || k.Spec.Resource == nil || len(k.Spec.Resources) > 0 {
			continue
		}
		owner, named := owners[k.Spec.Owner.ID]
		cluster, onCluster := clusters[k.Spec.Resource.ID]
		if named && onCluster && owner.DisplayName != "" && cluster.Spec.DisplayName != "" {
			return unusedKey{key: k, owner: owner, cluster: cluster}
		}
	}
	t.Fatal("no unused Kafka key of a named service account on a named cluster")
	return unusedKey{}
}

// rotationRulesFor writes alerts/ with the rotation threshold just under the
// age of k, so that only the oldest keys are overdue, the unused-key
// threshold at six days, and without those alerts' hour of waiting. The
// thresholds are recording rules for this.
func rotationRulesFor(t *testing.T, dir string, k overdueKey) string {
	t.Helper()
	b, err := os.ReadFile("alerts/confluent-keys.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules := string(b)
	threshold := "      - record: confluent_keys:api_key_rotation_max_age_days\n        expr: vector(90)\n"
	alert := "      - alert: ConfluentAPIKeyRotationOverdue\n"
	start := strings.Index(rules, alert)
	wait := strings.Index(rules[start:], "        for: 1h\n")
	if !strings.Contains(rules, threshold) || start < 0 || wait < 0 {
		t.Fatal("alerts/confluent-keys.rules.yml: the rotation threshold or the rotation alert's `for` moved")
	}
	rules = rules[:start+wait] + "        for: 0s\n" + rules[start+wait+len("        for: 1h\n"):]
	rules = strings.Replace(rules, threshold, fmt.Sprintf(
		"      - record: confluent_keys:api_key_rotation_max_age_days\n        expr: vector(%.3f)\n", k.ageDays-0.5), 1)
	// Unused for six days: the audit log's window (seven days back from the
	// exporter's start) covers that at once. No hour to wait.
	unused := "      - record: confluent_keys:api_key_unused_days\n        expr: vector(30)\n"
	alert = "      - alert: ConfluentAPIKeyUnused\n"
	start = strings.Index(rules, alert)
	wait = strings.Index(rules[start:], "        for: 1h\n")
	if !strings.Contains(rules, unused) || start < 0 || wait < 0 {
		t.Fatal("alerts/confluent-keys.rules.yml: the unused-key threshold or the unused-key alert's `for` moved")
	}
	rules = rules[:start+wait] + "        for: 0s\n" + rules[start+wait+len("        for: 1h\n"):]
	rules = strings.Replace(rules, unused, "      - record: confluent_keys:api_key_unused_days\n        expr: vector(6)\n", 1)
	return writeConfig(t, dir, "rules.yml", rules)
}

// scrapeWitness records the encoding and type of the responses it passes on.
type scrapeWitness struct {
	mu                    sync.Mutex
	encoding, contentType string
}

func (w *scrapeWitness) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rec := &headerWitness{ResponseWriter: rw, w: w}
		next.ServeHTTP(rec, r)
	})
}

func (w *scrapeWitness) last() (string, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.encoding, w.contentType
}

type headerWitness struct {
	http.ResponseWriter
	w *scrapeWitness
}

func (h *headerWitness) WriteHeader(code int) {
	h.w.mu.Lock()
	h.w.encoding, h.w.contentType = h.Header().Get("Content-Encoding"), h.Header().Get("Content-Type")
	h.w.mu.Unlock()
	h.ResponseWriter.WriteHeader(code)
}

// waitForSamples waits until Prometheus's scrape_samples_scraped for the
// exporter equals the samples of a direct scrape (the per-scrape part can
// gain a series between the two, hence the retries), and logs Prometheus's
// own scrape_duration_seconds.
func waitForSamples(t *testing.T, promURL, exporterURL string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		scraped, err := testkit.PromValue(promURL, `scrape_samples_scraped{job="confluent_keys_exporter"}`)
		direct := directSamples(t, exporterURL)
		if err == nil && scraped == float64(direct) {
			d, _ := testkit.PromValue(promURL, `scrape_duration_seconds{job="confluent_keys_exporter"}`)
			t.Logf("Prometheus scraped %d samples; its scrape_duration_seconds %.1f ms (through the test's proxy)", direct, d*1000)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus scraped %v samples (%v), a direct scrape has %d", scraped, err, direct)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// directSamples counts the samples of an identity text scrape.
func directSamples(t *testing.T, exporterURL string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, exporterURL+"/metrics", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	n := 0
	for line := range strings.SplitSeq(string(b), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}

// waitForOwnerAlert waits for the firing alert name of the owner ownerID.
func waitForOwnerAlert(t *testing.T, hook *webhook, name, ownerID string, within time.Duration) webhookAlert {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if a, ok := hook.findBy(name, "owner_id", ownerID, "firing"); ok {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("no firing %s alert for owner %s at the webhook within %s", name, ownerID, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkDashboardLink: the alert links to the dashboard with the owner's
// keys, in the alert's job, instance and organisation.
func checkDashboardLink(t *testing.T, a webhookAlert, ownerID string) {
	t.Helper()
	u, err := url.Parse(a.Annotations["dashboard"])
	if err != nil || !strings.HasPrefix(u.Path, "/d/confluent-keys/") {
		t.Fatalf("%s: dashboard link %q does not open the dashboard", a.Labels["alertname"], a.Annotations["dashboard"])
	}
	q := u.Query()
	want := map[string]string{"var-owner": ownerID, "var-organization": a.Labels["organization"], "var-job": a.Labels["job"], "var-instance": a.Labels["instance"]}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s: dashboard link %s=%q, want %q", a.Labels["alertname"], k, q.Get(k), v)
		}
	}
}

func apiKeyByID(s *sim.Server, id string) (sim.APIKey, bool) {
	for _, k := range s.APIKeys() {
		if k.ID == id {
			return k, true
		}
	}
	return sim.APIKey{}, false
}

func clusterByID(s *sim.Server, id string) (sim.KafkaCluster, bool) {
	for _, c := range s.KafkaClusters() {
		if c.ID == id {
			return c, true
		}
	}
	return sim.KafkaCluster{}, false
}

func waitForAlert(t *testing.T, hook *webhook, name, keyID, status string, within time.Duration) webhookAlert {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if a, ok := hook.find(name, keyID, status); ok {
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s %s alert for key %s at the webhook within %s", status, name, keyID, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
