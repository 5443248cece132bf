package main

// The audit log through the built binary: configured in --config.file, read
// with the secret from its file; a wrong secret reported as unauthorized,
// logged with the key and never the secret.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
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

	e := run(orgs(good))
	e.waitFor(t, "/-/ready", 200, 20*time.Second)
	metrics := e.waitForBody(t, "/metrics", `confluent_audit_log_caught_up{organization="acme"} 1`, 30*time.Second)
	var used int
	for _, u := range s.KeyUsage() {
		if u != "unused" {
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
