package main

// The audit log through the built binary: configured in --config.file, read
// with the secret from its file; a wrong secret reported as unauthorized,
// logged with the key and never the secret; what it told kept across
// restarts.

import (
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

func TestAuditLogThroughTheBinary(t *testing.T) {
	s, api := newSimServer(t, sim.OrgConfig{Seed: 3, APIKeys: 200, BYOKKeys: 3, Quirks: true, AuditLog: true})
	b, err := sim.StartAuditLog(s, sim.AuditLogOptions{Secret: e2eAuditSecret, TLS: true, History: 7 * 24 * time.Hour, Others: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	dir := t.TempDir()
	ca := writeConfig(t, dir, "ca.pem", string(b.CAPEM()))
	secret := writeConfig(t, dir, "secret", e2eSecret)
	good := writeConfig(t, dir, "audit.secret", e2eAuditSecret)
	wrong := writeConfig(t, dir, "wrong.secret", "not-the-audit-secret-"+e2eAuditSecret[:4])
	orgs := func(auditSecret string) string {
		return writeConfig(t, dir, filepath.Base(auditSecret)+".yml", fmt.Sprintf(`
organizations:
  - name: acme
    api_key: %s
    api_secret_file: %s
    url: %s
    audit_log:
      bootstrap_servers: ["SASL_SSL://%s"]
      api_key: %s
      api_secret_file: %s
      ca_file: %s
`, e2eKey, secret, api.URL, b.Addrs()[0], s.AuditLog().KeyID, auditSecret, ca))
	}
	run := func(cfg string) *exporter {
		addr := freePort(t)
		cmd := exec.Command(binary, "--web.listen-address="+addr, "--config.file="+cfg)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		return runExporter(t, cmd, addr)
	}

	// --config.check says where the audit log is read from.
	out, err := exec.Command(binary, "--config.check", "--config.file="+orgs(good)).CombinedOutput()
	want := fmt.Sprintf("  acme: audit log %s, topic confluent-audit-log-events, API key %s, secret from file %s, lookback 168h0m0s\n",
		b.Addrs()[0], s.AuditLog().KeyID, good)
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("--config.check: %v\n%s\nwant the line %q", err, out, want)
	}

	e := run(orgs(good))
	e.waitFor(t, "/-/ready", 200, 20*time.Second)
	metrics := e.waitForBody(t, "/metrics", `confluent_audit_log_caught_up{organization="acme"} 1`, 30*time.Second)
	var used int
	for _, u := range s.KeyUsage() {
		if u != "unused" && u != "unaudited" {
			used++
		}
	}
	last := regexp.MustCompile(`(?m)^confluent_iam_api_key_last_authenticated_timestamp_seconds\{`)
	e.until(t, "/metrics", fmt.Sprintf("%d last authentications", used), func(m string) bool {
		metrics = m
		return len(last.FindAllString(m, -1)) == used
	})
	for _, want := range []string{
		`confluent_audit_log_up{organization="acme"} 1`,
		`confluent_audit_log_info{key_id="` + s.AuditLog().KeyID + `",organization="acme",topic="confluent-audit-log-events"} 1`,
		`confluent_audit_log_errors_total{organization="acme",reason="unauthorized"} 0`,
		`confluent_iam_api_key_authentication_failures_total{key_id="",organization="acme"}`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("no %s", want)
		}
	}
	if !strings.Contains(e.output.String(), `msg="Audit log configured" organization=acme bootstrap_servers=`+b.Addrs()[0]) {
		t.Errorf("the start-up line does not say where the audit log is:\n%s", e.output)
	}

	// A wrong secret: the broker closes the connection; the exporter says
	// unauthorized, names the key, and never the secret.
	bad := run(orgs(wrong))
	bad.waitFor(t, "/-/ready", 200, 20*time.Second)
	bad.until(t, "/metrics", "an unauthorized error", func(m string) bool {
		return regexp.MustCompile(`confluent_audit_log_errors_total\{organization="acme",reason="unauthorized"\} [1-9]`).MatchString(m)
	})
	if out := bad.output.String(); !strings.Contains(out, "reason=unauthorized") || !strings.Contains(out, s.AuditLog().KeyID) {
		t.Errorf("the log does not say the audit-log key %s was refused:\n%s", s.AuditLog().KeyID, out)
	}
	if strings.Contains(bad.output.String(), "not-the-audit-secret") {
		t.Error("the wrong secret is in the log")
	}
}

// TestAuditLogUsageSurvivesRestarts: stopped (SIGTERM), the exporter saves
// what the audit log told under --storage.path; started again it reads
// only what was written while it was down, with the same last
// authentications and the same window start. Killed (SIGKILL), it resumes
// from its last save and loses nothing either.
func TestAuditLogUsageSurvivesRestarts(t *testing.T) {
	s, api := newSimServer(t, sim.OrgConfig{Seed: 5, APIKeys: 150, BYOKKeys: 2, AuditLog: true})
	b, err := sim.StartAuditLog(s, sim.AuditLogOptions{Secret: e2eAuditSecret, TLS: true, History: 7 * 24 * time.Hour, Others: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ca := writeConfig(t, t.TempDir(), "ca.pem", string(b.CAPEM()))
	storage := t.TempDir()
	args := []string{
		"--refresh.interval=1h", "--storage.path=" + storage,
		"--audit-log.bootstrap-servers=" + strings.Join(b.Addrs(), ","),
		"--audit-log.api-key=" + s.AuditLog().KeyID, "--audit-log.ca-file=" + ca,
	}
	run := func() (*exporter, map[string]float64) {
		e := startExporter(t, api.URL, args...)
		m := e.waitForBody(t, "/metrics", `confluent_audit_log_caught_up{organization="default"} 1`, 30*time.Second)
		return e, familyValues(t, m)
	}
	ctx := context.Background()
	var daily []string
	for id, u := range s.KeyUsage() {
		if u == "daily" {
			daily = append(daily, id)
		}
	}
	slices.Sort(daily)

	first, v1 := run()
	window := v1[`confluent_audit_log_window_start_timestamp_seconds{organization="default"}`]
	first.stop(t, syscall.SIGTERM)
	file := filepath.Join(storage, "audit-log-default.json")
	info, err := os.Stat(file)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("state file %s: %v (mode %v), want one of mode 0600", file, err, info)
	}
	raw, _ := os.ReadFile(file)
	if strings.Contains(string(raw), e2eAuditSecret) || strings.Contains(string(raw), e2eSecret) {
		t.Error("a secret is in the state file")
	}

	// Written while it was down.
	at := time.Now().Truncate(time.Millisecond)
	must(t, b.Authenticate(ctx, sim.Authentication{Identifier: daily[0], Success: true, Time: at},
		sim.Authentication{Identifier: "TYPED", Unknown: true}))
	second, v2 := run()
	if n := readTotal(v2); n != 2 {
		t.Errorf("read %v records after a restart, want the 2 written while it was down", n)
	}
	if w := v2[`confluent_audit_log_window_start_timestamp_seconds{organization="default"}`]; w != window {
		t.Errorf("window start %v after a restart, want %v", w, window)
	}
	want := lastAuthentications(v1)
	want[daily[0]] = float64(at.UnixMilli()) / 1000
	if got := lastAuthentications(v2); !maps.Equal(got, want) {
		t.Errorf("last authentications after a restart differ:\n%s", testkit.LineDiff(fmt.Sprint(want), fmt.Sprint(got)))
	}

	// Killed: what was read since the last save is read again, nothing lost.
	second.stop(t, syscall.SIGKILL)
	later := time.Now().Truncate(time.Millisecond)
	must(t, b.Authenticate(ctx, sim.Authentication{Identifier: daily[1], Success: true, Time: later}))
	third, v3 := run()
	want[daily[1]] = float64(later.UnixMilli()) / 1000
	if got := lastAuthentications(v3); !maps.Equal(got, want) {
		t.Errorf("last authentications after a kill differ:\n%s", testkit.LineDiff(fmt.Sprint(want), fmt.Sprint(got)))
	}
	if w := v3[`confluent_audit_log_window_start_timestamp_seconds{organization="default"}`]; w != window {
		t.Errorf("window start %v after a kill, want %v", w, window)
	}
	if v3[`confluent_audit_log_state_saved_timestamp_seconds{organization="default"}`] == 0 {
		t.Error("no confluent_audit_log_state_saved_timestamp_seconds after a restart")
	}
	third.stop(t, syscall.SIGTERM)
}

// familyValues reads a scrape into series → value, series written as
// name{labels sorted}.
func familyValues(t *testing.T, body string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// lastAuthentications are the last authentications of a scrape, by key.
func lastAuthentications(values map[string]float64) map[string]float64 {
	re := regexp.MustCompile(`^confluent_iam_api_key_last_authenticated_timestamp_seconds\{key_id="([^"]*)"`)
	out := map[string]float64{}
	for s, v := range values {
		if m := re.FindStringSubmatch(s); m != nil {
			out[m[1]] = v
		}
	}
	return out
}

// readTotal is how many audit-log records the exporter read.
func readTotal(values map[string]float64) float64 {
	var n float64
	for s, v := range values {
		if strings.HasPrefix(s, "confluent_audit_log_records_total{") {
			n += v
		}
	}
	return n
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
