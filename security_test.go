package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// selfSignedCert writes a certificate and key for 127.0.0.1 into dir.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "confluent_keys_exporter test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestWebConfigTLSAndBasicAuth runs the exporter with exporter-toolkit's web
// config: TLS and a bcrypt basic-auth user.
func TestWebConfigTLSAndBasicAuth(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSignedCert(t, dir)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := writeConfig(t, dir, "web.yml", fmt.Sprintf(`
tls_server_config:
  cert_file: %s
  key_file: %s
basic_auth_users:
  prometheus: %s
`, certFile, keyFile, hash))

	_, api := newSimServer(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3, APIKeys: 3})
	addr := freePort(t)
	cmd := exec.Command(binary, "--web.listen-address="+addr, "--web.config.file="+webConfig, "--confluent.url="+api.URL)
	cmd.Env = append(os.Environ(), "CONFLUENT_CLOUD_API_KEY="+e2eKey, "CONFLUENT_CLOUD_API_SECRET="+e2eSecret)
	e := runExporter(t, cmd, addr)

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}, Timeout: 5 * time.Second}
	scrape := func(user, pass string) (int, string, error) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		code, body, err := scrape("prometheus", "scrape-pass")
		if err == nil && code == http.StatusOK && strings.Contains(body, "confluent_byok_keys{") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no metrics over TLS with the right password: %d %v\n%s", code, err, e.output.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if code, _, err := scrape("prometheus", "wrong"); err != nil || code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d %v, want 401", code, err)
	}
	if code, _, err := scrape("", ""); err != nil || code != http.StatusUnauthorized {
		t.Errorf("no password: %d %v, want 401", code, err)
	}
	// Plain HTTP to the TLS port gets no metrics.
	code, body, err := get("http://" + addr + "/metrics")
	if err == nil && (code == http.StatusOK || strings.Contains(body, "confluent_")) {
		t.Errorf("plain HTTP got %d with metrics", code)
	}
}

// TestScrapeStormStaysWithinMemory: 200 scrapes at once against the binary
// get 200 or 503 (the limit itself is proved in mux_test.go), the process
// stays healthy and its peak RSS stays bounded.
func TestScrapeStormStaysWithinMemory(t *testing.T) {
	_, api := newSimServer(t, sim.DefaultOrg)
	e := startExporter(t, api.URL, "--web.max-requests=5", "--refresh.interval=1h")
	e.waitFor(t, "/-/ready", 200, 20*time.Second)

	const n = 200
	codes := make(chan int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range n {
		wg.Go(func() {
			<-start
			code, _, err := get(e.url + "/metrics")
			if err != nil {
				code = -1
			}
			codes <- code
		})
	}
	close(start)
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[200]+count[503] != n || count[200] == 0 {
		t.Fatalf("answers %v, want only 200s and 503s, some 200s", count)
	}
	t.Logf("200 concurrent scrapes: %v", count)
	e.waitFor(t, "/-/healthy", 200, time.Second)

	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			if kb > 200<<10 {
				t.Fatalf("peak RSS %d MiB after the scrape storm, want under 200 MiB", kb>>10)
			}
			t.Logf("peak RSS %d MiB", kb>>10)
		}
	}
}

// TestSecretNeverLeaks runs the exporter through every kind of failure with a
// recognisable secret and looks for it everywhere the exporter writes.
func TestSecretNeverLeaks(t *testing.T) {
	testkit.Slow(t)
	s, api := newSimServer(t, sim.OrgConfig{Seed: 2, BYOKKeys: 5, APIKeys: 30, Quirks: true})
	e := startExporter(t, api.URL, "--refresh.interval=1s", "--confluent.timeout=300ms", "--confluent.page-size=10", "--log.level=debug")
	// An echo in a list that succeeds reaches label values, not errors: as
	// it is, JSON-escaped, wholly or half in \u escapes, and the base64 of
	// key:secret in \u escapes (redaction covers decoded values).
	for _, echo := range []struct{ mode, shown string }{
		{"json", `display_name="echo (secret [REDACTED])`},
		{"unicode", `display_name="echo (secret [REDACTED])`},
		{"mixed", `display_name="echo (secret [REDACTED])`},
		{"unicode-base64", `display_name="echo (Authorization: Basic [REDACTED])`},
	} {
		s.SetFaults(sim.Faults{Echo: echo.mode})
		for deadline := time.Now().Add(20 * time.Second); ; {
			if _, body, err := get(e.url + "/metrics"); err == nil && strings.Contains(body, echo.shown) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the %s echo in a display name was not served redacted\n%s", echo.mode, e.output.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		_, body, _ := get(e.url + "/metrics")
		for _, f := range secretEncodings(e2eKey, e2eSecret) {
			if strings.Contains(body, f) {
				t.Fatalf("the %s echo reached /metrics as %q", echo.mode, f)
			}
		}
	}
	for _, tc := range []struct {
		faults sim.Faults
		reason string
	}{
		{sim.Faults{Status: 401}, "unauthorized"},
		{sim.Faults{Status: 403}, "forbidden"},
		{sim.Faults{Status: 403, Detail: "invalid API key " + e2eSecret}, "unauthorized"},
		{sim.Faults{Status: 500, Detail: "echo: " + e2eSecret}, "server_error"},
		{sim.Faults{Body: "html"}, "decode"},
		{sim.Faults{Body: "truncated"}, "decode"},
		{sim.Faults{Next: "repeat-token"}, "pagination"},
		{sim.Faults{Hang: true}, "timeout"},
		{sim.Faults{Body: "reset"}, "network"},
		{sim.Faults{Status: 400, Echo: "json"}, "other"},
		{sim.Faults{Status: 400, Echo: "base64"}, "other"},
		{sim.Faults{Status: 400, Echo: "percent"}, "other"},
		{sim.Faults{Status: 400, Echo: "header"}, "other"},
		{sim.Faults{Status: 403, Echo: "raw", ErrorShape: "gzip"}, "forbidden"},
		{sim.Faults{Status: 429, RetryAfter: 60}, "rate_limited"}, // last: it holds every list for a minute
	} {
		series := fmt.Sprintf(`confluent_refresh_errors_total{collector="api_keys",organization="default",reason=%q}`, tc.reason)
		_, body, _ := get(e.url + "/metrics")
		before := seriesValue(body, series)
		s.SetFaults(tc.faults)
		// Wait for a failure under these faults: the counter must grow.
		for deadline := time.Now().Add(20 * time.Second); ; {
			_, body, err := get(e.url + "/metrics")
			if err == nil && seriesValue(body, series) > before {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s error counted for faults %+v\n%s", tc.reason, tc.faults, e.output.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	forms := secretEncodings(e2eKey, e2eSecret)
	for _, path := range []string{"/metrics", "/", "/-/ready", "/-/healthy"} {
		_, body, err := get(e.url + path)
		if err != nil {
			t.Error(err)
		}
		for _, f := range forms {
			if strings.Contains(body, f) {
				t.Errorf("%s carries the secret as %q", path, f)
			}
		}
	}
	for _, f := range forms {
		if strings.Contains(e.output.String(), f) {
			t.Fatalf("the secret appears in the exporter's output as %q", f)
		}
	}
	if !strings.Contains(e.output.String(), "[REDACTED]") {
		t.Fatal("the echoed secret was not redacted: the test did not exercise the echo")
	}
}

// secretEncodings are the forms of the secret that must appear nowhere: as
// it is, JSON-escaped (with and without \/), percent-encoded, and the base64
// of "key:secret" and of the secret.
func secretEncodings(key, secret string) []string {
	esc, _ := json.Marshal(secret)
	jsonForm := string(esc[1 : len(esc)-1])
	pair := key + ":" + secret
	return []string{
		secret, jsonForm, strings.ReplaceAll(jsonForm, "/", `\/`),
		url.QueryEscape(secret), url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(pair)), base64.StdEncoding.EncodeToString([]byte(secret)),
	}
}

// seriesValue is the value of the series named exactly so in an exposition, or -1.
func seriesValue(exposition, series string) float64 {
	for _, line := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}
