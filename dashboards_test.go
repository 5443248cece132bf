package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	SchemaVersion int `json:"schemaVersion"`
}

type panel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Datasource  *datasourceRef  `json:"datasource"`
	Targets     []panelTarget   `json:"targets"`
	Panels      []panel         `json:"panels"` // a collapsed row's panels
	FieldConfig json.RawMessage `json:"fieldConfig"`
}

type panelTarget struct {
	Expr       string         `json:"expr"`
	RefID      string         `json:"refId"`
	Datasource *datasourceRef `json:"datasource"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// dashboardQuery is one panel query, with Grafana's variables replaced by
// what a user selecting "All" gets.
type dashboardQuery struct {
	file, panel, refID, expr string
}

var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "1m",
	"$__interval", "15s",
	"$__range", "1h",
	"$job", ".*",
	"$instance", ".*",
	"$organization", ".*",
	"$owner", ".*",
)

// loadDashboards reads every dashboard and checks what can be checked without
// Prometheus: valid JSON, templated datasource, unique panel ids, descriptions.
func loadDashboards(t *testing.T) []dashboardQuery {
	t.Helper()
	files, err := filepath.Glob("dashboards/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards: %v", err)
	}
	var queries []dashboardQuery
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: not valid JSON: %v", f, err)
		}
		if d.Title == "" || d.UID == "" || d.SchemaVersion < 36 {
			t.Errorf("%s: needs a title, a uid and a current schemaVersion (got %d)", f, d.SchemaVersion)
		}
		var vars []string
		for _, v := range d.Templating.List {
			vars = append(vars, v.Name+":"+v.Type)
		}
		for _, want := range []string{"datasource:datasource", "job:query", "instance:query", "organization:query", "owner:query"} {
			if !slices.Contains(vars, want) {
				t.Errorf("%s: no %s variable (have %v)", f, want, vars)
			}
		}
		// The only datasource UIDs allowed: the variable, and Grafana's built-in one.
		for _, m := range regexp.MustCompile(`"uid":\s*"([^"]*)"`).FindAllStringSubmatch(string(b), -1) {
			if m[1] != "${datasource}" && m[1] != "-- Grafana --" && m[1] != d.UID {
				t.Errorf("%s: hard-coded uid %q", f, m[1])
			}
		}
		ids := map[int]string{}
		var walk func([]panel)
		walk = func(ps []panel) {
			for _, p := range ps {
				if prev, dup := ids[p.ID]; dup {
					t.Errorf("%s: panel id %d used by %q and %q", f, p.ID, prev, p.Title)
				}
				ids[p.ID] = p.Title
				walk(p.Panels)
				if p.Type == "row" {
					continue
				}
				if p.Description == "" {
					t.Errorf("%s: panel %q has no description", f, p.Title)
				}
				if len(p.Targets) == 0 {
					t.Errorf("%s: panel %q has no query", f, p.Title)
				}
				for _, tg := range p.Targets {
					ds := tg.Datasource
					if ds == nil {
						ds = p.Datasource
					}
					if ds == nil || ds.UID != "${datasource}" {
						t.Errorf("%s: panel %q query %s does not use the ${datasource} variable", f, p.Title, tg.RefID)
					}
					queries = append(queries, dashboardQuery{file: f, panel: p.Title, refID: tg.RefID, expr: grafanaVars.Replace(tg.Expr)})
				}
			}
		}
		walk(d.Panels)
	}
	return queries
}

// rulesFile is what the checks read of a Prometheus rule file.
type rulesFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record string `yaml:"record"`
			Alert  string `yaml:"alert"`
			Expr   string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadRules(t *testing.T) (rulesFile, []string) {
	t.Helper()
	b, err := os.ReadFile("alerts/confluent-keys.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf rulesFile
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	var recorded []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record != "" {
				recorded = append(recorded, r.Record)
			}
		}
	}
	return rf, recorded
}

// readmeQueries returns the ```promql blocks of README.md (its first, the
// INVALID BYOK keys in use) and of docs/*.md.
func readmeQueries(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range append([]string{"README.md"}, docs...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile("(?s)```promql\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
			out = append(out, strings.TrimSpace(m[1]))
		}
	}
	if len(out) < 5 {
		t.Fatalf("only %d promql examples in README.md and docs/", len(out))
	}
	return out
}

// metricNames parses expr and returns the metric names it selects.
func metricNames(expr string) ([]string, error) {
	e, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	return names, nil
}

// scrapedNames runs the exporter against the simulator and returns the
// metric names of a real scrape, histogram and counter suffixes included.
func scrapedNames(t *testing.T) map[string]bool {
	t.Helper()
	s, api := newSimServer(t, sim.DefaultOrg)
	// Odd items too: the metrics of what was left out are there only then.
	s.SetFaults(sim.Faults{Body: "odd-items", Page: 1})
	args := append(startAuditLog(t, s), "--refresh.interval=1h", "--collector.users", "--storage.path="+t.TempDir())
	// Once restarted, it says when it last saved what the audit log told.
	first := startExporter(t, api.URL, args...)
	first.waitForBody(t, "/metrics", `confluent_audit_log_caught_up{organization="default"} 1`, 30*time.Second)
	first.stop(t, syscall.SIGTERM)
	e := startExporter(t, api.URL, args...)
	e.waitFor(t, "/-/ready", 200, 20*time.Second)
	// The audit log's families are there once it is read.
	e.waitForBody(t, "/metrics", "confluent_iam_api_key_last_authenticated_timestamp_seconds{", 30*time.Second)
	e.waitForBody(t, "/metrics", "confluent_audit_log_state_saved_timestamp_seconds{", 30*time.Second)
	body := e.waitFor(t, "/metrics", 200, time.Second)
	tp := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := tp.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for name := range mfs {
		names[name] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			names[name+suffix] = true
		}
	}
	return names
}

func TestDashboardsAndRulesUseExposedMetrics(t *testing.T) {
	exposed := scrapedNames(t)
	rf, recorded := loadRules(t)
	known := func(name string) bool {
		return exposed[name] || slices.Contains(recorded, name) || name == "up"
	}

	queries := loadDashboards(t)
	if len(queries) < 20 {
		t.Fatalf("only %d dashboard queries found", len(queries))
	}
	for _, q := range queries {
		names, err := metricNames(q.expr)
		if err != nil {
			t.Errorf("%s: panel %q query %s does not parse: %v\n%s", q.file, q.panel, q.refID, err, q.expr)
			continue
		}
		for _, n := range names {
			if !known(n) {
				t.Errorf("%s: panel %q query %s uses %s, which the exporter does not expose", q.file, q.panel, q.refID, n)
			}
		}
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			names, err := metricNames(r.Expr)
			if err != nil {
				t.Errorf("rule %s%s: %v", r.Alert, r.Record, err)
			}
			for _, n := range names {
				if !known(n) {
					t.Errorf("rule %s%s uses %s, which the exporter does not expose", r.Alert, r.Record, n)
				}
			}
		}
	}
	for _, q := range readmeQueries(t) {
		names, err := metricNames(q)
		if err != nil {
			t.Errorf("README.md query does not parse: %v\n%s", err, q)
		}
		for _, n := range names {
			if !known(n) {
				t.Errorf("README.md query uses %s, which the exporter does not expose:\n%s", n, q)
			}
		}
	}
	// The check must be able to fail.
	if names, _ := metricNames(`confluent_no_such_metric`); known(names[0]) {
		t.Fatal("an unknown metric passed the check")
	}
	fmt.Fprintf(os.Stderr, "checked %d dashboard queries against %d exposed metric names\n", len(queries), len(exposed))
}

// TestQueriesKeepOrganizationsApart: two organisations may hold the same key
// ids, so every dashboard and alert query that joins or groups by job and
// instance does so by organization too, and every dashboard selector of an
// exporter metric obeys the organization variable.
func TestQueriesKeepOrganizationsApart(t *testing.T) {
	type query struct{ where, expr string }
	var all []query
	for _, q := range loadDashboards(t) {
		all = append(all, query{q.file + ": panel " + q.panel, q.expr})
	}
	rf, _ := loadRules(t)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			all = append(all, query{"alerts: " + r.Alert + r.Record, r.Expr})
		}
	}
	for i, q := range readmeQueries(t) {
		all = append(all, query{fmt.Sprintf("README.md: query %d", i+1), q})
	}
	raw, err := os.ReadFile("dashboards/confluent-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`"expr": "(.*)"`).FindAllStringSubmatch(string(raw), -1) {
		if n, o := strings.Count(m[1], `instance=~\"$instance\"`), strings.Count(m[1], `organization=~\"$organization\"`); n == 0 || n != o {
			t.Errorf("%d selectors by instance, %d by organization: each must obey the organization variable: %s", n, o, m[1])
		}
	}
	for _, q := range all {
		e, err := parser.NewParser(parser.Options{}).ParseExpr(q.expr)
		if err != nil {
			t.Fatalf("%s: %v", q.where, err)
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			var labels []string
			switch n := n.(type) {
			case *parser.BinaryExpr:
				if n.VectorMatching != nil && n.VectorMatching.On {
					labels = n.VectorMatching.MatchingLabels
				}
			case *parser.AggregateExpr:
				if !n.Without {
					labels = n.Grouping
				}
			}
			if slices.Contains(labels, "instance") && !slices.Contains(labels, "organization") {
				t.Errorf("%s: %s (%v) leaves out organization", q.where, n, labels)
			}
			return nil
		})
	}
}

// TestAlertLinksOpenTheDashboard: the alerts per owner link to the shipped
// dashboard (confluent_keys:dashboard_url names its uid), with variables
// it has: the owner's keys, filtered, in one click.
func TestAlertLinksOpenTheDashboard(t *testing.T) {
	b, err := os.ReadFile("alerts/confluent-keys.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rf struct {
		Groups []struct {
			Rules []struct {
				Record      string            `yaml:"record"`
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &rf); err != nil {
		t.Fatal(err)
	}
	var d dashboard
	raw, err := os.ReadFile("dashboards/confluent-keys.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	perOwner := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Record == "confluent_keys:dashboard_url" {
				if u := r.Labels["url"]; !strings.Contains(u, "/d/"+d.UID+"/") {
					t.Errorf("confluent_keys:dashboard_url %q does not name the dashboard's uid %q", u, d.UID)
				}
			}
			link, ok := r.Annotations["dashboard"]
			if !ok {
				continue
			}
			perOwner[r.Alert] = true
			if !strings.Contains(link, `query "confluent_keys:dashboard_url"`) {
				t.Errorf("%s: its dashboard link does not read confluent_keys:dashboard_url", r.Alert)
			}
			for _, m := range regexp.MustCompile(`var-([a-z_]+)=`).FindAllStringSubmatch(link, -1) {
				if !vars[m[1]] {
					t.Errorf("%s: its dashboard link sets var-%s, which the dashboard does not have", r.Alert, m[1])
				}
			}
			if !strings.Contains(r.Expr, "by (job, instance, organization, owner_id, owner_kind)") {
				t.Errorf("%s links to an owner's keys but is not one alert per owner: %s", r.Alert, r.Expr)
			}
		}
	}
	for _, name := range []string{
		"ConfluentAPIKeyRotationOverdue", "ConfluentAPIKeyOwnedByUser", "ConfluentAPIKeyRotationUnfinished",
		"ConfluentAPIKeyUnused", "ConfluentAPIKeyOldKeyStillUsed", "ConfluentAPIKeyOwnerUnknown",
	} {
		if !perOwner[name] {
			t.Errorf("%s has no dashboard link to its owner's keys", name)
		}
	}
}
