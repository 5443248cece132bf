package collector

import (
	"context"
	"crypto/x509"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/auditlog"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

const auditSecret = "collector-audit-secret"

// auditRig is an organisation with its audit log, and an exporter running
// against both.
type auditRig struct {
	sim    *sim.Server
	broker *sim.AuditLogBroker
	e      *Refresher
}

func newAuditRig(t *testing.T) *auditRig {
	t.Helper()
	return newAuditRigEvery(t, 20*time.Millisecond)
}

// newAuditRigEvery is newAuditRig, its series rebuilt at most every
// publishEvery while they change.
func newAuditRigEvery(t *testing.T, publishEvery time.Duration) *auditRig {
	t.Helper()
	s, ts := newSimAPI(t, sim.OrgConfig{Seed: 7, APIKeys: 120, Quirks: true, AuditLog: true})
	b, err := sim.StartAuditLog(s, sim.AuditLogOptions{Secret: auditSecret, TLS: true, History: 7 * 24 * time.Hour, Others: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.CAPEM())
	reader := auditlog.NewReader("acme", auditlog.Config{
		Bootstrap: b.Addrs(), APIKey: s.AuditLog().KeyID, Secret: secretOf(auditSecret),
		Lookback: 7 * 24 * time.Hour, TLS: true, RootCAs: pool,
	}, nil)
	opts := allOn
	opts.Interval = 200 * time.Millisecond
	opts.AuditLog = reader
	opts.AuditLogInfo = AuditLogInfo{APIKey: s.AuditLog().KeyID, Topic: sim.AuditLogTopic}
	e := newRefresher(newClient(t, ts.URL, nil), opts)
	e.audit.publishEvery = publishEvery
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { reader.Run(ctx) })
	wg.Go(func() { e.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return &auditRig{sim: s, broker: b, e: e}
}

type secretOf string

func (s secretOf) Secret(context.Context) (string, error) { return string(s), nil }

// series returns the series of one family by its key_id label.
func (r *auditRig) series(t *testing.T, name string) map[string]float64 {
	t.Helper()
	mfs, err := gatherer(r.e).Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "key_id")] = m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 30 s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLastAuthenticationOfEveryKey: every listed key that authenticated in
// the window has its last authentication, and only those; failures are
// counted by listed key, and every other identifier (deleted before the
// start, or typed by someone) under key_id="".
func TestLastAuthenticationOfEveryKey(t *testing.T) {
	r := newAuditRig(t)
	usage := r.sim.KeyUsage()
	var used []string
	for id, u := range usage {
		if u != "unused" && u != "unaudited" {
			used = append(used, id)
		}
	}
	slices.Sort(used)
	waitFor(t, "every used key's last authentication", func() bool {
		return len(r.series(t, "confluent_iam_api_key_last_authenticated_timestamp_seconds")) == len(used)
	})
	last := r.series(t, "confluent_iam_api_key_last_authenticated_timestamp_seconds")
	now := float64(time.Now().Unix())
	for _, id := range used {
		at, ok := last[id]
		switch {
		case !ok:
			t.Errorf("%s (%s) has no last authentication", id, usage[id])
		case at > now || at < now-7*86400:
			t.Errorf("%s last authenticated at %v, outside the window", id, at)
		case usage[id] == "stopped" && at > now-3*86400:
			t.Errorf("%s stopped three days ago, last authenticated at %v", id, at)
		}
	}
	failures := r.series(t, "confluent_iam_api_key_authentication_failures_total")
	for id := range failures {
		if id != "" && usage[id] != "failing" {
			t.Errorf("failures of %q (%s) have their own series", id, usage[id])
		}
	}
	if failures[""] < float64(len(r.sim.DeletedKeys())) {
		t.Errorf(`failures of unknown identifiers %v, want at least one per deleted key`, failures[""])
	}
	if got := lines(t, r.e, "confluent_audit_log_info"); !strings.Contains(got, r.sim.AuditLog().KeyID) {
		t.Errorf("confluent_audit_log_info does not name the audit-log key:\n%s", got)
	}
	health := strings.Join(strings.Fields(lines(t, r.e, "confluent_audit_log_")), " ")
	for _, want := range []string{
		`confluent_audit_log_up label:{name:"organization" value:"acme"} gauge:{value:1}`,
		`confluent_audit_log_caught_up label:{name:"organization" value:"acme"} gauge:{value:1}`,
		`confluent_audit_log_records_total label:{name:"kind" value:"invalid"}`,
		`confluent_audit_log_errors_total label:{name:"organization" value:"acme"} label:{name:"reason" value:"unauthorized"} counter:{value:0}`,
		`confluent_audit_log_window_start_timestamp_seconds`,
		`confluent_audit_log_newest_record_timestamp_seconds`,
	} {
		if !strings.Contains(health, want) {
			t.Errorf("no %s in\n%s", want, health)
		}
	}
}

// TestIdentifiersBecomeLabelsOnlyWhenListed: what a client sends is a label
// value only when it is a key the exporter has listed since it started; a
// key deleted after that keeps its own count.
func TestIdentifiersBecomeLabelsOnlyWhenListed(t *testing.T) {
	r := newAuditRig(t)
	var key string
	for id, u := range r.sim.KeyUsage() {
		if u == "weekly" {
			key = id
			break
		}
	}
	waitFor(t, "the key's last authentication", func() bool {
		_, ok := r.series(t, "confluent_iam_api_key_last_authenticated_timestamp_seconds")[key]
		return ok
	})
	ctx := context.Background()
	const typed = "ATTACKER-CHOSEN-IDENTIFIER"
	if err := r.broker.Authenticate(ctx, sim.Authentication{Identifier: typed, Unknown: true}); err != nil {
		t.Fatal(err)
	}
	r.sim.DeleteAPIKey(key)
	waitFor(t, "the key gone from the list", func() bool {
		keys, _, _ := r.e.audit.inputs.get()
		_, listed := keys[key]
		return !listed
	})
	if err := r.broker.Authenticate(ctx, sim.Authentication{Identifier: key, Unknown: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the deleted key's failure", func() bool {
		return r.series(t, "confluent_iam_api_key_authentication_failures_total")[key] == 1
	})
	if _, ok := r.series(t, "confluent_iam_api_key_authentication_failures_total")[typed]; ok {
		t.Errorf("%s became a label value", typed)
	}
	if strings.Contains(lines(t, r.e, "confluent_"), typed) {
		t.Errorf("%s is in the exposition", typed)
	}
	if _, ok := r.series(t, "confluent_iam_api_key_last_authenticated_timestamp_seconds")[key]; ok {
		t.Errorf("the deleted key %s still has a last authentication", key)
	}

	// A key that authenticates now: its last authentication follows.
	var daily sim.APIKey
	for _, k := range r.sim.APIKeys() {
		if r.sim.KeyUsage()[k.ID] == "daily" {
			daily = k
			break
		}
	}
	at := time.Now().Truncate(time.Second)
	if err := r.broker.Authenticate(ctx, sim.Authentication{Identifier: daily.ID, Success: true, Time: at}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new authentication", func() bool {
		return r.series(t, "confluent_iam_api_key_last_authenticated_timestamp_seconds")[daily.ID] == float64(at.Unix())
	})
}

// TestUsageTrackedOnlyWhereTheLogSees: usage_tracked is 1 for a key whose
// every resource records its sign-ins (a Kafka cluster other than Basic,
// Schema Registry, ksqlDB, Flink), and 0 for any other: a Basic cluster,
// Cloud, Global, Tableflow, no resource, a cluster not listed, the
// audit-log key. Every key the simulated log cannot see is 0.
func TestUsageTrackedOnlyWhereTheLogSees(t *testing.T) {
	r := newAuditRig(t)
	kinds := map[string]string{}
	for _, c := range r.sim.KafkaClusters() {
		kinds[c.ID] = c.Spec.Config.Kind
	}
	want := map[string]float64{}
	for _, k := range r.sim.APIKeys() {
		if k.Spec.Owner == nil {
			continue // Confluent-internal: not listed
		}
		resources := k.Spec.Resources
		if len(resources) == 0 && k.Spec.Resource != nil {
			resources = append(resources, k.Spec.Resource)
		}
		tracked := len(resources) > 0 && k.ID != r.sim.AuditLog().KeyID
		for _, res := range resources {
			switch {
			case strings.HasPrefix(res.ID, "lsrc-"), strings.HasPrefix(res.ID, "lksqlc-"), res.Kind == "Region":
			case strings.HasPrefix(res.ID, "lkc-"):
				tracked = tracked && kinds[res.ID] != "" && kinds[res.ID] != "Basic"
			default:
				tracked = false
			}
		}
		want[k.ID] = map[bool]float64{true: 1, false: 0}[tracked]
	}
	var got map[string]float64
	waitFor(t, "a usage_tracked series per listed key, with the clusters known", func() bool {
		got = r.series(t, "confluent_iam_api_key_usage_tracked")
		return maps.Equal(got, want)
	})
	counts := map[float64]int{}
	for _, v := range got {
		counts[v]++
	}
	if counts[0] < 10 || counts[1] < 10 {
		t.Errorf("tracked %d, untracked %d: the organisation should have many of both", counts[1], counts[0])
	}
	for id, u := range r.sim.KeyUsage() {
		if u == "unaudited" && got[id] != 0 {
			t.Errorf("%s, busy on a Basic cluster, is tracked", id)
		}
	}
}

// TestCaughtUpComesWithEveryAuthentication: the first scrape that says
// caught_up 1 already has the last authentication of every key used,
// although the series are rebuilt only every 15 seconds while reading.
func TestCaughtUpComesWithEveryAuthentication(t *testing.T) {
	r := newAuditRigEvery(t, 15*time.Second)
	var used int
	for _, u := range r.sim.KeyUsage() {
		if u != "unused" && u != "unaudited" {
			used++
		}
	}
	waitFor(t, "caught up", func() bool {
		mfs, err := gatherer(r.e).Gather()
		if err != nil {
			t.Fatal(err)
		}
		caught, last := false, 0
		for _, mf := range mfs {
			switch mf.GetName() {
			case "confluent_audit_log_caught_up":
				caught = mf.GetMetric()[0].GetGauge().GetValue() == 1
			case "confluent_iam_api_key_last_authenticated_timestamp_seconds":
				last = len(mf.GetMetric())
			}
		}
		if caught && last != used {
			snap := snapshotOf(r.e)
			var names []string
			for _, mf := range snap.Select(func(string) bool { return true }) {
				names = append(names, mf.GetName())
			}
			t.Fatalf("caught_up 1 with %d last authentications served, want %d; snapshot %v", last, used, names)
		}
		return caught
	})
}
