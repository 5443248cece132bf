package config

// The flag checks, through the real kingpin flags; the root package's
// e2e_test.go keeps a few through the binary for what only it shows (exit
// code 1, one line on stderr).

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

// parseFlags parses args with the exporter's own flags, and env as the environment.
func parseFlags(t *testing.T, args []string, env map[string]string) *Flags {
	t.Helper()
	app := kingpin.New("confluent_keys_exporter", "")
	f := AddFlags(app)
	// Only the variables env names are set, whatever the test runner's environment holds.
	for _, k := range []string{
		"CONFLUENT_CLOUD_URL", "CONFLUENT_CLOUD_API_KEY", "CONFLUENT_CLOUD_API_SECRET_FILE", SecretEnv, "CONFLUENT_REFRESH_INTERVAL",
		"CONFLUENT_AUDIT_LOG_API_KEY", "CONFLUENT_AUDIT_LOG_API_SECRET_FILE", AuditLogSecretEnv,
		"CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS", "CONFLUENT_AUDIT_LOG_TOPIC", "CONFLUENT_AUDIT_LOG_LOOKBACK", "CONFLUENT_AUDIT_LOG_CA_FILE", "CONFLUENT_AUDIT_LOG_TLS",
	} {
		t.Setenv(k, "") // restored when the test ends
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	if _, err := app.Parse(args); err != nil {
		t.Fatalf("parse %v: %v", args, err)
	}
	return f
}

// TestQuotaScopes: the default scopes, with user_account when users are
// on; what --collector.quotas.scopes asks for otherwise, upper case, once each.
func TestQuotaScopes(t *testing.T) {
	env := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "ORGANIZATION,SERVICE_ACCOUNT,KAFKA_CLUSTER"},
		{[]string{"--collector.users"}, "ORGANIZATION,SERVICE_ACCOUNT,KAFKA_CLUSTER,USER_ACCOUNT"},
		{[]string{"--collector.users", "--collector.quotas.scopes=organization"}, "ORGANIZATION"},
		{[]string{"--collector.quotas.scopes=kafka-cluster,KAFKA_CLUSTER,environment"}, "KAFKA_CLUSTER,ENVIRONMENT"},
	} {
		cfg, err := parseFlags(t, tc.args, env).Check(os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(cfg.Scopes(), ","); got != tc.want {
			t.Errorf("%v: scopes %s, want %s", tc.args, got, tc.want)
		}
	}
}

// TestFlagMistakesNameTheFlag: every mistake in the flags and environment is
// refused with an error naming what to fix; every good value is taken.
func TestFlagMistakesNameTheFlag(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("\ufefffrom-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	key := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k"}
	both := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: " from-env \n"}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // "" for a valid configuration
	}{
		{"defaults with key and secret", nil, both, ""},
		{"no key", nil, map[string]string{SecretEnv: "the-secret"}, "no API key: set --confluent.api-key or CONFLUENT_CLOUD_API_KEY"},
		{"key by flag", []string{"--confluent.api-key=k"}, map[string]string{SecretEnv: "the-secret"}, ""},
		{"no secret", nil, key, "no API secret: set --confluent.api-secret-file or " + SecretEnv},
		{"blank secret", nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: " \n"}, "no API secret"},
		{"short secret", nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "abc"}, "$" + SecretEnv + ": the secret is shorter than 8 characters"},
		{"two-line secret", nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret\nmore"}, "$" + SecretEnv + ": the secret holds more than one line"},
		{"secret file", []string{"--confluent.api-secret-file=" + secretFile}, key, ""},
		{"missing secret file", []string{"--confluent.api-secret-file=/nonexistent/secret"}, key, "unreadable --confluent.api-secret-file: the secret file (it does not exist; its path is not shown"},
		{"page size 0", []string{"--confluent.page-size=0"}, both, "--confluent.page-size=0 is outside 1..100"},
		{"page size 1", []string{"--confluent.page-size=1"}, both, ""},
		{"page size 100", []string{"--confluent.page-size=100"}, both, ""},
		{"page size 101", []string{"--confluent.page-size=101"}, both, "--confluent.page-size=101 is outside 1..100"},
		{"interval 999ms", []string{"--refresh.interval=999ms"}, both, "--refresh.interval=999ms is under the minimum of 1s"},
		{"interval 1s", []string{"--refresh.interval=1s"}, both, ""},
		{"interval from env", nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", "CONFLUENT_REFRESH_INTERVAL": "10ms"}, "--refresh.interval=10ms is under the minimum of 1s"},
		{"timeout 0", []string{"--confluent.timeout=0s"}, both, "--confluent.timeout=0s must be positive"},
		{"timeout 1ns", []string{"--confluent.timeout=1ns"}, both, ""},
		{"max requests -1", []string{"--web.max-requests=-1"}, both, "--web.max-requests=-1 must not be negative"},
		{"max requests 0", []string{"--web.max-requests=0"}, both, ""},
		{"telemetry path", []string{"--web.telemetry-path=metrics"}, both, `--web.telemetry-path must start with /`},
		{"telemetry path taken", []string{"--web.telemetry-path=/probe"}, both, `--web.telemetry-path="/probe" is taken by the exporter's own endpoint of that name`},
		{"telemetry path reload", []string{"--web.telemetry-path=/-/reload"}, both, "is taken"},
		{"telemetry path pprof", []string{"--web.telemetry-path=/debug/pprof/"}, both, "is taken"},
		{"telemetry path under pprof", []string{"--web.telemetry-path=/debug/pprof/heap"}, both, "is taken"},
		{"telemetry path with a space", []string{"--web.telemetry-path=/a b"}, both, `must start with / and hold only letters, digits and /_.-`},
		{"telemetry path with a brace", []string{"--web.telemetry-path=/{"}, both, `must start with / and hold only`},
		{"telemetry path long", []string{"--web.telemetry-path=/" + strings.Repeat("{", 1000)}, both, `(the value given is not shown)`},
		{"telemetry path nested", []string{"--web.telemetry-path=/exporters/confluent_keys.metrics"}, both, ""},
		{"max items", []string{"--confluent.max-items=1000000"}, both, ""},
		{"no max items", []string{"--confluent.max-items=0"}, both, "--confluent.max-items=0 must be positive"},
		{"URL with credentials", []string{"--confluent.url=https://user:hunter2@api.confluent.cloud"}, both, "must not carry credentials (user:password@)"},
		{"URL with a query", []string{"--confluent.url=https://api.confluent.cloud/?token=hunter2"}, both, `--confluent.url="https://api.confluent.cloud/"... must not have a query`},
		{"URL that is no URL", []string{"--confluent.url=https://user:hunter2@h%zz/?token=hunter2"}, both, "--confluent.url is not a URL: invalid URL escape"},
		{"no collectors", noCollectors, both, "every collector is disabled (the --collector.* flags): nothing to export"},
		{"only BYOK", only("byok"), both, ""},
		{"only API keys", only("api-keys"), both, ""},
		{"only service accounts", only("service-accounts"), both, ""},
		{"only users", append(only("users"), "--collector.users"), both, ""},
		{"only environments", only("environments"), both, ""},
		{"only Kafka clusters", only("kafka-clusters"), both, ""},
		{"only quotas", only("quotas"), both, ""},
		{"only certificate authorities", only("certificate-authorities"), both, ""},
		{"only certificate identity pools", only("certificate-identity-pools"), both, ""},
		{"only identity providers", only("identity-providers"), both, ""},
		{"only identity pools", only("identity-pools"), both, ""},
		{"bad URL", []string{"--confluent.url=::nope"}, both, "--confluent.url is not a URL"},
		{"quota scopes", []string{"--collector.quotas.scopes=Kafka-Cluster, organization"}, both, ""},
		{"unknown quota scope", []string{"--collector.quotas.scopes=organization,cluster"}, both, `--collector.quotas.scopes: unknown quota scope "cluster" (one of organization, environment,`},
		{"no quota scope", []string{"--collector.quotas.scopes=,"}, both, "--collector.quotas.scopes: no quota scope"},
		{"user quotas without users", []string{"--collector.quotas.scopes=user_account"}, both, "quota scope user_account needs the users collector"},
		{"user quotas with users", []string{"--collector.quotas.scopes=user_account", "--collector.users"}, both, ""},
		{"user quotas, quotas off", []string{"--collector.quotas.scopes=user_account", "--no-collector.quotas"}, both, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := parseFlags(t, tc.args, tc.env)
			cfg, err := f.Check(os.Getenv)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want == "":
				if cfg.APIKey != "k" || cfg.BaseURL.String() != "https://api.confluent.cloud" {
					t.Errorf("config %+v", cfg)
				}
			case err == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want %q", err, tc.want)
			case strings.Contains(err.Error(), "hunter2"):
				t.Fatalf("the error quotes a credential: %q", err)
			}
		})
	}
}

// noCollectors are the flags that turn every collector off (users is off by default).
var noCollectors = []string{
	"--no-collector.byok", "--no-collector.api-keys", "--no-collector.service-accounts",
	"--no-collector.environments", "--no-collector.kafka-clusters", "--no-collector.quotas", "--no-collector.organization",
	"--no-collector.certificate-authorities", "--no-collector.certificate-identity-pools",
	"--no-collector.identity-providers", "--no-collector.identity-pools",
}

// only is noCollectors but for one.
func only(name string) []string {
	var out []string
	for _, f := range noCollectors {
		if f != "--no-collector."+name {
			out = append(out, f)
		}
	}
	return out
}

// TestCollectorFlags: each collector of the registry has its flag,
// --[no-]collector.NAME with dashes, which sets it and nothing else, with
// the registry's default (users off: names are personal data).
func TestCollectorFlags(t *testing.T) {
	env := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret"}
	cfg, err := parseFlags(t, nil, env).Check(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	defaults := map[string]bool{}
	for _, c := range collector.Collectors() {
		defaults[c.Name] = c.Default
	}
	if len(defaults) < 12 || defaults["users"] || !defaults["byok"] || !defaults["api_keys"] {
		t.Fatalf("the registry's defaults %v: want a dozen collectors, users off", defaults)
	}
	if !maps.Equal(cfg.On, defaults) || !cfg.APIKeysPerKey {
		t.Errorf("defaults %v (per key %v), want %v", cfg.On, cfg.APIKeysPerKey, defaults)
	}
	for _, c := range collector.Collectors() {
		flag := "--no-" + c.Flag()
		if !c.Default {
			flag = "--" + c.Flag()
		}
		cfg, err := parseFlags(t, []string{flag}, env).Check(os.Getenv)
		if err != nil {
			t.Fatal(err)
		}
		want := maps.Clone(defaults)
		want[c.Name] = !c.Default
		if !maps.Equal(cfg.On, want) {
			t.Errorf("%s: %v, want %v", flag, cfg.On, want)
		}
	}
	if !strings.Contains(strings.Join(collectorFlagNames(t), " "), "--collector.kafka-clusters") {
		t.Error("no --collector.kafka-clusters: the flag is the name with dashes")
	}
	cfg, err = parseFlags(t, []string{"--no-collector.api-keys.per-key"}, env).Check(os.Getenv)
	if err != nil || cfg.APIKeysPerKey || !cfg.On["api_keys"] {
		t.Errorf("--no-collector.api-keys.per-key: per key %v, api_keys %v (%v)", cfg.APIKeysPerKey, cfg.On["api_keys"], err)
	}
}

// collectorFlagNames are the --collector.* flags the exporter defines.
func collectorFlagNames(t *testing.T) []string {
	t.Helper()
	app := kingpin.New("x", "")
	AddFlags(app)
	var out []string
	for _, f := range app.Model().Flags {
		if strings.HasPrefix(f.Name, "collector.") {
			out = append(out, "--"+f.Name)
		}
	}
	return out
}

// TestSecretSources: where the secret comes from, and that it is what is sent.
func TestSecretSources(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("\ufefffrom-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: " from-env \n"}
	cfg, err := parseFlags(t, nil, env).Check(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := cfg.Secret.Secret(context.Background()); s != "from-env" || cfg.SecretFrom != "$"+SecretEnv {
		t.Errorf("from the environment: %q from %q", s, cfg.SecretFrom)
	}
	// A file wins over the environment.
	cfg, err = parseFlags(t, []string{"--confluent.api-secret-file=" + secretFile}, env).Check(os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if _, isFile := cfg.Secret.(secret.File); !isFile || cfg.SecretFrom != "file "+secretFile {
		t.Errorf("from a file: %T from %q", cfg.Secret, cfg.SecretFrom)
	}
	if s, _ := cfg.Secret.Secret(context.Background()); s != "from-file" {
		t.Errorf("from a file with a byte-order mark: %q", s)
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url, want string // want "" for accepted
	}{
		{"https://api.confluent.cloud", ""},
		{"https://api.confluent.cloud/", ""},
		{"https://proxy.example:8443/confluent", ""},
		{"http://127.0.0.1:10062", ""},
		{"http://127.1.2.3", ""},
		{"http://localhost:8080", ""},
		{"http://LocalHost", ""},
		{"http://[::1]:10062", ""},
		{"http://api.confluent.cloud", "plain http is allowed only for a loopback host; use https"},
		{"http://10.0.0.1", "plain http is allowed only for a loopback host"},
		{"http://[::2]", "plain http is allowed only for a loopback host"},
		{"http://localhost.example.com", "plain http is allowed only for a loopback host"},
		{"ftp://api.confluent.cloud", "must be an http(s) URL"},
		{"api.confluent.cloud", "must be an http(s) URL"},
		{"https://", "has no host"},
		{"https://:443", "has no host"},
		{"https://u:p@api.confluent.cloud", "must not carry credentials"},
		{"https://api.confluent.cloud?x=1", "must not have a query or fragment"},
		{"https://api.confluent.cloud#top", "must not have a query or fragment"},
		{"::nope", "is not a URL"},
	} {
		u, err := checkURL("--confluent.url", tc.url)
		switch {
		case tc.want == "" && (err != nil || u == nil):
			t.Errorf("%s rejected: %v", tc.url, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.url, err, tc.want)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.255.255.254": true, "::1": true,
		"[::1]":   false, // a host name never has brackets: url.Hostname strips them
		"0.0.0.0": false, "::": false, "128.0.0.1": false, "10.0.0.1": false, "localhost.": false,
		"example.com": false, "": false, "::ffff:127.0.0.1": true,
	} {
		if got := isLoopback(host); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestParseErrorsNameTheFlag: a value kingpin cannot parse is refused with
// the flag's name (and variable) and what it wants; a good one is read.
func TestParseErrorsNameTheFlag(t *testing.T) {
	t.Setenv("CONFLUENT_REFRESH_INTERVAL", "")
	for _, tc := range []struct {
		args []string
		want string // "" for accepted
	}{
		{[]string{"--refresh.interval=5"}, `--refresh.interval (or $CONFLUENT_REFRESH_INTERVAL) is not a duration with a unit (30s, 5m, 1h) (the value given is not shown)`},
		{[]string{"--confluent.timeout=soon"}, `--confluent.timeout is not a duration with a unit`},
		{[]string{"--confluent.page-size=1e2"}, `--confluent.page-size is not a whole number`},
		{[]string{"--web.max-requests=ten"}, `--web.max-requests is not a whole number`},
		{[]string{"--refresh.interval= 90s ", "--confluent.page-size=7", "--web.max-requests=0"}, ""},
	} {
		app := kingpin.New("x", "")
		f := AddFlags(app)
		_, err := app.Parse(tc.args)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.args, err)
		case tc.want == "":
			if *f.interval != 90*time.Second || *f.pageSize != 7 || *f.maxRequests != 0 {
				t.Errorf("%v read as %v, %d, %d", tc.args, *f.interval, *f.pageSize, *f.maxRequests)
			}
		case err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want):
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	// Defaults still apply, and print as they are.
	app := kingpin.New("x", "")
	f := AddFlags(app)
	if _, err := app.Parse(nil); err != nil || *f.interval != 5*time.Minute || *f.timeout != 30*time.Second || *f.pageSize != 100 || *f.maxRequests != 10 {
		t.Errorf("defaults: %v %v %d %d (%v)", *f.interval, *f.timeout, *f.pageSize, *f.maxRequests, err)
	}
	if s := (&namedValue[int]{v: 42}).String(); s != "42" {
		t.Errorf("String() = %q", s)
	}
}

// TestAuditLogFlags: the flags-only organisation's audit log, every mistake
// named by its flag; the secret from a file or the environment, never a flag.
func TestAuditLogFlags(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "audit.secret")
	if err := os.WriteFile(secretFile, []byte("audit-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", "CONFLUENT_AUDIT_LOG_API_KEY": "AUDITKEY", AuditLogSecretEnv: "audit-secret"}
	noSecret := map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", "CONFLUENT_AUDIT_LOG_API_KEY": "AUDITKEY"}
	const servers = "--audit-log.bootstrap-servers=pkc-1.us-west-2.aws.confluent.cloud:9092"
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // "" for a valid configuration
	}{
		{"none", nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret"}, ""},
		{"servers, key and secret", []string{servers}, env, ""},
		{"as the Console writes it", []string{"--audit-log.bootstrap-servers=SASL_SSL://pkc-1.us-west-2.aws.confluent.cloud:9092, pkc-2:9092"}, env, ""},
		{"secret file", []string{servers, "--audit-log.api-secret-file=" + secretFile}, noSecret, ""},
		{"key without servers", nil, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", "CONFLUENT_AUDIT_LOG_API_KEY": "A"}, "--audit-log.api-key or CONFLUENT_AUDIT_LOG_API_KEY is set but --audit-log.bootstrap-servers (or $CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS) is not"},
		{"no key", []string{servers}, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", AuditLogSecretEnv: "the-audit-secret"}, "the audit log has no API key: set --audit-log.api-key or CONFLUENT_AUDIT_LOG_API_KEY"},
		{"no secret", []string{servers}, noSecret, "the audit log has no API secret: set --audit-log.api-secret-file or " + AuditLogSecretEnv},
		{"short secret", []string{servers}, map[string]string{"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", "CONFLUENT_AUDIT_LOG_API_KEY": "A", AuditLogSecretEnv: "abc"}, "$" + AuditLogSecretEnv + ": the secret is shorter than 8 characters"},
		{"missing secret file", []string{servers, "--audit-log.api-secret-file=/nonexistent/audit"}, noSecret, "unreadable --audit-log.api-secret-file: the secret file (it does not exist; its path is not shown"},
		{"no port", []string{"--audit-log.bootstrap-servers=pkc-1.confluent.cloud"}, env, `--audit-log.bootstrap-servers (or $CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS): server 1 of 1: no port: write host:9092`},
		{"bad port", []string{"--audit-log.bootstrap-servers=pkc-1:9092,pkc-1:99999"}, env, `server 2 of 2: the port must be 1-65535`},
		{"a URL", []string{"--audit-log.bootstrap-servers=https://pkc-1:9092"}, env, `server 1 of 1: want host:port (SASL_SSL:// is the only scheme understood)`},
		{"no host", []string{"--audit-log.bootstrap-servers=:9092"}, env, `server 1 of 1: no host: write host:9092`},
		{"servers from the environment", nil, map[string]string{
			"CONFLUENT_CLOUD_API_KEY": "k", SecretEnv: "the-secret", "CONFLUENT_AUDIT_LOG_API_KEY": "AUDITKEY", AuditLogSecretEnv: "audit-secret",
			"CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS": "pkc-1.us-west-2.aws.confluent.cloud:9092",
		}, ""},
		{"plain to a remote broker", []string{servers, "--no-audit-log.tls"}, env, "--no-audit-log.tls: plain Kafka (no TLS) is allowed only for loopback brokers, and pkc-1.us-west-2.aws.confluent.cloud:9092 is not"},
		{"plain on loopback", []string{"--audit-log.bootstrap-servers=127.0.0.1:9092", "--no-audit-log.tls"}, env, ""},
		{"no lookback", []string{servers, "--audit-log.lookback=0s"}, env, "--audit-log.lookback=0s must be positive"},
		{"bad lookback", []string{servers, "--audit-log.lookback=7d"}, env, ""}, // parse error below
		{"no topic", []string{servers, "--audit-log.topic="}, env, "--audit-log.topic is empty"},
		{"API keys off", []string{servers, "--no-collector.api-keys"}, env, "the audit log needs the API keys collector"},
		{"CA file missing", []string{servers, "--audit-log.ca-file=/nonexistent/ca.pem"}, env, "--audit-log.ca-file: open /nonexistent/ca.pem"},
		{"CA file not PEM", []string{servers, "--audit-log.ca-file=" + notPEM}, env, "--audit-log.ca-file=" + notPEM + " holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := kingpin.New("confluent_keys_exporter", "")
			AddFlags(app)
			if tc.name == "bad lookback" {
				if _, err := app.Parse(tc.args); err == nil || !strings.Contains(err.Error(), `--audit-log.lookback (or $CONFLUENT_AUDIT_LOG_LOOKBACK) is not a duration`) {
					t.Fatalf("parse error %v", err)
				}
				return
			}
			cfg, err := parseFlags(t, tc.args, tc.env).Check(os.Getenv)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want == "":
				a := cfg.AuditLog
				if (len(tc.args) > 0 || tc.env["CONFLUENT_AUDIT_LOG_BOOTSTRAP_SERVERS"] != "") && (!a.Enabled() || a.APIKey != "AUDITKEY" || a.Topic != auditlog.DefaultTopic || a.Lookback != 168*time.Hour) {
					t.Errorf("audit log %+v", a)
				}
				if len(tc.args) > 0 && strings.HasPrefix(a.Bootstrap[0], "SASL_SSL") {
					t.Errorf("bootstrap servers %q, want host:port", a.Bootstrap)
				}
				if a.Enabled() {
					if s, err := a.Secret.Secret(context.Background()); err != nil || s != "audit-secret" {
						t.Errorf("secret %q, %v", s, err)
					}
				}
			case err == nil:
				t.Fatalf("accepted, want %q", tc.want)
			case !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
}

// TestAPILimitsAgree: what config checks of the API's limits is what the
// client enforces.
func TestAPILimitsAgree(t *testing.T) {
	if maxPageSize != apiclient.MaxPageSize || defaultMaxItems != apiclient.DefaultMaxItems || apiclient.ScopeUserAccount != "USER_ACCOUNT" {
		t.Errorf("config: page size %d, max items %d; apiclient: %d, %d, %q", maxPageSize, defaultMaxItems,
			apiclient.MaxPageSize, apiclient.DefaultMaxItems, apiclient.ScopeUserAccount)
	}
	for _, name := range quotaScopeNames {
		scopes, err := parseQuotaScopes("", []string{name})
		if err != nil || !slices.Contains([]string{apiclient.ScopeOrganization, apiclient.ScopeEnvironment, apiclient.ScopeNetwork, apiclient.ScopeKafkaCluster, apiclient.ScopeServiceAccount, apiclient.ScopeUserAccount}, scopes[0]) {
			t.Errorf("quota scope %s reads as %v (%v), which apiclient does not know", name, scopes, err)
		}
	}
}
