package main

// The second deployment shape, end to end: two exporter replicas with the
// same three organisations, refreshed on probe; one real Prometheus spreads
// the organisations over the replicas with hashmod relabelling of a /probe
// job; a real Alertmanager receives the page. The organisations hold the same
// key ids, so only the organization label tells their alerts apart.

import (
	"crypto/md5"
	bigendian "encoding/binary"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// hashmod is Prometheus's hashmod relabelling of value.
func hashmod(value string, modulus uint64) uint64 {
	sum := md5.Sum([]byte(value))
	return bigendian.BigEndian.Uint64(sum[8:]) % modulus
}

func TestShardedProbes(t *testing.T) {
	testkit.Slow(t)
	orgs := []string{"alpha", "beta", "gamma"}
	// One organisation model for all three: the same key ids everywhere.
	servers := map[string]*sim.Server{}
	var all sim.Organizations
	for _, o := range orgs {
		s := sim.New(sim.Config{
			Org:    sim.OrgConfig{Seed: 7, BYOKKeys: 6, APIKeys: 40, DisplayName: "Org " + o, ID: "org-" + o},
			APIKey: strings.ToUpper(o), APISecret: e2eSecret,
		})
		servers[o] = s
		all = append(all, s)
	}
	api := httptest.NewServer(all)
	defer api.Close()

	dir := t.TempDir()
	secret := writeConfig(t, dir, "secret", e2eSecret)
	cfgFile := filepath.Join(dir, "orgs.yml")
	orgsFile(t, cfgFile, api.URL, secret, "ALPHA", "BETA", "GAMMA")
	var replicas []*exporter
	for range 2 {
		addr := freePort(t)
		cmd := exec.Command(binary, "--web.listen-address="+addr, "--config.file="+cfgFile, "--refresh.on-probe", "--refresh.interval=1s")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
		e := runExporter(t, cmd, addr)
		e.waitFor(t, "/-/ready", 200, 10*time.Second)
		replicas = append(replicas, e)
	}
	for _, s := range servers {
		if len(s.Requests()) != 0 {
			t.Fatal("an organisation was read before Prometheus probed it")
		}
	}

	hook := &webhook{}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()
	amAddr, promAddr := freePort(t), freePort(t)
	startAlertmanager(t, dir, amAddr, hookSrv.URL, `
  group_by: [alertname, organization, key_id]`)
	rules, err := filepath.Abs("alerts/confluent-keys.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	r0, r1 := strings.TrimPrefix(replicas[0].url, "http://"), strings.TrimPrefix(replicas[1].url, "http://")
	// What the README shows, with the replicas' addresses written out (in
	// Kubernetes one replacement names them: exporter-$1.exporter:10061).
	promURL := startPrometheus(t, dir, promAddr, rules, amAddr, fmt.Sprintf(`
  - job_name: confluent-organizations
    metrics_path: /probe
    static_configs: [{targets: [alpha, beta, gamma]}]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_organization
      - source_labels: [__address__]
        target_label: instance
      - source_labels: [__address__]
        modulus: 2
        target_label: __tmp_replica
        action: hashmod
      - source_labels: [__tmp_replica]
        regex: "0"
        target_label: __address__
        replacement: %q
      - source_labels: [__tmp_replica]
        regex: "1"
        target_label: __address__
        replacement: %q
  - job_name: confluent_keys_exporter
    static_configs: [{targets: [%q, %q]}]`, r0, r1, r0, r1))

	// Every organisation's keys reach Prometheus, each under its own name.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		n, err := promQuery(promURL, `count by (organization, instance) (confluent_byok_key_info{job="confluent-organizations"})`)
		if err == nil && n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the three organisations' keys are not in Prometheus within 60s (%d, %v)", n, err)
		}
	}
	// Each organisation is refreshed by exactly one replica: the one
	// hashmod chose; the other never reads it.
	used := map[int]bool{}
	for _, o := range orgs {
		want := int(hashmod(o, 2))
		used[want] = true
		for i, r := range replicas {
			started := len(r.output.Lines(`msg="Refreshing organization while it is probed"`, "organization="+o))
			if (i == want) != (started == 1) || started > 1 {
				t.Errorf("organisation %s started %d times by replica %d (hashmod chose %d)", o, started, i, want)
			}
		}
		if len(servers[o].Requests()) == 0 {
			t.Errorf("organisation %s was never read", o)
		}
	}
	if len(used) != 2 {
		t.Fatalf("hashmod put every organisation on one replica: choose other names")
	}
	// A replica's own /metrics carries no organisation's series: they come
	// only through /probe, so nothing is ingested twice.
	for i, r := range replicas {
		_, body, _ := get(r.url + "/metrics")
		if strings.Contains(body, `organization="`) || !strings.Contains(body, "confluent_config_last_reload_successful 1") {
			t.Errorf("replica %d: /metrics serves organisation series, or no reload status", i)
		}
	}

	// The same key id turns INVALID in beta only: one page, for beta.
	var key sim.BYOKKey
	for _, k := range servers["beta"].BYOKKeys() {
		if k.State == "IN_USE" && k.Validation.Phase == "VALID" {
			key = k
			break
		}
	}
	if key.ID == "" {
		t.Fatal("no VALID key in use")
	}
	servers["beta"].SetValidation(key.ID, "INVALID", "Access to key denied.", time.Now())
	fired := waitForAlert(t, hook, "ConfluentBYOKKeyInvalidInUse", key.ID, "firing", 90*time.Second)
	if fired.Labels["organization"] != "beta" || fired.Labels["instance"] != "beta" || !strings.HasPrefix(fired.Annotations["summary"], "[beta] ") {
		t.Errorf("the page does not name its organisation: labels %v, summary %q", fired.Labels, fired.Annotations["summary"])
	}
	if n, err := promQuery(promURL, fmt.Sprintf(`ALERTS{alertname="ConfluentBYOKKeyInvalidInUse",key_id=%q}`, key.ID)); err != nil || n != 1 {
		t.Errorf("%d alerts for key %s (%v), want 1: the same id in the other organisations is VALID", n, key.ID, err)
	}
	// Every organisation's health alerts would carry it too.
	if n, err := promQuery(promURL, `confluent_refresh_success{organization=""}`); err != nil || n != 0 {
		t.Errorf("%d health series without an organisation (%v)", n, err)
	}
}
