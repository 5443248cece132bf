package main

// Hostile inputs reproduced against the built binary, where what goes
// wrong is the binary's (docs/reliability.md, "Hostile inputs").

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// peakRSS is the process's peak resident memory in MiB (VmHWM).
func peakRSS(t *testing.T, e *exporter) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindSubmatch(status)
	if m == nil {
		t.Fatalf("no VmHWM in /proc/%d/status", e.cmd.Process.Pid)
	}
	kb, _ := strconv.Atoi(string(m[1]))
	return kb >> 10
}

// waitOutput waits for the exporter to write want (its output reaches the
// test through a pipe, after the HTTP answer that caused it).
func waitOutput(t *testing.T, e *exporter, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(e.output.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not write %q:\n%s", want, e.output)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// runWithFile starts the binary with --config.file and more flags; its
// secrets are files (the environment is empty but for PATH).
func runWithFile(t *testing.T, cfg string, args ...string) *exporter {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr, "--config.file=" + cfg}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	e := runExporter(t, cmd, addr)
	e.waitFor(t, "/-/healthy", 200, 10*time.Second)
	return e
}

// TestHugeBodiesStayWithinMemory (row 2): one organisation of three whose
// upstream answers every list with a 100 MiB body fails its refreshes
// (reason decode) and leaves the exporter's peak RSS under 64 MiB; the
// other two keep being served.
func TestHugeBodiesStayWithinMemory(t *testing.T) {
	testkit.Slow(t)
	servers, url := orgsSim(t, "ALPHA", "BETA", "GAMMA")
	servers["GAMMA"].SetFaults(sim.Faults{Body: "huge"})
	dir := t.TempDir()
	secret := writeConfig(t, dir, "secret", e2eSecret)
	cfg := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfg, url, secret, "ALPHA", "BETA", "GAMMA")
	e := runWithFile(t, cfg, "--refresh.interval=2s", "--confluent.timeout=20s")
	failed := regexp.MustCompile(`confluent_refresh_errors_total\{collector="api_keys",organization="gamma",reason="decode"\} ([0-9]+)`)
	e.until(t, "/metrics", "three failed refreshes of gamma", func(m string) bool {
		n := failed.FindStringSubmatch(m)
		if n == nil {
			return false
		}
		count, _ := strconv.Atoi(n[1])
		return count >= 3 && strings.Contains(m, `confluent_refresh_success{collector="api_keys",organization="alpha"} 1`)
	})
	_, m, _ := get(e.url + "/metrics")
	if !strings.Contains(m, `confluent_refresh_success{collector="byok",organization="beta"} 1`) {
		t.Error("beta is not served while gamma's upstream balloons")
	}
	if mib := peakRSS(t, e); mib >= 64 {
		t.Errorf("peak RSS %d MiB with one organisation's upstream sending 100 MiB bodies, want under 64 MiB", mib)
	} else {
		t.Logf("peak RSS %d MiB", mib)
	}
}

// TestSecretFileThatBlocks (rows 1, 12): a FIFO, /etc/shadow-like and
// /proc/self/environ secret files are refused at start with one line and
// exit 1, at once; on a live exporter, a reload to a FIFO answers, fails,
// and leaves the running configuration serving.
func TestSecretFileThatBlocks(t *testing.T) {
	_, url := orgsSim(t, "ALPHA")
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	shadow := writeConfig(t, dir, "shadow", "root:$6$salt$hash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
	for file, want := range map[string]string{
		fifo:                 "not a regular file (a named pipe)",
		shadow:               "holds more than one line",
		"/proc/self/environ": "holds a control character",
	} {
		cfg := filepath.Join(dir, "orgs.yml")
		orgsFile(t, cfg, url, file, "ALPHA")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		cmd := exec.CommandContext(ctx, binary, "--config.file="+cfg, "--web.listen-address="+freePort(t))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "SOMETHING=private-value"}
		out, err := cmd.CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), want) {
			t.Errorf("%s: %v, want exit 1 saying %q:\n%s", file, err, want, out)
		}
		if strings.Contains(string(out), "root:") || strings.Contains(string(out), "private-value") {
			t.Errorf("%s: the output quotes the file:\n%s", file, out)
		}
	}

	secret := writeConfig(t, dir, "secret", e2eSecret)
	cfg := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfg, url, secret, "ALPHA")
	e := runWithFile(t, cfg, "--web.enable-lifecycle")
	e.waitFor(t, "/-/ready", 200, 15*time.Second)
	orgsFile(t, cfg, url, fifo, "ALPHA")
	for range 3 {
		code, body := post(t, e.url+"/-/reload")
		if code != http.StatusInternalServerError || strings.TrimSpace(body) != "Reload failed; see the exporter's log" {
			t.Fatalf("reload to a FIFO: %d %q", code, body)
		}
	}
	_, m, _ := get(e.url + "/metrics")
	if !strings.Contains(m, "confluent_config_last_reload_successful 0") || !strings.Contains(m, `confluent_refresh_success{collector="byok",organization="alpha"} 1`) {
		t.Error("after a failed reload: not reported, or the running configuration no longer serves")
	}
	waitOutput(t, e, "not a regular file (a named pipe)") // the log says why the reload failed
}

// TestReloadTellsNothing (rows 4, 5, 6): a failed reload's body says only
// that it failed; the log has the detail, without the secret pasted for a
// path nor a URL's credentials; a cross-site POST is refused.
func TestReloadTellsNothing(t *testing.T) {
	_, url := orgsSim(t, "ALPHA")
	dir := t.TempDir()
	secret := writeConfig(t, dir, "secret", e2eSecret)
	cfg := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfg, url, secret, "ALPHA")
	e := runWithFile(t, cfg, "--web.enable-lifecycle")
	e.waitFor(t, "/-/ready", 200, 15*time.Second)

	const pasted = "Zq8PASTEDsecretNOTaPATHx+4/kLmN0pQrStUvWxYz"
	const token = "tok3n-in-a-query"
	for name, content := range map[string]string{
		"the secret for its path": "organizations:\n  - name: alpha\n    api_key: ALPHA\n    api_secret_file: " + pasted + "\n    url: " + url + "\n",
		"credentials in the URL":  "organizations:\n  - name: alpha\n    api_key: ALPHA\n    api_secret_file: " + secret + "\n    url: https://user:" + pasted + "@api.confluent.cloud\n",
		"a token in the URL":      "organizations:\n  - name: alpha\n    api_key: ALPHA\n    api_secret_file: " + secret + "\n    url: https://api.confluent.cloud/?token=" + token + "\n",
		"a URL that is no URL":    "organizations:\n  - name: alpha\n    api_key: ALPHA\n    api_secret_file: " + secret + "\n    url: \"https://user:" + pasted + "@h%zz/?token=" + token + "\"\n",
	} {
		if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		code, body := post(t, e.url+"/-/reload")
		if code != http.StatusInternalServerError || strings.TrimSpace(body) != "Reload failed; see the exporter's log" {
			t.Errorf("%s: %d %q", name, code, body)
		}
	}
	waitOutput(t, e, "its path is not shown") // the log says what was wrong with the path
	if out := e.output.String(); strings.Contains(out, pasted) || strings.Contains(out, token) {
		t.Errorf("the log echoes a secret or a token:\n%s", out)
	}

	for _, h := range []map[string]string{
		{"Sec-Fetch-Site": "cross-site"},
		{"Origin": "https://evil.example"},
	} {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/-/reload", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site reload %v: %d, want 403", h, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/-/reload", nil)
	req.Header.Set("Origin", e.url) // the exporter's own page
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode == http.StatusForbidden {
		t.Errorf("a same-origin reload refused: %v %v", resp, err)
	}
}

// TestStartRefusals (rows 9, 10, 11, 13): a telemetry path Go's router
// would panic on, or one taken by pprof, is refused in one line; an
// @file argument is not expanded; /probe quotes at most 64 bytes of an
// unknown organisation; a second YAML document is refused.
func TestStartRefusals(t *testing.T) {
	dir := t.TempDir()
	secret := writeConfig(t, dir, "secret", e2eSecret)
	for _, args := range [][]string{
		{"--web.telemetry-path=/debug/pprof/", "--web.enable-pprof"},
		{"--web.telemetry-path=/a b"},
		{"--web.telemetry-path=/{"},
		{"@" + secret},
	} {
		cmd := exec.Command(binary, append(args, "--web.listen-address="+freePort(t))...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "CONFLUENT_CLOUD_API_KEY=K", "CONFLUENT_CLOUD_API_SECRET=" + e2eSecret}
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || len(lines) != 1 || strings.Contains(string(out), "panic") {
			t.Errorf("%v: %v, want one line and exit 1:\n%s", args, err, out)
		}
		if strings.Contains(string(out), e2eSecret) {
			t.Errorf("%v: the output quotes the secret file:\n%s", args, out)
		}
	}

	second := writeConfig(t, dir, "two.yml", "organizations:\n  - name: a\n    api_key: K\n    api_secret_file: "+secret+"\n---\norganizations: []\n")
	out, err := exec.Command(binary, "--config.file="+second, "--config.check").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "two.yml:5: a second YAML document") {
		t.Errorf("a second YAML document: %v\n%s", err, out)
	}

	_, url := orgsSim(t, "ALPHA")
	cfg := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfg, url, secret, "ALPHA")
	e := runWithFile(t, cfg)
	long := strings.Repeat("x", 900<<10)
	code, body, err := get(e.url + "/probe?organization=" + long)
	if err != nil || code != http.StatusNotFound || len(body) > 512 {
		t.Errorf("/probe of a 900 KB name: %d, %d bytes, %v", code, len(body), err)
	}
}

// TestArraysWithinOneItemAreBounded: an upstream whose certificate
// authorities carry 30,000 certificates each, page after page, is refused
// at --confluent.max-items (the arrays that become series count with the
// items), the last complete data kept, and the exporter's peak RSS stays
// under 150 MiB; a 1 MiB description is exported cut to 1,024 bytes.
func TestArraysWithinOneItemAreBounded(t *testing.T) {
	servers, url := orgsSim(t, "ALPHA")
	s := servers["ALPHA"]
	dir := t.TempDir()
	secret := writeConfig(t, dir, "secret", e2eSecret)
	cfg := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfg, url, secret, "ALPHA")
	e := runWithFile(t, cfg, "--refresh.interval=2s", "--confluent.max-items=1000")
	e.waitForBody(t, "/metrics", `confluent_refresh_success{collector="certificate_authorities",organization="alpha"} 1`, 20*time.Second)
	s.SetFaults(sim.Faults{Endpoint: "iam_certificate_authorities", Body: "array-flood", Next: "endless"})
	failed := regexp.MustCompile(`confluent_refresh_errors_total\{collector="certificate_authorities",organization="alpha",reason="pagination"\} ([1-9][0-9]*)`)
	e.until(t, "/metrics", "a refused flood of certificates", func(m string) bool { return failed.MatchString(m) })
	_, m, _ := get(e.url + "/metrics")
	if !strings.Contains(m, `confluent_iam_certificate_authority_info{certificate_authority_id="op-ca01"`) || strings.Contains(m, `op-flood`) {
		t.Error("the last complete list of authorities is not what is served")
	}
	if !strings.Contains(e.output.String(), "more than 1000 items and entries of their arrays") {
		t.Errorf("the log does not say why the list was refused:\n%s", e.output)
	}
	if mib := peakRSS(t, e); mib > 150 {
		t.Errorf("peak RSS %d MiB refusing certificates by the thousand, want at most 150 MiB", mib)
	} else {
		t.Logf("peak RSS %d MiB", mib)
	}
}
