package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

// TestNoAlertFloodOnDayOne: a 250-key organisation with 12 owners that
// never rotated (every key years old), read with its audit log, raises at
// most 40 alerts, and no alert name more than 15: the hygiene alerts come
// one per owner. The shipped rules run in a real Prometheus with every
// `for` removed (the first week, compressed) and the unused-key period at
// six days, which the audit log's seven days cover at once, so that every
// alert that can fire does.
func TestNoAlertFloodOnDayOne(t *testing.T) {
	testkit.Slow(t)
	org := sim.OrgConfig{Now: time.Now(), Seed: 29, BYOKKeys: 8, APIKeys: 250, Owners: 12, MinKeyAge: 2 * 365 * 24 * time.Hour, Quirks: true, AuditLog: true}
	s, api := newSimServer(t, org)
	exp := startExporter(t, api.URL, append(startAuditLog(t, s), "--refresh.interval=1s", "--collector.users")...)
	exp.waitFor(t, "/-/ready", 200, 20*time.Second)

	dir := t.TempDir()
	rules := string(mustRead(t, "alerts/confluent-keys.rules.yml"))
	rules = regexp.MustCompile(`(?m)^        for: \S+$`).ReplaceAllString(rules, "        for: 0s")
	promURL := startPrometheus(t, dir, freePort(t), writeConfig(t, dir, "rules.yml", rules), freePort(t), fmt.Sprintf(`
  - job_name: confluent_keys_exporter
    static_configs: [{targets: [%q]}]`, strings.TrimPrefix(exp.url, "http://")))

	// Every owner is past the rotation policy once the keys are scraped,
	// and the audit log is caught up. Then the count of alerts holds still
	// for a few evaluations: that is the flood, or not.
	var counts map[string]int
	deadline := time.Now().Add(90 * time.Second)
	for stable := 0; stable < 5; {
		now, err := firingAlerts(promURL)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case now["ConfluentAPIKeyRotationOverdue"] < org.Owners || !caughtUp(promURL):
			stable = 0
		case maps.Equal(now, counts):
			stable++
		default:
			stable = 0
		}
		counts = now
		if time.Now().After(deadline) {
			t.Fatalf("the alerts did not settle within 90 s (every owner overdue, the audit log caught up): %v", counts)
		}
		time.Sleep(time.Second) // one evaluation
	}
	total := 0
	var lines []string
	for _, name := range slices.Sorted(maps.Keys(counts)) {
		total += counts[name]
		lines = append(lines, fmt.Sprintf("%4d %s", counts[name], name))
		if counts[name] > 15 {
			t.Errorf("%d alerts named %s, want at most 15", counts[name], name)
		}
	}
	if total > 40 {
		t.Errorf("%d alerts, want at most 40", total)
	}
	t.Logf("%d alerts:\n%s", total, strings.Join(lines, "\n"))
}

func caughtUp(promURL string) bool {
	v, err := testkit.PromValue(promURL, "confluent_audit_log_caught_up")
	return err == nil && v == 1
}

// firingAlerts counts Prometheus's firing alerts by name.
func firingAlerts(promURL string) (map[string]int, error) {
	resp, err := http.Get(promURL + "/api/v1/query?query=" + url.QueryEscape(`count by (alertname) (ALERTS{alertstate="firing"})`))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, s := range r.Data.Result {
		v, _ := s.Value[1].(string)
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("count of %s: %w", s.Metric["alertname"], err)
		}
		out[s.Metric["alertname"]] = n
	}
	return out, nil
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAlertmanagerExampleRoutesBySeverity: examples/alertmanager.yml is a
// configuration Alertmanager takes; every shipped alert reaches the
// receiver of its severity (critical pages, warning opens a ticket, info
// notifies no one), grouped by alertname, organization and owner.
func TestAlertmanagerExampleRoutesBySeverity(t *testing.T) {
	amtool := testkit.Tool(t, "amtool", "prometheus-alertmanager")
	const example = "examples/alertmanager.yml"
	if out, err := exec.Command(amtool, "check-config", example).CombinedOutput(); err != nil {
		t.Fatalf("amtool check-config %s: %v\n%s", example, err, out)
	}
	var cfg struct {
		Route struct {
			GroupBy []string `yaml:"group_by"`
		} `yaml:"route"`
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []any  `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(mustRead(t, example), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"alertname", "organization", "owner_id"} {
		if !slices.Contains(cfg.Route.GroupBy, l) {
			t.Errorf("%s: the route does not group by %s (group_by %v)", example, l, cfg.Route.GroupBy)
		}
	}
	for _, r := range cfg.Receivers {
		if r.Name == "quiet" && len(r.WebhookConfigs) > 0 {
			t.Errorf("%s: the info receiver notifies someone", example)
		}
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(mustRead(t, "alerts/confluent-keys.rules.yml"), &rules); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"critical": "pager", "warning": "tickets", "info": "quiet"}
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			n++
			sev := r.Labels["severity"]
			receiver, ok := want[sev]
			if !ok {
				t.Errorf("%s: severity %q is none of critical, warning, info", r.Alert, sev)
				continue
			}
			out, err := exec.Command(amtool, "config", "routes", "test", "--config.file="+example,
				"alertname="+r.Alert, "severity="+sev, "organization=acme", "owner_id=sa-1").Output()
			if got := strings.TrimSpace(string(out)); err != nil || got != receiver {
				t.Errorf("%s (%s) goes to %q (%v), want %s", r.Alert, sev, got, err, receiver)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d alerts found in the rules", n)
	}
}
