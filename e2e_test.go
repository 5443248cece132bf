package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite testdata/e2e-output.txt from this run")

// e2eSecret is recognisable, so a leak anywhere is found.
const (
	e2eKey         = "E2EKEY"
	e2eSecret      = `e2e/Secret+9f"8e<7d>6c&5b%4a`
	e2eAuditSecret = `audit/Secret+1a"2b<3c>4d&5e%6f`
)

var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "cke-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "confluent_keys_exporter")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the exporter: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	// The default --storage.path is data/ in the working directory: a test
	// that started the exporter here would have written into the checkout.
	if _, err := os.Stat("data"); err == nil && code == 0 {
		fmt.Fprintln(os.Stderr, "a test wrote data/ into the checkout: run the exporter in a temporary directory (runExporter does)")
		code = 1
	}
	os.Exit(code)
}

// exporter is the built binary, running.
type exporter struct {
	url     string
	cmd     *exec.Cmd
	output  *testkit.Buffer
	exited  chan struct{} // closed when the process has exited
	exitErr error         // what Wait returned, once exited is closed
}

// freePort finds a port on loopback that is free now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startExporter runs the binary with the e2e credentials against apiURL and
// waits until it answers /-/healthy. The test's cleanup stops it.
func startExporter(t *testing.T, apiURL string, args ...string) *exporter {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr, "--confluent.url=" + apiURL}, args...)...)
	cmd.Env = append(os.Environ(), "CONFLUENT_CLOUD_API_KEY="+e2eKey, "CONFLUENT_CLOUD_API_SECRET="+e2eSecret,
		"CONFLUENT_AUDIT_LOG_API_SECRET="+e2eAuditSecret)
	e := runExporter(t, cmd, addr)
	e.waitFor(t, "/-/healthy", 200, 10*time.Second)
	return e
}

// runExporter starts cmd, an exporter listening on addr. The test's cleanup
// stops it and checks that the secret never appeared in its output.
func runExporter(t *testing.T, cmd *exec.Cmd, addr string) *exporter {
	t.Helper()
	e := &exporter{url: "http://" + addr, cmd: cmd, output: &testkit.Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = e.output, e.output
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir() // where the default --storage.path, data/, goes
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { e.exitErr = cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-e.exited
		if strings.Contains(e.output.String(), e2eSecret) {
			t.Errorf("the secret appears in the exporter's output")
		}
		if strings.Contains(e.output.String(), e2eAuditSecret) {
			t.Errorf("the audit log's secret appears in the exporter's output")
		}
	})
	return e
}

// stop sends the exporter sig and waits until it has exited.
func (e *exporter) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := e.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("the exporter did not exit within 20 s of %v:\n%s", sig, e.output)
	}
}

// waitFor polls path until it answers status, or fails the test at the deadline.
func (e *exporter) waitFor(t *testing.T, path string, status int, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, body, err := get(e.url + path)
		if err == nil && code == status {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer %d within %s (last: %d %v)\noutput:\n%s", path, status, within, code, err, e.output.String())
		}
		select {
		case <-e.exited:
			t.Fatalf("exporter exited: %v\noutput:\n%s", e.exitErr, e.output.String())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// waitForBody polls path until its body contains want, and returns it.
func (e *exporter) waitForBody(t *testing.T, path, want string, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if _, body, err := get(e.url + path); err == nil && strings.Contains(body, want) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not show %q within %s\noutput:\n%s", path, want, within, e.output.String())
		}
		select {
		case <-e.exited:
			t.Fatalf("exporter exited: %v\noutput:\n%s", e.exitErr, e.output.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func get(url string) (int, string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func newSimServer(t *testing.T, org sim.OrgConfig) (*sim.Server, *httptest.Server) {
	t.Helper()
	return testkit.StartSim(t, org, e2eKey, e2eSecret)
}

// startAuditLog runs s's audit-log cluster (TLS, seven days of events) until
// the test ends, and returns the exporter's flags to read it: the secret is
// in the environment startExporter sets.
func startAuditLog(t *testing.T, s *sim.Server) []string {
	t.Helper()
	b, err := sim.StartAuditLog(s, sim.AuditLogOptions{Secret: e2eAuditSecret, TLS: true, History: 7 * 24 * time.Hour, Others: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	ca := filepath.Join(t.TempDir(), "audit-ca.pem")
	if err := os.WriteFile(ca, b.CAPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{
		"--audit-log.bootstrap-servers=" + strings.Join(b.Addrs(), ","),
		"--audit-log.api-key=" + s.AuditLog().KeyID, "--audit-log.ca-file=" + ca,
	}
}

// stableSeries keeps the confluent_ series whose values do not depend on
// timing, sorted, for the golden file.
func stableSeries(scrape string) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(scrape))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "confluent_") || strings.HasPrefix(l, "confluent_keys_exporter_build_info") {
			continue
		}
		volatile := false
		for _, v := range []string{"_duration_seconds", "confluent_refresh_last_success", "confluent_rate_limit", "confluent_config_last_reload_success_timestamp"} {
			volatile = volatile || strings.Contains(l, v)
		}
		if !volatile {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

func TestEndToEnd(t *testing.T) {
	s, api := newSimServer(t, sim.DefaultOrg)
	s.SetFaults(sim.Faults{Hold: true, Endpoint: "byok_keys"}) // the first BYOK refresh waits for the test
	e := startExporter(t, api.URL, "--refresh.interval=1h")

	for deadline := time.Now().Add(20 * time.Second); s.Held() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the exporter sent no BYOK request within 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _, err := get(e.url + "/-/ready"); err != nil || code != http.StatusServiceUnavailable {
		t.Fatalf("/-/ready while the first BYOK refresh is held: %d %v, want 503", code, err)
	}
	s.SetFaults(sim.Faults{}) // release it
	e.waitFor(t, "/-/ready", 200, 20*time.Second)
	scrape := e.waitFor(t, "/metrics", 200, time.Second)
	requests := len(s.Requests())

	got := stableSeries(scrape)
	golden := filepath.Join("testdata", "e2e-output.txt")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("scrape differs from %s (go test -run TestEndToEnd -update regenerates it):\n%s", golden, testkit.LineDiff(string(want), got))
	}
	for _, m := range []string{
		"confluent_rate_limit{", "confluent_rate_limit_remaining{", "confluent_rate_limit_reset_timestamp_seconds{",
		"confluent_refresh_last_success_timestamp_seconds{", "confluent_http_request_duration_seconds_bucket{",
		"confluent_keys_exporter_build_info{", "confluent_config_last_reload_success_timestamp_seconds ", "go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(scrape, m) {
			t.Errorf("scrape lacks %s", m)
		}
	}
	if strings.Contains(scrape, e2eSecret) {
		t.Error("the secret appears in /metrics")
	}
	_, landing, err := get(e.url + "/")
	if err != nil || !strings.Contains(landing, "/metrics") || strings.Contains(landing, e2eSecret) {
		t.Errorf("landing page: %v, links /metrics: %v, leaks the secret: %v", err, strings.Contains(landing, "/metrics"), strings.Contains(landing, e2eSecret))
	}
	if n := len(s.Requests()); n != requests {
		t.Errorf("scrapes caused %d upstream requests", n-requests)
	}
	checkMetricsWithPromtool(t, scrape)

	for _, want := range []string{
		`msg="Refresh complete" organization=default collector=byok items=36 pages=1`, `msg="Refresh complete" organization=default collector=api_keys items=2496 pages=26`,
		`msg="Refresh complete" organization=default collector=kafka_clusters items=40 pages=7`, `msg="Refresh complete" organization=default collector=service_accounts items=250 pages=3`,
		"secret_from=$CONFLUENT_CLOUD_API_SECRET",
	} {
		if !strings.Contains(e.output.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, e.output.String())
		}
	}

	// One line shape for the exporter's own lines and exporter-toolkit's
	// ("Listening on"): ts, caller, level, msg.
	shape := regexp.MustCompile(`^ts=\S+ caller=\S+ level=(debug|info|warn|error) msg=`)
	toolkit := 0
	for _, line := range strings.Split(strings.TrimSpace(e.output.String()), "\n") {
		if !shape.MatchString(line) {
			t.Errorf("a log line of another shape: %s", line)
		}
		if strings.Contains(line, `msg="Listening on"`) {
			toolkit++
		}
	}
	if toolkit == 0 {
		t.Errorf("no exporter-toolkit line to check:\n%s", e.output.String())
	}

	// SIGHUP (logrotate, systemctl reload): the configuration is read
	// again (nothing changes without a file), and the exporter keeps serving.
	if err := e.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); strings.Count(e.output.String(), `msg="Configuration loaded"`) < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for SIGHUP within 10s:\n%s", e.output.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, _, err := get(e.url + "/-/healthy"); err != nil || code != http.StatusOK {
		t.Fatalf("after SIGHUP: /-/healthy %d %v, want 200", code, err)
	}

	// SIGTERM: a clean exit.
	if err := e.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.exited:
		if e.exitErr != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", e.exitErr, e.output.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10s of SIGTERM")
	}
}

// checkMetricsWithPromtool runs `promtool check metrics` on a scrape, as
// node_exporter's checkmetrics.sh does; without promtool (a machine with
// only Go) it says so and the rest of the test goes on. make test installs
// promtool and requires it.
func checkMetricsWithPromtool(t *testing.T, scrape string) {
	t.Helper()
	if _, err := exec.LookPath("promtool"); err != nil && os.Getenv(testkit.RequireToolsEnv) != "1" {
		t.Log("promtool is not installed: `promtool check metrics` not run (`make test` runs it)")
		return
	}
	promtool := testkit.Tool(t, "promtool", "prometheus")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(scrape)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestFailingUpstreamIsLoggedAndCounted(t *testing.T) {
	s, api := newSimServer(t, sim.OrgConfig{Seed: 1, BYOKKeys: 5, APIKeys: 5})
	s.SetFaults(sim.Faults{Status: 403, Detail: "The request has an invalid API key", Endpoint: "byok_keys"})
	e := startExporter(t, api.URL, "--refresh.interval=1h")
	body := e.waitFor(t, "/metrics", 200, 5*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	// Both collectors' first refreshes end independently: wait for both.
	for !strings.Contains(body, `confluent_refresh_errors_total{collector="byok",organization="default",reason="unauthorized"} 1`) ||
		!strings.Contains(body, `confluent_refresh_success{collector="api_keys",organization="default"}`) {
		if time.Now().After(deadline) {
			t.Fatalf("no unauthorized error counted, or no API key refresh done:\n%s", body)
		}
		time.Sleep(25 * time.Millisecond)
		_, body, _ = get(e.url + "/metrics")
	}
	for _, want := range []string{`confluent_refresh_success{collector="byok",organization="default"} 0`, `confluent_refresh_success{collector="api_keys",organization="default"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if code, _, _ := get(e.url + "/-/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("/-/ready %d with the BYOK collector never refreshed, want 503", code)
	}
	log := e.output.String()
	for _, want := range []string{"level=warn", "collector=byok", "reason=unauthorized", "HTTP 403", "User Access Unauthorized", "request_id "} {
		if !strings.Contains(log, want) {
			t.Errorf("failure log line lacks %q:\n%s", want, log)
		}
	}
}

// TestConfigErrors: what only the binary shows of a bad configuration: exit
// code 1 and one line on stderr. Every check is tested in config/config_test.go.
func TestConfigErrors(t *testing.T) {
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(e2eSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := []string{"CONFLUENT_CLOUD_API_KEY=k", "CONFLUENT_CLOUD_API_SECRET=" + e2eSecret}
	dupOrgs := filepath.Join(t.TempDir(), "dup.yml")
	noSecret := filepath.Join(t.TempDir(), "nosecret.yml")
	org := "  - name: prod\n    api_key: K\n    api_secret_file: " + secretFile + "\n"
	for file, content := range map[string]string{
		dupOrgs:  "organizations:\n" + org + org,
		noSecret: "organizations:\n  - name: prod\n    api_key: K\n    api_secret_file: /nonexistent/secret\n",
	} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	badYAML := filepath.Join(t.TempDir(), "web-bad.yml")
	badHash := filepath.Join(t.TempDir(), "web-hash.yml")
	for file, content := range map[string]string{
		badYAML: "tls_server_config:\n  cert_file: [\n",
		badHash: "basic_auth_users:\n  prometheus: not-a-bcrypt-hash\n",
	} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no key", []string{"CONFLUENT_CLOUD_API_SECRET=" + e2eSecret}, nil, "no API key"},
		{"unreadable secret file", []string{"CONFLUENT_CLOUD_API_KEY=k"}, []string{"--confluent.api-secret-file=/nonexistent/secret"}, "unreadable --confluent.api-secret-file"},
		{"plain http", good, []string{"--confluent.url=http://api.confluent.cloud"}, "plain http is allowed only for a loopback host"},
		{"interval env", append(good, "CONFLUENT_REFRESH_INTERVAL=10ms"), nil, "under the minimum of 1s"},
		{"the secret as a flag", good, []string{"--confluent.api-secret=" + e2eSecret}, "--confluent.api-secret is not a flag: a secret never is (flags show in process listings); put it in $CONFLUENT_CLOUD_API_SECRET or a file named by --confluent.api-secret-file"},
		{"the secret as an argument", good, []string{e2eSecret}, "unexpected argument (not shown: it may be a secret)"},
		{"a flag's typo", good, []string{"--refresh.intervall=1m"}, "did you mean --refresh.interval?"},
		{"bad log level", good, []string{"--log.level=chatty"}, "enum value must be one of debug,info,warn,error, got '(not shown)'"},
		{"interval without unit", good, []string{"--refresh.interval=5"}, `--refresh.interval (or $CONFLUENT_REFRESH_INTERVAL) is not a duration with a unit (30s, 5m, 1h)`},
		{"page size not a number", good, []string{"--confluent.page-size=many"}, `--confluent.page-size is not a whole number`},
		// Found at start, before any refresh, naming the flag and the file.
		{"web config YAML", good, []string{"--web.config.file=" + badYAML}, "--web.config.file=" + badYAML + ": "},
		{"web config bcrypt hash", good, []string{"--web.config.file=" + badHash}, "--web.config.file=" + badHash + ": "},
		{"web config missing", good, []string{"--web.config.file=/nonexistent/web.yml"}, "--web.config.file=/nonexistent/web.yml: "},
		{"config file missing", nil, []string{"--config.file=/nonexistent/orgs.yml"}, "--config.file=/nonexistent/orgs.yml: open /nonexistent/orgs.yml: no such file or directory"},
		{"config file duplicate", nil, []string{"--config.file=" + dupOrgs}, dupOrgs + `:5: organization \"prod\": the name is used twice (first at line 2)`},
		{"config file missing secret", nil, []string{"--config.file=" + noSecret}, noSecret + `:2: organization \"prod\": unreadable api_secret_file: the secret file (it does not exist; its path is not shown`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"--web.listen-address=127.0.0.1:0"}, tc.args...)...)
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tc.env...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1\n%s", err, out)
			}
			if !strings.Contains(string(out), tc.want) || strings.Count(strings.TrimSpace(string(out)), "\n") > 0 {
				t.Fatalf("output %q, want one line saying %q", out, tc.want)
			}
			if strings.Contains(string(out), e2eSecret) {
				t.Fatal("the secret appears in the error")
			}
		})
	}
	// --config.check validates and reports without starting anything: the
	// same errors, exit 1; or "configuration OK", exit 0.
	for _, tc := range cases[:3] {
		cmd := exec.Command(binary, append([]string{"--config.check"}, tc.args...)...)
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, tc.env...)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), tc.want) {
			t.Errorf("--config.check, %s: exit %v, %q; want 1 and %q", tc.name, err, out, tc.want)
		}
	}
	okFile := filepath.Join(t.TempDir(), "ok.yml")
	if err := os.WriteFile(okFile, []byte("organizations:\n"+org+strings.ReplaceAll(org, "prod", "test")), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--config.check", "--config.file=" + okFile},
		{"--config.check", "--confluent.api-secret-file=" + secretFile, "--confluent.api-key=k"},
	} {
		// The listen address is taken: the check must not try it.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(binary, append(args, "--web.listen-address="+ln.Addr().String())...).CombinedOutput()
		ln.Close()
		if err != nil || !strings.HasPrefix(string(out), "configuration OK: ") {
			t.Errorf("%v: %v, %q; want exit 0 and configuration OK", args, err, out)
		}
		// Each organisation's audit log, or none: a missing one is seen
		// before its keys are all reported unused.
		if !strings.Contains(string(out), ": audit log none (key usage not told: --audit-log.bootstrap-servers or audit_log)\n") {
			t.Errorf("%v: %q does not say the audit log is none", args, out)
		}
	}
	t.Run("secret file accepted", func(t *testing.T) {
		_, api := newSimServer(t, sim.OrgConfig{Seed: 1, BYOKKeys: 2, APIKeys: 2})
		addr := freePort(t)
		cmd := exec.Command(binary, "--web.listen-address="+addr, "--confluent.url="+api.URL, "--confluent.api-secret-file="+secretFile)
		cmd.Env = []string{"CONFLUENT_CLOUD_API_KEY=" + e2eKey}
		e := runExporter(t, cmd, addr)
		e.waitFor(t, "/-/ready", 200, 10*time.Second)
	})
}

// TestAFixedSecretFileIsUsedWithinSeconds: with a wrong secret file and the
// default 5-minute interval, writing the right secret into the file makes
// the exporter ready within seconds; the failure's log line says when it
// would have tried again.
func TestAFixedSecretFileIsUsedWithinSeconds(t *testing.T) {
	_, api := newSimServer(t, sim.OrgConfig{Seed: 1, BYOKKeys: 2, APIKeys: 2})
	secretFile := filepath.Join(t.TempDir(), "api-secret")
	if err := os.WriteFile(secretFile, []byte("not-the-secret-at-all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	cmd := exec.Command(binary, "--web.listen-address="+addr, "--confluent.url="+api.URL, "--confluent.api-secret-file="+secretFile)
	cmd.Env = []string{"CONFLUENT_CLOUD_API_KEY=" + e2eKey}
	e := runExporter(t, cmd, addr)
	e.waitForBody(t, "/metrics", `confluent_refresh_errors_total{collector="byok",organization="default",reason="unauthorized"} 1`, 10*time.Second)
	if !regexp.MustCompile(`next_attempt=\S+ retry_in=10s`).MatchString(e.output.String()) {
		t.Errorf("the failure does not say when the next attempt is:\n%s", e.output)
	}
	if err := os.WriteFile(secretFile+".new", []byte(e2eSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(secretFile+".new", secretFile); err != nil { // as a Secret volume swaps it
		t.Fatal(err)
	}
	fixed := time.Now()
	// The retry delay is 10 s: ready before it means the change was seen.
	e.waitFor(t, "/-/ready", 200, 8*time.Second)
	t.Logf("ready %s after the fix", time.Since(fixed).Round(time.Millisecond))
	if !strings.Contains(e.output.String(), "The secret file changed") {
		t.Errorf("no log line says the secret file changed:\n%s", e.output)
	}
}

func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(binary, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "confluent_keys_exporter, version") || !strings.Contains(string(out), "go version") {
		t.Fatalf("--version: %v\n%s", err, out)
	}
}
