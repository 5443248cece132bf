package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExampleFile: examples/organizations.yml loads, once its secret files
// exist, and says what the README says it does.
func TestExampleFile(t *testing.T) {
	raw, err := os.ReadFile("../examples/organizations.yml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.ReplaceAll(string(raw), "/etc/confluent_keys_exporter/", dir+"/")
	for _, f := range []string{"production.secret", "analytics.secret", "production-audit.secret"} {
		writeFile(t, dir, f, "the-secret")
	}
	path := writeFile(t, dir, "organizations.yml", text)
	orgs, err := LoadFile(path, flagDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 2 || orgs[0].Name != "production" || orgs[1].Name != "analytics" || orgs[1].On["quotas"] || orgs[1].On["users"] ||
		!orgs[1].On["byok"] || orgs[1].Interval.Minutes() != 10 || orgs[0].SecretFrom != "file "+filepath.Join(dir, "production.secret") ||
		!orgs[0].AuditLog.Enabled() || orgs[0].AuditLog.APIKey != "AUDITKEY0000000" || orgs[1].AuditLog.Enabled() {
		t.Errorf("the example says something else: %+v", orgs)
	}
}
