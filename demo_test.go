package main

import (
	"errors"
	"io"
	"net"
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

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// demoBinaries builds what `make demo` runs, as it builds them (the
// exporter with make build's version stamping), and returns their paths.
func demoBinaries(t *testing.T) (exporterBin, simBin string) {
	t.Helper()
	out, err := exec.Command(testkit.Tool(t, "make", "make"), "-s", "demo-build").CombinedOutput()
	if err != nil {
		t.Fatalf("make demo-build: %v\n%s", err, out)
	}
	goos, _ := exec.Command("go", "env", "GOOS").Output()
	goarch, _ := exec.Command("go", "env", "GOARCH").Output()
	exporterBin = filepath.Join(".build", strings.TrimSpace(string(goos))+"-"+strings.TrimSpace(string(goarch)), "confluent_keys_exporter")
	return exporterBin, filepath.Join(".build", "demo", "confluent-cloud-sim")
}

// demo is scripts/demo.sh running in its own process group.
type demo struct {
	cmd            *exec.Cmd
	stdout, stderr *testkit.Buffer
	exited         chan struct{}
	err            error
}

func startDemo(t *testing.T, exporterBin, simBin, demoPort, simPort, auditPort string) *demo {
	t.Helper()
	d := &demo{stdout: &testkit.Buffer{}, stderr: &testkit.Buffer{}, exited: make(chan struct{})}
	d.cmd = exec.Command("bash", "scripts/demo.sh")
	d.cmd.Env = append(os.Environ(), "EXPORTER="+exporterBin, "SIM="+simBin, "DEMO_PORT="+demoPort, "SIM_PORT="+simPort, "AUDIT_PORT="+auditPort,
		"AUDIT_GROW_AFTER=3s")
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
	})
	return d
}

func portOf(t *testing.T) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(freePort(t))
	return port
}

func listeningOn(port string) bool {
	c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
	if err == nil {
		c.Close()
	}
	return err == nil
}

// TestDemo: `make demo` prints its banner only once both processes answer,
// the exporter reports the version make build stamps, the organisation is
// dated from now (most keys young, some past the rotation threshold, a few
// expiring within 14 days, none expired), and Ctrl-C stops both.
func TestDemo(t *testing.T) {
	testkit.Slow(t)
	exporterBin, simBin := demoBinaries(t)
	demoPort, simPort, auditPort := portOf(t), portOf(t), portOf(t)
	d := startDemo(t, exporterBin, simBin, demoPort, simPort, auditPort)
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(d.stdout.String(), "Exporter metrics:") {
		select {
		case <-d.exited:
			t.Fatalf("the demo exited: %v\n%s%s", d.err, d.stdout.String(), d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no banner within 60 s:\n%s%s", d.stdout.String(), d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(d.stdout.String(), "http://127.0.0.1:"+demoPort+"/metrics") {
		t.Errorf("the banner does not advertise the exporter's port %s:\n%s", demoPort, d.stdout.String())
	}
	// The banner came after readiness: the metrics are there at once.
	resp, err := http.Get("http://127.0.0.1:" + demoPort + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	version, _ := os.ReadFile("VERSION")
	if want := `version="` + strings.TrimSpace(string(version)) + `"`; !strings.Contains(string(body), want) {
		t.Errorf("build_info lacks %s: %s", want, regexp.MustCompile(`(?m)^confluent_keys_exporter_build_info.*$`).FindString(string(body)))
	}

	now := float64(time.Now().Unix())
	var keys, old, soon, expired int
	for _, m := range regexp.MustCompile(`(?m)^confluent_iam_api_key_created_timestamp_seconds\{[^}]*\} (\S+)$`).FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		keys++
		if now-v > 90*86400 {
			old++
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^confluent_iam_api_key_expires_timestamp_seconds\{[^}]*\} (\S+)$`).FindAllStringSubmatch(string(body), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		switch {
		case v < now:
			expired++
		case v-now < 14*86400:
			soon++
		}
	}
	if keys < 2000 || old*100 < keys*10 || old*100 > keys*35 || soon == 0 || soon*100 > keys*5 || expired != 0 {
		t.Errorf("demo organisation: %d keys, %d past 90 days, %d expiring within 14 days, %d expired", keys, old, soon, expired)
	}

	// The organisation's audit log is read: keys have their last authentication.
	for !strings.Contains(string(body), "confluent_iam_api_key_last_authenticated_timestamp_seconds{") {
		if time.Now().After(deadline) {
			t.Fatalf("no last authentication within 60 s:\n%s", regexp.MustCompile(`(?m)^confluent_audit_log.*$`).FindAllString(string(body), -1))
		}
		time.Sleep(100 * time.Millisecond)
		resp, err := http.Get("http://127.0.0.1:" + demoPort + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !strings.Contains(d.stdout.String(), "/_sim/audit-log/authentications") {
		t.Errorf("the banner does not say how to make a key authenticate:\n%s", d.stdout.String())
	}
	// The topic grows while busy: the exporter reads the new partitions, no error.
	for !strings.Contains(d.stderr.String(), `msg="A partition was added to the audit log's topic: reading it from its start" organization=default partition=7`) {
		if time.Now().After(deadline.Add(60 * time.Second)) {
			t.Fatalf("the partitions added to the demo's audit log were not read:\n%s", d.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(d.stderr.String(), "Reading the audit log failed") {
		t.Errorf("adding partitions was an error:\n%s", d.stderr.String())
	}

	// Ctrl-C stops both.
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGINT)
	select {
	case <-d.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not stop on Ctrl-C")
	}
	for _, port := range []string{demoPort, simPort, auditPort} {
		if listeningOn(port) {
			t.Errorf("port %s still answers after Ctrl-C", port)
		}
	}
}

// TestDemoBusyPort: with any of its ports taken, the demo says so in one line,
// exits 1 and leaves nothing running.
func TestDemoBusyPort(t *testing.T) {
	exporterBin, simBin := demoBinaries(t)
	for _, busy := range []string{"sim", "exporter", "audit log"} {
		t.Run(busy, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			_, taken, _ := net.SplitHostPort(l.Addr().String())
			demoPort, simPort, auditPort := portOf(t), portOf(t), portOf(t)
			switch busy {
			case "sim":
				simPort = taken
			case "exporter":
				demoPort = taken
			default:
				auditPort = taken
			}
			d := startDemo(t, exporterBin, simBin, demoPort, simPort, auditPort)
			select {
			case <-d.exited:
			case <-time.After(30 * time.Second):
				t.Fatal("the demo did not stop with a port taken")
			}
			var exit *exec.ExitError
			if !errors.As(d.err, &exit) || exit.ExitCode() != 1 {
				t.Errorf("exit %v, want 1", d.err)
			}
			lines := strings.Split(strings.TrimSpace(d.stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], "port "+taken+" on 127.0.0.1 is already in use") ||
				!strings.Contains(lines[0], "DEMO_PORT") {
				t.Errorf("stderr, want one line naming the port and how to pick others:\n%s", d.stderr.String())
			}
			if strings.Contains(d.stdout.String(), "Exporter metrics:") {
				t.Error("the banner was printed")
			}
			for _, other := range []string{demoPort, simPort, auditPort} {
				if other != taken && listeningOn(other) {
					t.Errorf("port %s answers: something the demo started is still running", other)
				}
			}
		})
	}
}
