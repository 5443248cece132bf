package auditlog

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/secret"
)

const (
	auditKey    = "AUDITKEY0000001"
	auditSecret = "audit-secret-never-shown-0123456789" //nolint:gosec // a test secret
)

// fast are the reader's intervals in tests.
var fast = timing{
	retryBase: 20 * time.Millisecond, retryMax: 100 * time.Millisecond, checkEvery: 200 * time.Millisecond,
	stallAfter: time.Second, saveEvery: 100 * time.Millisecond, listWait: 20 * time.Millisecond,
	maxReadBytes: defaultTiming.maxReadBytes,
}

// startLog starts an audit-log cluster with TLS and an empty topic.
func startLog(t *testing.T, opts ...func(*sim.AuditLogOptions)) *sim.AuditLogBroker {
	t.Helper()
	o := sim.AuditLogOptions{APIKey: auditKey, Secret: auditSecret, TLS: true, Partitions: 3}
	for _, f := range opts {
		f(&o)
	}
	b, err := sim.StartAuditLog(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// reading is a Reader that runs until stop or the test's end.
type reading struct {
	*Reader
	logs   *testkit.Buffer
	cancel context.CancelFunc
	done   chan struct{}
}

// stop ends the reader and waits until it has saved its state.
func (r *reading) stop() {
	r.cancel()
	<-r.done
}

// config is a reader's configuration for b's log.
func config(b *sim.AuditLogBroker, stateFile string) Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.CAPEM())
	return Config{
		Bootstrap: b.Addrs(), APIKey: auditKey, Secret: secret.Static(auditSecret),
		Lookback: 7 * 24 * time.Hour, TLS: true, RootCAs: pool, StateFile: stateFile,
	}
}

// startReader runs a Reader of cfg with fast timings, listing the keys
// listed first, logging into its buffer; the secret is never in it.
func startReader(t *testing.T, cfg Config, listed []string, change ...func(*Reader)) *reading {
	t.Helper()
	logs := &testkit.Buffer{}
	r := NewReader("acme", cfg, log.NewLogfmtLogger(logs))
	r.timing = fast
	for _, f := range change {
		f(r)
	}
	if listed != nil {
		r.SetListed(listed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rd := &reading{Reader: r, logs: logs, cancel: cancel, done: make(chan struct{})}
	go func() { defer close(rd.done); r.Run(ctx) }()
	t.Cleanup(func() {
		rd.stop()
		if pass, _ := cfg.Secret.Secret(context.Background()); pass != "" && strings.Contains(logs.String(), pass) {
			t.Errorf("the secret is in the log:\n%s", logs)
		}
	})
	return rd
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 20 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func lastSuccess(r *Reader, id string) time.Time {
	for _, k := range r.Usage().LastSuccesses {
		if k.ID == id {
			return k.LastSuccess
		}
	}
	return time.Time{}
}

func lastSuccesses(r *Reader) map[string]time.Time {
	out := map[string]time.Time{}
	for _, k := range r.Usage().LastSuccesses {
		out[k.ID] = k.LastSuccess
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func caughtUp(r *Reader) func() bool { return func() bool { return r.Status().CaughtUp } }

// TestReadsTheWindow: from now − lookback on, every partition: the newest
// success per key whatever the order, failures, sign-ins without an API
// key, other and invalid records counted; nothing before the window.
func TestReadsTheWindow(t *testing.T) {
	b := startLog(t)
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	day := 24 * time.Hour
	must(t, b.Authenticate(ctx,
		sim.Authentication{Identifier: "OLD", Success: true, Time: now.Add(-8 * day)},      // before the window
		sim.Authentication{Identifier: "K1", Success: true, Time: now.Add(-1 * time.Hour)}, // newest first...
		sim.Authentication{Identifier: "K1", Success: true, Time: now.Add(-3 * day)},       // ...then older, in another partition
		sim.Authentication{Identifier: "K1", Success: false, Time: now.Add(-2 * time.Hour)},
		sim.Authentication{Identifier: "SR1", Success: true, Service: "schema-registry", Time: now.Add(-2 * day)},
		sim.Authentication{Identifier: "KSQL1", Success: true, Service: "ksqldb", Time: now.Add(-2 * day)},
		sim.Authentication{Identifier: "FLINK1", Success: true, Service: "flink", Time: now.Add(-2 * day)},
		sim.Authentication{Identifier: "pool-1", Success: true, Service: "flink", Token: true, Time: now.Add(-2 * day)},
		sim.Authentication{Identifier: "GONE", Unknown: true, Time: now.Add(-4 * day)},
		sim.Authentication{Identifier: "GONE", Unknown: true, Time: now.Add(-4 * day)},
	))
	must(t, b.Produce(ctx,
		sim.Record{Value: []byte(`{"type":"io.confluent.kafka.server/authorization"}`), Time: now.Add(-time.Minute)},
		sim.Record{Value: []byte(`not json`), Time: now.Add(-time.Minute)},
	))
	r := startReader(t, config(b, ""), []string{"K1", "SR1", "KSQL1", "FLINK1", "OLD"})
	eventually(t, "caught up", caughtUp(r.Reader))

	want := map[string]time.Time{"K1": now.Add(-time.Hour), "SR1": now.Add(-2 * day), "KSQL1": now.Add(-2 * day), "FLINK1": now.Add(-2 * day)}
	if got := lastSuccesses(r.Reader); len(got) != len(want) {
		t.Errorf("last successes %v, want %v", got, want)
	}
	for id, at := range want {
		if got := lastSuccess(r.Reader, id); !got.Equal(at) {
			t.Errorf("%s last success %v, want %v", id, got, at)
		}
	}
	u := r.Usage()
	if !slices.Equal(u.Failures, []Key{{ID: "K1", Failures: 1}}) || u.Unknown != 2 {
		t.Errorf("failures %v, unknown %d; want K1:1, unknown 2", u.Failures, u.Unknown)
	}
	s := r.Status()
	if want := [NumKinds]uint64{8, 1, 1, 1}; s.Records != want {
		t.Errorf("records %v, want %v (authentication, identity, other, invalid)", s.Records, want)
	}
	if !s.Up || s.Newest.Before(now.Add(-time.Hour)) || s.Lag != 0 {
		t.Errorf("status %+v: want up, newest record within the hour, no lag", s)
	}
	if start := now.Add(-7 * day); s.WindowStart.Before(start.Add(-time.Minute)) || s.WindowStart.After(start.Add(time.Minute)) {
		t.Errorf("window start %v, want about %v", s.WindowStart, start)
	}

	// It follows the log.
	r.SetListed([]string{"K1", "K2"})
	must(t, b.Authenticate(ctx, sim.Authentication{Identifier: "K2", Success: true}))
	eventually(t, "K2 read", func() bool { return !lastSuccess(r.Reader, "K2").IsZero() })
}

// TestWindowStartsAtTheOldestRecordLeft: where retention has deleted
// records after now − lookback, the window starts at the first left.
func TestWindowStartsAtTheOldestRecordLeft(t *testing.T) {
	b := startLog(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for p := range int32(3) {
		var recs []sim.Record
		for range 3 {
			recs = append(recs, sim.Record{Value: []byte(`{"type":"x"}`), Time: now.Add(-time.Duration(6-p) * 24 * time.Hour)})
		}
		must(t, b.ProduceTo(context.Background(), p, recs...))
		must(t, b.Cluster().DeleteRecords(sim.AuditLogTopic, p, 1))
	}
	r := startReader(t, config(b, ""), []string{})
	eventually(t, "caught up", caughtUp(r.Reader))
	if oldest := now.Add(-4 * 24 * time.Hour); !r.Status().WindowStart.Equal(oldest) {
		t.Errorf("window start %v, want the latest of the partitions' first records left (%v)", r.Status().WindowStart, oldest)
	}
}

// TestWindowIsTheLookbackWhereNothingWasDeleted: a log whose first record
// is younger than the lookback has lost nothing: the window is the whole
// lookback, not the time since its first record.
func TestWindowIsTheLookbackWhereNothingWasDeleted(t *testing.T) {
	b := startLog(t)
	now := time.Now().UTC()
	var recs []sim.Record
	for range 3 { // round robin: one record per partition
		recs = append(recs, sim.Record{Value: []byte(`{"type":"x"}`), Time: now.Add(-time.Hour)})
	}
	must(t, b.Produce(context.Background(), recs...))
	r := startReader(t, config(b, ""), []string{})
	eventually(t, "caught up", caughtUp(r.Reader))
	if s := r.Status(); s.WindowStart.After(now.Add(-6 * 24 * time.Hour)) {
		t.Errorf("window start %v, want the lookback's (about %v)", s.WindowStart, now.Add(-7*24*time.Hour))
	}
}

// TestWrongSecretIsUnauthorized: a broker that closes the connection while
// authenticating (as Confluent Cloud and kfake do with a wrong secret) and
// one that answers SASL_AUTHENTICATION_FAILED (a revoked key) are both
// "unauthorized"; reading never starts, and the secret is never logged.
func TestWrongSecretIsUnauthorized(t *testing.T) {
	t.Run("closed connection", func(t *testing.T) {
		b := startLog(t)
		cfg := config(b, "")
		cfg.Secret = secret.Static("not-the-secret-at-all")
		r := startReader(t, cfg, []string{})
		eventually(t, "an unauthorized error", func() bool { return r.Status().Errors[ReasonUnauthorized] >= 2 })
		if s := r.Status(); s.Up || s.Errors[ReasonNetwork] > 0 {
			t.Errorf("status %+v: want down, no network errors", s)
		}
		if !strings.Contains(r.logs.String(), auditKey) {
			t.Errorf("the log does not name the key:\n%s", r.logs)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		b := startLog(t)
		b.SetRevoked(true)
		r := startReader(t, config(b, ""), []string{})
		eventually(t, "an unauthorized error", func() bool { return r.Status().Errors[ReasonUnauthorized] >= 1 })
		if !strings.Contains(r.logs.String(), "SASL_AUTHENTICATION_FAILED") {
			t.Errorf("the log does not say what the broker said:\n%s", r.logs)
		}
		// Restored, it reads.
		b.SetRevoked(false)
		eventually(t, "up", func() bool { return r.Status().Up })
	})
}

// TestTopicMissing: a cluster without the topic (the wrong cluster).
func TestTopicMissing(t *testing.T) {
	b := startLog(t)
	must(t, b.Cluster().DeleteTopic(sim.AuditLogTopic))
	r := startReader(t, config(b, ""), []string{})
	eventually(t, "a topic_missing error", func() bool { return r.Status().Errors[ReasonTopicMissing] >= 1 })
}

// TestBrokerUnreachable: nothing listens: network errors, counted, with a
// backoff.
func TestBrokerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := startReader(t, Config{Bootstrap: []string{addr}, APIKey: auditKey, Secret: secret.Static(auditSecret), Lookback: time.Hour}, []string{})
	eventually(t, "a network error", func() bool { return r.Status().Errors[ReasonNetwork] >= 2 })
	if n := r.Status().Errors[ReasonNetwork]; n > 1000 {
		t.Errorf("%d network errors: the backoff does not back off", n)
	}
}

// TestPlaintextClientToATLSBroker: tls: false against a TLS listener is a
// network mistake, said as one, never "unauthorized".
func TestPlaintextClientToATLSBroker(t *testing.T) {
	b := startLog(t)
	cfg := config(b, "")
	cfg.TLS = false
	r := startReader(t, cfg, []string{})
	eventually(t, "a network error", func() bool { return r.Status().Errors[ReasonNetwork] >= 1 })
	if n := r.Status().Errors[ReasonUnauthorized]; n > 0 {
		t.Errorf("%d unauthorized errors: a plaintext client to a TLS broker is no credential problem", n)
	}
	if !strings.Contains(r.logs.String(), "set tls: true") {
		t.Errorf("the log does not say what to fix:\n%s", r.logs)
	}
}

// TestPlaintextOnlyToLoopback: with tls: false, a broker the cluster
// advertises off loopback is never dialed: refused and counted.
func TestPlaintextOnlyToLoopback(t *testing.T) {
	b := startLog(t, func(o *sim.AuditLogOptions) { o.TLS = false })
	c := b.Cluster()
	// The cluster advertises its broker at an address off loopback.
	c.ControlKey(int16(kmsg.Metadata), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		mreq := req.(*kmsg.MetadataRequest)
		resp := mreq.ResponseKind().(*kmsg.MetadataResponse)
		br := kmsg.NewMetadataResponseBroker()
		br.NodeID, br.Host, br.Port = 0, "192.0.2.10", 9092
		resp.Brokers = append(resp.Brokers, br)
		cluster := "lkc-a0d17"
		resp.ClusterID, resp.ControllerID = &cluster, 0
		topic := kmsg.NewMetadataResponseTopic()
		name := sim.AuditLogTopic
		topic.Topic = &name
		for p := range int32(3) {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition, mp.Leader, mp.Replicas, mp.ISR = p, 0, []int32{0}, []int32{0}
			topic.Partitions = append(topic.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, topic)
		return resp, nil, true
	})
	cfg := config(b, "")
	cfg.TLS = false
	r := startReader(t, cfg, []string{})
	eventually(t, "a refused broker counted", func() bool { return r.Status().Errors[ReasonOther] >= 1 })
	if !strings.Contains(r.logs.String(), "192.0.2.10:9092 is not on loopback") {
		t.Errorf("the log does not name the broker refused:\n%s", r.logs)
	}
	if r.Status().Up {
		t.Error("reading from a broker off loopback without TLS")
	}
}

// TestRefusedPartitionsAreFailures: an error the broker gives for one
// partition in each listing of offsets ends the session as a counted
// failure; a fetch refused for every partition (not authorized) sets each
// aside with a backoff; reading resumes once the broker answers.
func TestRefusedPartitionsAreFailures(t *testing.T) {
	b := startLog(t)
	must(t, b.Authenticate(context.Background(), sim.Authentication{Identifier: "K1", Success: true}))
	c := b.Cluster()
	refuseListOnce(c, func(ts int64) bool { return ts == -2 }) // the first offsets
	refuseListOnce(c, func(ts int64) bool { return ts == -1 }) // the ends
	refuseListOnce(c, func(ts int64) bool { return ts >= 0 })  // the window's start
	c.ControlKey(int16(kmsg.Fetch), func(req kmsg.Request) (kmsg.Response, error, bool) {
		freq := req.(*kmsg.FetchRequest)
		resp := freq.ResponseKind().(*kmsg.FetchResponse)
		for _, rt := range freq.Topics {
			st := kmsg.NewFetchResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewFetchResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	r := startReader(t, config(b, ""), []string{"K1"})
	eventually(t, "four failures and then the log read", func() bool {
		s := r.Status()
		return s.Errors[ReasonOther] >= 3 && s.Errors[ReasonUnauthorized] >= 1 && s.CaughtUp && !lastSuccess(r.Reader, "K1").IsZero()
	})
}

// refuseListOnce makes c fail, for partition 0, the first listing of
// offsets whose timestamp is one of want's (the others get offset 0, never
// used: the listing fails as a whole). kadm reports such an error in the
// partition's offset, not as the call's error (it does so only for
// authorization errors).
func refuseListOnce(c *kfake.Cluster, want func(int64) bool) {
	c.ControlKey(int16(kmsg.ListOffsets), func(req kmsg.Request) (kmsg.Response, error, bool) {
		lreq := req.(*kmsg.ListOffsetsRequest)
		if len(lreq.Topics) == 0 || len(lreq.Topics[0].Partitions) == 0 || !want(lreq.Topics[0].Partitions[0].Timestamp) {
			return nil, nil, false
		}
		resp := lreq.ResponseKind().(*kmsg.ListOffsetsResponse)
		for _, rt := range lreq.Topics {
			st := kmsg.NewListOffsetsResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition, sp.Timestamp = rp.Partition, -1
				if rp.Partition == 0 {
					sp.ErrorCode = kerr.UnknownServerError.Code
				}
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
}

// TestPartitionsAddedWhileBusy: partitions added while records keep coming
// are found at the next check and read from their start, without an error
// and without a new session: nothing read twice, nothing missed.
func TestPartitionsAddedWhileBusy(t *testing.T) {
	b := startLog(t)
	ctx := context.Background()
	r := startReader(t, config(b, ""), []string{"K1"})
	eventually(t, "caught up", caughtUp(r.Reader))
	start := r.Status().WindowStart

	var busy atomic.Bool
	var produced atomic.Int64
	busy.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() {
		for busy.Load() {
			if b.Authenticate(ctx, sim.Authentication{Identifier: "K1", Success: false}) == nil {
				produced.Add(1)
			}
		}
	})
	eventually(t, "records read while busy", func() bool { return r.Status().Records[KindAuthentication] > 10 })
	must(t, b.AddPartitions(ctx, 2))
	// Five partitions now, round robin: records reach the new ones.
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(r.logs.String())
		}
	})
	eventually(t, "the new partitions read", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.parts[3] != nil && r.parts[3].next > 0 && r.parts[4] != nil && r.parts[4].next > 0
	})
	busy.Store(false)
	wg.Wait()
	total := produced.Load()
	eventually(t, "every record read once", func() bool { return int64(r.Status().Records[KindAuthentication]) == total })
	if u := r.Usage(); len(u.Failures) != 1 || int64(u.Failures[0].Failures) != total {
		t.Errorf("failures %v, want K1:%d (nothing read twice)", u.Failures, total)
	}
	if s := r.Status(); !s.WindowStart.Equal(start) || !s.Up || s.Errors[ReasonOther] > 0 {
		t.Errorf("status %+v: want up, no error, the window still from %v", s, start)
	}
	if !strings.Contains(r.logs.String(), "A partition was added") || strings.Contains(r.logs.String(), "retrying") {
		t.Errorf("want the partitions' addition logged, and no new session:\n%s", r.logs)
	}
}

// stateFile is a state file's path in a fresh directory.
func stateFile(t *testing.T) string {
	return filepath.Join(t.TempDir(), "state", "audit-log-acme.json")
}

// readState reads what a reader saved.
func readState(t *testing.T, path string) *state {
	t.Helper()
	s, err := readStateFile(path, time.Now())
	if err != nil || s == nil {
		t.Fatalf("state file %s: %v (present: %v)", path, err, s != nil)
	}
	return s
}

// fileMode is path's permissions.
func fileMode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}
