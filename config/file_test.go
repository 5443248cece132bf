package config

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// flagDefaults is an organisation as the flags' defaults make it.
func flagDefaults() Organization {
	u, _ := url.Parse("https://api.confluent.cloud")
	return Organization{
		Name: DefaultOrganization, URL: u.String(), BaseURL: u, Timeout: 30 * time.Second, PageSize: 100, MaxItems: 250000, Interval: 5 * time.Minute,
		Collectors: Collectors{APIKeysPerKey: true, On: map[string]bool{
			"byok": true, "api_keys": true, "service_accounts": true, "users": false, "environments": true,
			"kafka_clusters": true, "quotas": true, "organization": true,
			"certificate_authorities": true, "certificate_identity_pools": true, "identity_providers": true, "identity_pools": true,
		}},
		AuditLog: AuditLog{Topic: auditlog.DefaultTopic, Lookback: DefaultAuditLogLookback, TLS: true},
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "prod.secret", "s3cr3t-value\n")
	path := writeFile(t, dir, "orgs.yml", `
organizations:
  - name: production
    api_key: PRODKEY
    api_secret_file: `+secretPath+`
  - name: bu-2.eu
    api_key: BUKEY
    api_secret_file: `+secretPath+`
    url: http://127.0.0.1:10062
    refresh_interval: 10m
    page_size: 50
    collectors:
      users: true
      quotas: false
  - name: scoped
    api_key: SCOPEDKEY
    api_secret_file: `+secretPath+`
    collectors: {users: true, quota_scopes: [organization, user_account]}
`)
	orgs, err := LoadFile(path, flagDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 3 {
		t.Fatalf("%d organisations, want 3", len(orgs))
	}
	if got := strings.Join(orgs[2].Scopes(), ","); got != "ORGANIZATION,USER_ACCOUNT" {
		t.Errorf("quota_scopes: %s", got)
	}
	if got := strings.Join(orgs[0].Scopes(), ","); got != "ORGANIZATION,SERVICE_ACCOUNT,KAFKA_CLUSTER" {
		t.Errorf("the default quota scopes: %s", got)
	}
	prod, bu := orgs[0], orgs[1]
	want := flagDefaults()
	want.Name, want.APIKey, want.Secret, want.SecretFrom = "production", "PRODKEY", secret.File(secretPath), "file "+secretPath
	if !prod.Equal(want) || prod.SecretFrom != want.SecretFrom {
		t.Errorf("production: %+v, want the flags' defaults with its key: %+v", prod, want)
	}
	if s, err := prod.Secret.Secret(context.Background()); err != nil || s != "s3cr3t-value" {
		t.Errorf("secret %q, %v", s, err)
	}
	if bu.Name != "bu-2.eu" || bu.BaseURL.String() != "http://127.0.0.1:10062" || bu.Interval != 10*time.Minute ||
		bu.PageSize != 50 || !bu.On["users"] || bu.On["quotas"] || !bu.On["byok"] || bu.Timeout != 30*time.Second {
		t.Errorf("bu-2.eu: %+v", bu)
	}
	if prod.Equal(bu) {
		t.Error("two organisations compare equal")
	}
}

// TestLoadFileAuditLog: an organisation's audit_log block, completed with
// the flags' topic, lookback, CA file and TLS; an organisation without one
// has no audit log, whatever the flags say.
func TestLoadFileAuditLog(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "s", "the-secret")
	audit := writeFile(t, dir, "audit.secret", "audit-secret\n")
	path := writeFile(t, dir, "orgs.yml", `
organizations:
  - name: production
    api_key: PRODKEY
    api_secret_file: `+secretPath+`
    audit_log:
      bootstrap_servers: [SASL_SSL://pkc-1.us-west-2.aws.confluent.cloud:9092]
      api_key: AUDITKEY
      api_secret_file: `+audit+`
      lookback: 24h
  - name: staging
    api_key: STAGINGKEY
    api_secret_file: `+secretPath+`
`)
	defaults := flagDefaults()
	defaults.AuditLog.Bootstrap, defaults.AuditLog.APIKey, defaults.AuditLog.Topic = []string{"flags:9092"}, "FLAGKEY", "audit-copy"
	orgs, err := LoadFile(path, defaults)
	if err != nil {
		t.Fatal(err)
	}
	a := orgs[0].AuditLog
	want := AuditLog{
		Bootstrap: []string{"pkc-1.us-west-2.aws.confluent.cloud:9092"}, APIKey: "AUDITKEY", Secret: secret.File(audit),
		Topic: "audit-copy", Lookback: 24 * time.Hour, TLS: true,
	}
	if !a.Equal(want) || a.SecretFrom != "file "+audit {
		t.Errorf("production's audit log %+v, want %+v", a, want)
	}
	if orgs[1].AuditLog.Enabled() {
		t.Errorf("staging has an audit log: %+v", orgs[1].AuditLog)
	}
	changed := orgs[0]
	changed.AuditLog.Lookback = time.Hour
	if changed.Equal(orgs[0]) {
		t.Error("a changed audit log compares equal: a reload would not restart it")
	}
}

// TestLoadFileLimits: the limits themselves are accepted.
func TestLoadFileLimits(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "s", "the-secret")
	for _, extra := range []string{"refresh_interval: 1s", "page_size: 1", "page_size: 100"} {
		path := writeFile(t, dir, "orgs.yml", "organizations:\n  - name: a\n    api_key: K\n    api_secret_file: "+secretPath+"\n    "+extra+"\n")
		if _, err := LoadFile(path, flagDefaults()); err != nil {
			t.Errorf("%s: %v", extra, err)
		}
	}
}

// TestLoadFileSize: a file of maxFileSize bytes is read; one byte more is
// refused, naming the limit.
func TestLoadFileSize(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "s", "the-secret")
	body := "organizations:\n  - name: a\n    api_key: K\n    api_secret_file: " + secretPath + "\n#"
	pad := strings.Repeat("x", maxFileSize-len(body)-1) + "\n"
	path := writeFile(t, dir, "orgs.yml", body+pad)
	if _, err := LoadFile(path, flagDefaults()); err != nil {
		t.Errorf("a file of %d bytes: %v", maxFileSize, err)
	}
	path = writeFile(t, dir, "orgs.yml", body+"x"+pad)
	if _, err := LoadFile(path, flagDefaults()); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", maxFileSize)) {
		t.Errorf("a file of %d bytes: %v", maxFileSize+1, err)
	}
}

// TestLoadFileErrors: every mistake is one line naming the file, the line
// and the organisation.
func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "s", "the-secret")
	org := func(name, extra string) string {
		return "  - name: " + name + "\n    api_key: K\n    api_secret_file: " + secretPath + "\n" + extra
	}
	for _, tc := range []struct {
		name, content, want string
	}{
		{
			"unknown field", "organizations:\n" + org("prod", "    api_secert_file: x\n"),
			`orgs.yml:5: organization "prod": field api_secert_file not found in an organization`,
		},
		{"unknown top-level field", "organisations: []\n", `orgs.yml:1: field organisations not found at the top level`},
		{
			"unknown collector", "organizations:\n" + org("prod", "    collectors:\n      byok_keys: true\n"),
			`orgs.yml:6: organization "prod": field byok_keys not found in collectors`,
		},
		{
			"duplicate name", "organizations:\n" + org("prod", "") + org("prod", ""),
			`orgs.yml:5: organization "prod": the name is used twice (first at line 2)`,
		},
		{
			"missing secret file", "organizations:\n  - name: prod\n    api_key: K\n    api_secret_file: /nonexistent/s\n",
			`orgs.yml:2: organization "prod": unreadable api_secret_file: the secret file (it does not exist; its path is not shown, in case it is the secret itself): no such file or directory`,
		},
		{"no secret file", "organizations:\n  - name: prod\n    api_key: K\n", `orgs.yml:2: organization "prod": no api_secret_file`},
		{"no key", "organizations:\n  - name: prod\n    api_secret_file: " + secretPath + "\n", `orgs.yml:2: organization "prod": no API key: set api_key`},
		{"no name", "organizations:\n  - api_key: K\n", `orgs.yml:2: organization #1: no name`},
		{"bad name", "organizations:\n" + org("prod finance", ""), `orgs.yml:2: organization "prod finance": the name must be`},
		{
			"plain http", "organizations:\n" + org("prod", "    url: http://api.confluent.cloud\n"),
			`orgs.yml:2: organization "prod": url="http://api.confluent.cloud": plain http is allowed only for a loopback host`,
		},
		{"bad interval", "organizations:\n" + org("prod", "    refresh_interval: 500ms\n"), `orgs.yml:2: organization "prod": refresh_interval=500ms is under the minimum of 1s`},
		{
			"unparsable interval", "organizations:\n" + org("prod", "    refresh_interval: soon\n"),
			"orgs.yml:5: organization \"prod\": refresh_interval is a duration with a unit: write it as 30s, 5m or 1h (cannot unmarshal !!str a value into time.Duration)",
		},
		{"page size", "organizations:\n" + org("prod", "    page_size: 500\n"), `organization "prod": page_size=500 is outside 1..100`},
		{
			"no collectors", "organizations:\n" + org("prod", "    collectors: {byok: false, api_keys: false, service_accounts: false, environments: false, kafka_clusters: false, quotas: false, organization: false, certificate_authorities: false, certificate_identity_pools: false, identity_providers: false, identity_pools: false}\n"),
			`organization "prod": every collector is disabled`,
		},
		{
			"unknown quota scope", "organizations:\n" + org("prod", "    collectors: {quota_scopes: [organisation]}\n"),
			`organization "prod": collectors.quota_scopes: unknown quota scope "organisation"`,
		},
		{
			"user quotas without users", "organizations:\n" + org("prod", "    collectors: {quota_scopes: [user_account]}\n"),
			`organization "prod": quota scope user_account needs the users collector`,
		},
		{
			"unknown audit_log field", "organizations:\n" + org("prod", "    audit_log:\n      bootstrap: [x:1]\n"),
			`orgs.yml:6: organization "prod": field bootstrap not found in audit_log`,
		},
		{
			"audit_log without servers", "organizations:\n" + org("prod", "    audit_log: {api_key: A, api_secret_file: "+secretPath+"}\n"),
			`organization "prod": audit_log has no bootstrap_servers`,
		},
		{
			"audit_log without secret file", "organizations:\n" + org("prod", "    audit_log: {bootstrap_servers: [pkc-1:9092], api_key: A}\n"),
			`organization "prod": audit_log has no api_secret_file`,
		},
		{
			"audit_log without key", "organizations:\n" + org("prod", "    audit_log: {bootstrap_servers: [pkc-1:9092], api_secret_file: "+secretPath+"}\n"),
			`organization "prod": the audit log has no API key: set audit_log.api_key`,
		},
		{
			"audit_log plain remote", "organizations:\n" + org("prod", "    audit_log: {bootstrap_servers: [pkc-1:9092], api_key: A, api_secret_file: "+secretPath+", tls: false}\n"),
			`organization "prod": audit_log.tls: false: plain Kafka (no TLS) is allowed only for loopback brokers`,
		},
		{
			"audit_log bad server", "organizations:\n" + org("prod", "    audit_log: {bootstrap_servers: [pkc-1], api_key: A, api_secret_file: "+secretPath+"}\n"),
			`organization "prod": audit_log.bootstrap_servers: server 1 of 1: no port: write host:9092`,
		},
		{
			"audit_log lookback", "organizations:\n" + org("prod", "    audit_log: {bootstrap_servers: [pkc-1:9092], api_key: A, api_secret_file: "+secretPath+", lookback: -1h}\n"),
			`organization "prod": audit_log.lookback=-1h0m0s must be positive`,
		},
		{"a second document", "organizations:\n" + org("prod", "") + "---\norganizations: []\n", `orgs.yml:5: a second YAML document (after ---): the file is one document`},
		{"max items", "organizations:\n" + org("prod", "    max_items: -1\n"), `organization "prod": max_items=-1 must be positive`},
		{"a value in the wrong place", "organizations:\n" + org("prod", "    page_size: hunter2-the-secret\n"), `orgs.yml:5: organization "prod": cannot unmarshal !!str a value into int`},
		{"empty file", "", `orgs.yml: the file is empty; it must list organizations`},
		{
			"a secret written in the file", "organizations:\n" + org("prod", "    api_secret: hunter2-the-secret\n"),
			`orgs.yml:5: organization "prod": field api_secret not found in an organization: the secret is never written in this file; put it in a file of its own and name that file with api_secret_file`,
		},
		{
			"the audit log's secret written in the file", "organizations:\n" + org("prod", "    audit_log: {bootstrap_servers: [pkc-1:9092], api_key: A, api_secret: hunter2-the-secret}\n"),
			`field api_secret not found in audit_log: the secret is never written in this file; put it in a file of its own and name that file with api_secret_file`,
		},
		{"a typo", "organizations:\n" + org("prod", "    refresh_intervall: 1m\n"), `orgs.yml:5: organization "prod": field refresh_intervall not found in an organization: did you mean refresh_interval?`},
		{"a collector's typo", "organizations:\n" + org("prod", "    collectors: {bypk: false}\n"), `field bypk not found in collectors: did you mean byok?`},
		{"a key far from any", "organizations:\n" + org("prod", "    colour: blue\n"), `field colour not found in an organization"`},
		{"a secret as a key", "organizations:\n" + org("prod", "    Hunter2+the/SECRET: 1\n"), `orgs.yml:5: organization "prod": unknown field (not shown: it may be a secret) in an organization`},
		{"a number for a duration", "organizations:\n" + org("prod", "    refresh_interval: 5\n"), `orgs.yml:5: organization "prod": refresh_interval is a duration with a unit: write it as 30s, 5m or 1h (cannot unmarshal !!int a value into time.Duration)`},
		{"empty list", "organizations: []\n", `orgs.yml: no organizations listed`},
		{"not YAML", "organizations: [\n", `orgs.yml:1: did not find expected node content`},
		{"a list of strings", "organizations:\n  - prod\n", "orgs.yml:2: organization #1: cannot unmarshal !!str a value into an organization"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "orgs.yml", tc.content)
			_, err := LoadFile(path, flagDefaults())
			if err == nil || !strings.Contains(err.Error()+`"`, tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			for _, secretPath := range []string{"hunter2", "secret/"} {
				if strings.Contains(strings.ToLower(err.Error()), secretPath) {
					t.Fatalf("error %q shows a value of the file", err)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes a value of the file: %q", err)
			}
			if !strings.HasPrefix(err.Error(), path) {
				t.Errorf("error does not start with the file: %q", err)
			}
		})
	}
	if _, err := LoadFile(filepath.Join(dir, "missing.yml"), flagDefaults()); err == nil || !strings.Contains(err.Error(), "--config.file=") {
		t.Errorf("missing file: %v", err)
	}
}

// TestLoadFileManyMistakes: a file of thousands of mistakes is one error
// listing ten and how many more, whose size does not follow the file's.
func TestLoadFileManyMistakes(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("organizations:\n  - name: a\n")
	for i := 0; b.Len() < maxFileSize-40; i++ {
		fmt.Fprintf(&b, "    unknown%d: 1\n", i)
	}
	path := writeFile(t, dir, "orgs.yml", b.String())
	_, err := LoadFile(path, flagDefaults())
	if err == nil || strings.Count(err.Error(), "not found in an organization") != maxErrors ||
		!regexp.MustCompile(`; and \d+ more$`).MatchString(err.Error()) || len(err.Error()) > 2000 {
		t.Fatalf("%d bytes of error: %.300s", len(err.Error()), err)
	}
}

// TestConfigFileFlag: with --config.file the flags are the defaults, no
// API key or secretPath is needed of them, and the file is read at Check.
func TestConfigFileFlag(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "s", "the-secret")
	path := writeFile(t, dir, "orgs.yml", "organizations:\n  - name: a\n    api_key: K\n    api_secret_file: "+secretPath+"\n")
	cfg, err := parseFlags(t, []string{"--config.file=" + path, "--refresh.interval=2m", "--no-collector.quotas"}, nil).Check(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := cfg.Organizations()
	if err != nil || len(orgs) != 1 || orgs[0].Name != "a" || orgs[0].Interval != 2*time.Minute || orgs[0].On["quotas"] {
		t.Fatalf("%+v, %v", orgs, err)
	}
	bad := writeFile(t, dir, "bad.yml", "organizations:\n  - name: a\n")
	if _, err := parseFlags(t, []string{"--config.file=" + bad}, nil).Check(os.Getenv); err == nil || !strings.Contains(err.Error(), "bad.yml:2") {
		t.Errorf("a bad file passed Check: %v", err)
	}
	// Without the file: one organisation, named default.
	cfg, err = parseFlags(t, nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret"}).Check(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if orgs, err := cfg.Organizations(); err != nil || len(orgs) != 1 || orgs[0].Name != DefaultOrganization || orgs[0].APIKey != "k" {
		t.Errorf("flags only: %+v, %v", orgs, err)
	}
}

// TestSettingsNamedWhereWritten: one check for the flags and the file, each
// setting named as written where it came from: an organisation of the file
// that takes a bad value from a flag is told of the flag.
func TestSettingsNamedWhereWritten(t *testing.T) {
	dir := t.TempDir()
	secretPath := writeFile(t, dir, "s", "the-secret")
	path := writeFile(t, dir, "orgs.yml", "organizations:\n  - name: a\n    api_key: K\n    api_secret_file: "+secretPath+"\n")
	defaults := flagDefaults()
	defaults.Interval = 10 * time.Millisecond
	_, err := LoadFile(path, defaults)
	if want := `orgs.yml:2: organization "a": --refresh.interval=10ms is under the minimum of 1s`; err == nil || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("error %v, want it to end %q", err, want)
	}
	path = writeFile(t, dir, "orgs.yml", "organizations:\n  - name: a\n    api_key: K\n    api_secret_file: "+secretPath+"\n    refresh_interval: 10ms\n")
	if _, err := LoadFile(path, flagDefaults()); err == nil || !strings.Contains(err.Error(), `organization "a": refresh_interval=10ms`) {
		t.Fatalf("error %v, want refresh_interval named", err)
	}
}
