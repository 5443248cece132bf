package main

// The built exporter over several simulated organisations, configured by
// --config.file: each served with its own label, /probe, and reloads by
// SIGHUP and POST /-/reload that add and remove organisations, with a bad
// file keeping the running configuration.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// orgsSim serves organisations named after their keys on one listener,
// each accepting e2eSecret.
func orgsSim(t *testing.T, keys ...string) (map[string]*sim.Server, string) {
	t.Helper()
	servers := map[string]*sim.Server{}
	var all sim.Organizations
	for i, k := range keys {
		s := sim.New(sim.Config{
			Org:    sim.OrgConfig{Seed: uint64(i + 1), BYOKKeys: 3, APIKeys: 20, Quirks: true, DisplayName: "Org " + k},
			APIKey: k, APISecret: e2eSecret,
		})
		servers[k] = s
		all = append(all, s)
	}
	ts := httptest.NewServer(all)
	t.Cleanup(ts.Close)
	return servers, ts.URL
}

// orgsFile writes a configuration of the named organisations (name = key).
func orgsFile(t *testing.T, path, url, secretFile string, names ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("organizations:\n")
	for _, n := range names {
		b.WriteString("  - name: " + strings.ToLower(n) + "\n    api_key: " + n + "\n    api_secret_file: " + secretFile + "\n    url: " + url + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// until polls the exporter's path until its body satisfies cond.
func (e *exporter) until(t *testing.T, path, what string, cond func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, body, err := get(e.url + path)
		if err == nil && cond(body) {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15s: %s\nlast body:\n%.1500s\noutput:\n%s", path, what, body, e.output.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func post(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOrganizationsFromConfigFile(t *testing.T) {
	_, url := orgsSim(t, "ALPHA", "BETA", "GAMMA")
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte(e2eSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfgFile, url, secret, "ALPHA", "BETA")
	addr := freePort(t)
	cmd := exec.Command(binary, "--web.listen-address="+addr, "--config.file="+cfgFile, "--web.enable-lifecycle", "--refresh.interval=1m")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	e := runExporter(t, cmd, addr)
	e.waitFor(t, "/-/ready", 200, 15*time.Second)

	_, metrics, _ := get(e.url + "/metrics")
	for _, want := range []string{
		`confluent_byok_keys{organization="alpha",`, `confluent_byok_keys{organization="beta",`,
		`confluent_organization_info{display_name="Org BETA",organization="beta",`,
		`confluent_refresh_success{collector="byok",organization="alpha"} 1`,
		`confluent_http_requests_total{code="200",endpoint="byok_keys",organization="beta"} 1`,
		"confluent_config_last_reload_successful 1",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Count(metrics, "# TYPE confluent_byok_keys gauge") != 1 {
		t.Error("a family served twice")
	}
	checkMetricsWithPromtool(t, metrics)
	code, probe, _ := get(e.url + "/probe?organization=beta")
	if code != 200 || !strings.Contains(probe, `organization="beta"`) || strings.Contains(probe, `organization="alpha"`) {
		t.Errorf("/probe?organization=beta: %d, alpha's series in it: %v", code, strings.Contains(probe, `organization="alpha"`))
	}
	checkMetricsWithPromtool(t, probe)
	if code, body, _ := get(e.url + "/probe?organization=gamma"); code != 404 || !strings.Contains(body, `Unknown organization "gamma"`) {
		t.Errorf("unknown organisation: %d %q", code, body)
	}

	// SIGHUP: gamma added, alpha removed.
	orgsFile(t, cfgFile, url, secret, "BETA", "GAMMA")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	e.until(t, "/metrics", "gamma served and alpha gone after SIGHUP", func(b string) bool {
		return strings.Contains(b, `confluent_byok_keys{organization="gamma",`) && !strings.Contains(b, `organization="alpha"`)
	})
	if code, _, _ := get(e.url + "/probe?organization=alpha"); code != 404 {
		t.Errorf("the removed organisation is still probed: %d", code)
	}

	// A broken file keeps the running configuration, and says so.
	if err := os.WriteFile(cfgFile, []byte("organizations:\n  - name: beta\n    api_kee: BETA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body := post(t, e.url+"/-/reload")
	if code != http.StatusInternalServerError || strings.TrimSpace(body) != "Reload failed; see the exporter's log" {
		t.Errorf("POST /-/reload of a broken file: %d %q", code, body)
	}
	e.until(t, "/metrics", "reload failure exported", func(b string) bool {
		return strings.Contains(b, "confluent_config_last_reload_successful 0") &&
			strings.Contains(b, `confluent_byok_keys{organization="gamma",`) && strings.Contains(b, `confluent_byok_keys{organization="beta",`)
	})
	if len(e.output.Lines(`msg="Reloading the configuration failed; the running configuration stays"`, `orgs.yml:3: organization \"beta\": field api_kee not found`)) != 1 {
		t.Errorf("the failed reload is not logged once:\n%s", e.output.String())
	}

	// POST /-/reload of a good file.
	orgsFile(t, cfgFile, url, secret, "ALPHA")
	if code, body := post(t, e.url+"/-/reload"); code != 200 {
		t.Fatalf("POST /-/reload: %d %q", code, body)
	}
	e.until(t, "/metrics", "only alpha after the reload", func(b string) bool {
		return strings.Contains(b, "confluent_config_last_reload_successful 1") && strings.Contains(b, `organization="alpha"`) &&
			!strings.Contains(b, `organization="beta"`) && !strings.Contains(b, `organization="gamma"`)
	})
	if code, _, _ := get(e.url + "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d, want 405", code)
	}
}

// TestReloadNeedsLifecycle: without --web.enable-lifecycle, POST /-/reload
// is refused (SIGHUP still reloads), as Prometheus does.
func TestReloadNeedsLifecycle(t *testing.T) {
	_, api := newSimServer(t, sim.OrgConfig{Seed: 1, BYOKKeys: 2, APIKeys: 2})
	e := startExporter(t, api.URL)
	if code, body := post(t, e.url+"/-/reload"); code != http.StatusForbidden || !strings.Contains(body, "--web.enable-lifecycle") {
		t.Errorf("POST /-/reload without the flag: %d %q", code, body)
	}
}

// TestSimulatorOrganizations: the simulator binary serves several
// organisations (`--organizations`), and one exporter reads them all, as a
// user trying the config file locally would run them.
func TestSimulatorOrganizations(t *testing.T) {
	_, simBin := demoBinaries(t)
	simAddr := freePort(t)
	simCmd := exec.Command(simBin, "--listen-address="+simAddr, "--organizations=2", "--api-keys=30", "--byok-keys=3")
	simCmd.Env = []string{"CONFLUENT_CLOUD_API_SECRET=" + e2eSecret}
	simOut := &testkit.Buffer{}
	simCmd.Stdout, simCmd.Stderr = simOut, simOut
	if err := simCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = simCmd.Process.Kill(); _ = simCmd.Wait() })

	dir := t.TempDir()
	secret := writeConfig(t, dir, "secret", e2eSecret)
	cfg := writeConfig(t, dir, "orgs.yml", "organizations:\n"+
		"  - {name: first, api_key: DEMOKEY, api_secret_file: "+secret+", url: http://"+simAddr+"}\n"+
		"  - {name: second, api_key: DEMOKEY2, api_secret_file: "+secret+", url: http://"+simAddr+"}\n")
	addr := freePort(t)
	cmd := exec.Command(binary, "--web.listen-address="+addr, "--config.file="+cfg)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	e := runExporter(t, cmd, addr)
	// Ready: every collector of both organisations has completed a refresh.
	e.waitFor(t, "/-/ready", 200, 15*time.Second)
	_, body, _ := get(e.url + "/metrics")
	for _, want := range []string{
		`confluent_organization_info{display_name="Simulated Org",organization="first",`,
		`confluent_organization_info{display_name="Simulated Org 2",organization="second",`,
		`confluent_refresh_success{collector="byok",organization="second"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s; simulator:\n%s", want, simOut.String())
		}
	}
}
