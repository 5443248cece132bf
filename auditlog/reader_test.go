package auditlog

import (
	"context"
	"crypto/x509"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/testkit"
)

const (
	auditKey    = "AUDITKEY0000001"
	auditSecret = "audit-secret-never-shown-0123456789" //nolint:gosec // a test secret
)

type secret string

func (s secret) Secret(context.Context) (string, error) { return string(s), nil }

// startLog starts an audit-log cluster with TLS and an empty topic.
func startLog(t *testing.T) *sim.AuditLogBroker {
	t.Helper()
	b, err := sim.StartAuditLog(nil, sim.AuditLogOptions{APIKey: auditKey, Secret: auditSecret, TLS: true, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// startReader runs a Reader of b's log with the given secret until the
// test ends, logging into the returned buffer.
func startReader(t *testing.T, b *sim.AuditLogBroker, pass string) (*Reader, *testkit.Buffer) {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b.CAPEM())
	logs := &testkit.Buffer{}
	r := NewReader("acme", Config{
		Bootstrap: b.Addrs(), APIKey: auditKey, Secret: secret(pass),
		Lookback: 7 * 24 * time.Hour, TLS: true, RootCAs: pool,
	}, log.NewLogfmtLogger(logs))
	r.retryBase, r.retryMax, r.checkEvery = 20*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if strings.Contains(logs.String(), pass) && pass != "" {
			t.Errorf("the secret is in the log:\n%s", logs)
		}
	})
	return r, logs
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

func all(string) bool { return true }

func lastSuccess(r *Reader, id string) time.Time {
	for _, k := range r.LastSuccesses(all) {
		if k.ID == id {
			return k.LastSuccess
		}
	}
	return time.Time{}
}

// TestReadsTheWindow: from now − lookback on, every partition: the newest
// success per key whatever the order, failures, other and invalid records
// counted; nothing before the window.
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
		sim.Authentication{Identifier: "GONE", Unknown: true, Time: now.Add(-4 * day)},
		sim.Authentication{Identifier: "GONE", Unknown: true, Time: now.Add(-4 * day)},
	))
	must(t, b.Produce(ctx,
		sim.Record{Value: []byte(`{"type":"io.confluent.kafka.server/authorization"}`), Time: now.Add(-time.Minute)},
		sim.Record{Value: []byte(`not json`), Time: now.Add(-time.Minute)},
	))
	r, _ := startReader(t, b, auditSecret)
	eventually(t, "caught up", func() bool { return r.Status().CaughtUp })

	if got := lastSuccess(r, "K1"); !got.Equal(now.Add(-time.Hour)) {
		t.Errorf("K1 last success %v, want %v", got, now.Add(-time.Hour))
	}
	if got := lastSuccess(r, "SR1"); !got.Equal(now.Add(-2 * day)) {
		t.Errorf("SR1 (Schema Registry) last success %v, want %v", got, now.Add(-2*day))
	}
	if got := lastSuccess(r, "OLD"); !got.IsZero() {
		t.Errorf("OLD, before the window, read: %v", got)
	}
	keys, unknown := r.Failures(listedAs("K1"))
	if !slices.Equal(keys, []Key{{ID: "K1", Failures: 1}}) || unknown != 2 {
		t.Errorf("failures %v, unknown %d; want K1:1, unknown 2", keys, unknown)
	}
	s := r.Status()
	if want := [numKinds]uint64{6, 1, 1}; s.Records != want {
		t.Errorf("records %v, want %v (authentication, other, invalid)", s.Records, want)
	}
	if !s.Up || s.Newest.Before(now.Add(-time.Hour)) {
		t.Errorf("status %+v: want up, newest record within the hour", s)
	}
	if start := now.Add(-7 * day); s.WindowStart.Before(start.Add(-time.Minute)) || s.WindowStart.After(start.Add(time.Minute)) {
		t.Errorf("window start %v, want about %v", s.WindowStart, start)
	}

	// It follows the log.
	must(t, b.Authenticate(ctx, sim.Authentication{Identifier: "K2", Success: true}))
	eventually(t, "K2 read", func() bool { return !lastSuccess(r, "K2").IsZero() })
}

// TestWindowStartsAtTheOldestRecordLeft: where retention has deleted
// records after now − lookback, the window starts at the first left.
func TestWindowStartsAtTheOldestRecordLeft(t *testing.T) {
	b := startLog(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	for p := range int32(3) {
		// Round robin: one record per partition per call.
		var recs []sim.Record
		for range 3 {
			recs = append(recs, sim.Record{Value: []byte(`{"type":"x"}`), Time: now.Add(-time.Duration(6-p) * 24 * time.Hour)})
		}
		must(t, b.Produce(context.Background(), recs...))
	}
	for p := range int32(3) {
		must(t, b.Cluster().DeleteRecords(sim.AuditLogTopic, p, 1))
	}
	r, _ := startReader(t, b, auditSecret)
	eventually(t, "caught up", func() bool { return r.Status().CaughtUp })
	s := r.Status()
	if oldest := now.Add(-6 * 24 * time.Hour); s.WindowStart.Before(oldest) {
		t.Errorf("window start %v, before the oldest record left (%v)", s.WindowStart, oldest)
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
	r, _ := startReader(t, b, auditSecret)
	eventually(t, "caught up", func() bool { return r.Status().CaughtUp })
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
		r, logs := startReader(t, b, "not-the-secret-at-all")
		eventually(t, "an unauthorized error", func() bool { return r.Status().Errors[ReasonUnauthorized] >= 2 })
		if s := r.Status(); s.Up || s.Errors[ReasonNetwork] > 0 {
			t.Errorf("status %+v: want down, no network errors", s)
		}
		if !strings.Contains(logs.String(), auditKey) {
			t.Errorf("the log does not name the key:\n%s", logs)
		}
	})
	t.Run("revoked", func(t *testing.T) {
		b := startLog(t)
		b.SetRevoked(true)
		r, logs := startReader(t, b, auditSecret)
		eventually(t, "an unauthorized error", func() bool { return r.Status().Errors[ReasonUnauthorized] >= 1 })
		if !strings.Contains(logs.String(), "SASL_AUTHENTICATION_FAILED") {
			t.Errorf("the log does not say what the broker said:\n%s", logs)
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
	r, _ := startReader(t, b, auditSecret)
	eventually(t, "a topic_missing error", func() bool { return r.Status().Errors[ReasonTopicMissing] >= 1 })
}

// TestBrokerUnreachable: nothing listens; then the broker goes away while
// reading, and reading resumes where it stopped when it is back.
func TestBrokerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r := NewReader("acme", Config{Bootstrap: []string{addr}, APIKey: auditKey, Secret: secret(auditSecret), Lookback: time.Hour}, nil)
	r.retryBase, r.retryMax, r.checkEvery = 20*time.Millisecond, 100*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	eventually(t, "a network error", func() bool { return r.Status().Errors[ReasonNetwork] >= 2 })
	if n := r.Status().Errors[ReasonNetwork]; n > 1000 {
		t.Errorf("%d network errors: the count does not count", n)
	}
	cancel()
	<-done
}

// TestRefusedPartitionsAreFailures: an error the broker gives for one
// partition in each listing of offsets, and for every partition in a fetch
// (not authorized for the topic), ends the session as a counted failure;
// reading resumes once the broker answers.
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
	r, _ := startReader(t, b, auditSecret)
	eventually(t, "four failures and then the log read", func() bool {
		s := r.Status()
		return s.Errors[ReasonOther] >= 3 && s.Errors[ReasonUnauthorized] >= 1 && s.CaughtUp && !lastSuccess(r, "K1").IsZero()
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

// TestResumesWhereItStopped: a session that ends (here because partitions
// were added) resumes each partition at its next offset, and reads the new
// ones from the window's start: nothing is read twice, nothing missed.
func TestResumesWhereItStopped(t *testing.T) {
	b := startLog(t)
	ctx := context.Background()
	must(t, b.Authenticate(ctx, sim.Authentication{Identifier: "K1", Success: false}, sim.Authentication{Identifier: "K1", Success: false}))
	r, logs := startReader(t, b, auditSecret)
	eventually(t, "caught up", func() bool { return r.Status().CaughtUp })
	start := r.Status().WindowStart

	must(t, b.AddPartitions(ctx, 2))
	eventually(t, "a new session", func() bool { return r.Status().Errors[ReasonOther] >= 1 })
	if !strings.Contains(logs.String(), "partitions added") {
		t.Errorf("the log does not say why reading restarted:\n%s", logs)
	}
	// Five partitions now, round robin: one record reaches a new one.
	var more []sim.Authentication
	for range 5 {
		more = append(more, sim.Authentication{Identifier: "K1", Success: false})
	}
	must(t, b.Authenticate(ctx, more...))
	eventually(t, "the new records read", func() bool { return r.Status().Records[KindAuthentication] == 7 })
	if keys, _ := r.Failures(listedAs("K1")); !slices.Equal(keys, []Key{{ID: "K1", Failures: 7}}) {
		t.Errorf("failures %v, want K1:7 (nothing read twice)", keys)
	}
	if s := r.Status(); !s.WindowStart.Equal(start) || !s.Up {
		t.Errorf("status %+v: want up, the window still from %v", s, start)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestJitter: a retry waits between half the backoff and all of it, both
// ends included, down to the nanosecond.
func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{0, time.Nanosecond, 2, 3, time.Second, time.Minute} {
		lo, hi := d, time.Duration(0)
		for range 2000 {
			w := jitter(d)
			lo, hi = min(lo, w), max(hi, w)
		}
		if lo < d/2 || hi > d {
			t.Errorf("jitter(%v) in [%v, %v], want within [%v, %v]", d, lo, hi, d/2, d)
		}
		if d >= time.Second && (lo > d/2+d/10 || hi < d-d/10) {
			t.Errorf("jitter(%v) in [%v, %v]: not spread over [%v, %v]", d, lo, hi, d/2, d)
		}
	}
}
