package auditlog

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// fillLog writes, per key, an authentication n days ago for n in 1..3,
// round robin over the partitions, and returns each key's newest.
func fillLog(t *testing.T, b *sim.AuditLogBroker, keys ...string) map[string]time.Time {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Millisecond)
	want := map[string]time.Time{}
	var auths []sim.Authentication
	for i, k := range keys {
		for n := 3; n >= 1; n-- {
			at := now.Add(-time.Duration(n)*24*time.Hour - time.Duration(i)*time.Minute)
			auths = append(auths, sim.Authentication{Identifier: k, Success: true, Time: at})
			want[k] = at
		}
	}
	must(t, b.Authenticate(context.Background(), auths...))
	return want
}

func sameTimes(a, b map[string]time.Time) bool {
	return maps.EqualFunc(a, b, func(x, y time.Time) bool { return x.Equal(y) })
}

func recordsRead(r *Reader) uint64 {
	var n uint64
	for _, c := range r.Status().Records {
		n += c
	}
	return n
}

// TestRestartResumesWhereItStopped: a reader stopped (SIGTERM) saves; the
// next reads only what was written since, with the same last
// authentications and the same window start; the file is 0600 and holds
// no secret. A reader killed (no final save) resumes from its last
// periodic save, and ends with the same usage.
func TestRestartResumesWhereItStopped(t *testing.T) {
	b := startLog(t)
	path := stateFile(t)
	keys := []string{"K1", "K2", "K3"}
	want := fillLog(t, b, keys...)

	first := startReader(t, config(b, path), keys)
	eventually(t, "caught up", caughtUp(first.Reader))
	window := first.Status().WindowStart
	eventually(t, "a periodic save", func() bool { return !first.Status().Saved.IsZero() })
	first.stop()

	if got := fileMode(t, path); got != 0o600 {
		t.Errorf("state file mode %o, want 600", got)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), auditSecret) || strings.Contains(string(raw), auditKey) {
		t.Error("the state file holds the audit-log credentials")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("the state directory holds %d files, want the state file alone (no temporary left)", len(entries))
	}

	// While it was down: one more sign-in.
	later := time.Now().UTC().Truncate(time.Millisecond)
	must(t, b.Authenticate(context.Background(), sim.Authentication{Identifier: "K1", Success: true, Time: later}))
	want["K1"] = later

	second := startReader(t, config(b, path), nil) // the keys come from the file
	eventually(t, "caught up after the restart", caughtUp(second.Reader))
	if n := recordsRead(second.Reader); n != 1 {
		t.Errorf("read %d records after the restart, want the 1 written while down", n)
	}
	if got := lastSuccesses(second.Reader); !sameTimes(got, want) {
		t.Errorf("last successes after the restart %v, want %v", got, want)
	}
	if got := second.Status().WindowStart; !got.Equal(window) {
		t.Errorf("window start %v after the restart, want %v (kept)", got, window)
	}

	// Killed: the last periodic save is all there is. A copy of it, made
	// before more was read, stands for the file a kill leaves.
	eventually(t, "a save after the restart", func() bool { return second.Status().Saved.After(first.Status().Saved) })
	killed := filepath.Join(t.TempDir(), "killed.json")
	copyFile(t, path, killed)
	evenLater := time.Now().UTC().Truncate(time.Millisecond)
	must(t, b.Authenticate(context.Background(), sim.Authentication{Identifier: "K2", Success: true, Time: evenLater}))
	want["K2"] = evenLater
	eventually(t, "the new sign-in read", func() bool { return lastSuccess(second.Reader, "K2").Equal(evenLater) })

	third := startReader(t, config(b, killed), nil)
	eventually(t, "caught up after a kill", caughtUp(third.Reader))
	if got := lastSuccesses(third.Reader); !sameTimes(got, want) {
		t.Errorf("last successes after a kill %v, want %v", got, want)
	}
	if got := third.Status().WindowStart; !got.Equal(window) {
		t.Errorf("window start %v after a kill, want %v", got, window)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	must(t, err)
	must(t, os.WriteFile(to, raw, 0o600))
}

// TestRetentionOfReadRecordsChangesNothing: records deleted after they were
// read leave the usage and the window as they were.
func TestRetentionOfReadRecordsChangesNothing(t *testing.T) {
	b := startLog(t)
	path := stateFile(t)
	want := fillLog(t, b, "K1", "K2")
	first := startReader(t, config(b, path), []string{"K1", "K2"})
	eventually(t, "caught up", caughtUp(first.Reader))
	window := first.Status().WindowStart
	first.stop()
	for _, p := range readState(t, path).Partitions {
		must(t, b.Cluster().DeleteRecords(sim.AuditLogTopic, p.Partition, p.Next))
	}
	second := startReader(t, config(b, path), nil)
	eventually(t, "caught up", caughtUp(second.Reader))
	if got := lastSuccesses(second.Reader); !sameTimes(got, want) {
		t.Errorf("last successes %v, want %v: a last use that scrolled out of the topic is still true", got, want)
	}
	if got := second.Status().WindowStart; !got.Equal(window) {
		t.Errorf("window start %v, want %v", got, window)
	}
	if strings.Contains(second.logs.String(), "gap") {
		t.Errorf("a gap reported where there is none:\n%s", second.logs)
	}
}

// TestRecordsDeletedBeforeTheyWereReadMoveTheWindow: while the reader was
// down, the retention took records it never read: that partition is read
// from the lookback, and the window starts after the gap; what was known of
// the keys stays.
func TestRecordsDeletedBeforeTheyWereReadMoveTheWindow(t *testing.T) {
	b := startLog(t)
	path := stateFile(t)
	want := fillLog(t, b, "K1")
	first := startReader(t, config(b, path), []string{"K1", "K2"})
	eventually(t, "caught up", caughtUp(first.Reader))
	first.stop()

	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	lost, left := now.Add(-2*time.Hour), now.Add(-time.Hour)
	must(t, b.ProduceTo(ctx, 1,
		sim.Record{Value: b.Event(sim.Authentication{Identifier: "K2", Success: true, Time: lost}), Time: lost},
		sim.Record{Value: b.Event(sim.Authentication{Identifier: "K2", Success: false, Time: left}), Time: left},
	))
	saved := readState(t, path)
	var next int64
	for _, p := range saved.Partitions {
		if p.Partition == 1 {
			next = p.Next
		}
	}
	must(t, b.Cluster().DeleteRecords(sim.AuditLogTopic, 1, next+1)) // the sign-in of K2, never read

	second := startReader(t, config(b, path), nil)
	eventually(t, "caught up", caughtUp(second.Reader))
	if got := second.Status().WindowStart; !got.Equal(left) {
		t.Errorf("window start %v, want %v: the first record left after the gap", got, left)
	}
	if got := lastSuccesses(second.Reader); !sameTimes(got, want) {
		t.Errorf("last successes %v, want %v (K1 kept, K2's lost sign-in unknown)", got, want)
	}
	if !strings.Contains(second.logs.String(), "retention deleted records before they were read") {
		t.Errorf("the gap is not logged:\n%s", second.logs)
	}
}

// TestSavedPositionsOfAnotherLogAreNotUsed: a topic made again (another
// topic id), or positions past the log's end, are read afresh from the
// lookback; the keys' usage stays.
func TestSavedPositionsOfAnotherLogAreNotUsed(t *testing.T) {
	t.Run("topic made again", func(t *testing.T) {
		b := startLog(t)
		path := stateFile(t)
		want := fillLog(t, b, "K1")
		first := startReader(t, config(b, path), []string{"K1"})
		eventually(t, "caught up", caughtUp(first.Reader))
		first.stop()
		must(t, b.RecreateTopic())
		must(t, b.Authenticate(context.Background(), sim.Authentication{Identifier: "K2", Success: false}))

		second := startReader(t, config(b, path), nil)
		eventually(t, "caught up", caughtUp(second.Reader))
		if n := recordsRead(second.Reader); n != 1 {
			t.Errorf("read %d records of the new topic, want its 1", n)
		}
		if got := lastSuccesses(second.Reader); !sameTimes(got, want) {
			t.Errorf("last successes %v, want %v", got, want)
		}
		if !strings.Contains(second.logs.String(), "another audit log") {
			t.Errorf("not logged:\n%s", second.logs)
		}
	})
	t.Run("past the end", func(t *testing.T) {
		b := startLog(t)
		path := stateFile(t)
		want := fillLog(t, b, "K1")
		first := startReader(t, config(b, path), []string{"K1"})
		eventually(t, "caught up", caughtUp(first.Reader))
		first.stop()
		s := readState(t, path)
		for i := range s.Partitions {
			s.Partitions[i].Next += 1000
		}
		must(t, os.WriteFile(path, s.encode(), 0o600))

		second := startReader(t, config(b, path), nil)
		eventually(t, "caught up", caughtUp(second.Reader))
		if got := lastSuccesses(second.Reader); !sameTimes(got, want) {
			t.Errorf("last successes %v, want %v", got, want)
		}
		if n := second.Status().Records[KindAuthentication]; n != 3 {
			t.Errorf("read %d authentications, want the log's 3 again", n)
		}
		if !strings.Contains(second.logs.String(), "past the log's end") {
			t.Errorf("not logged:\n%s", second.logs)
		}
	})
}

// TestCorruptStateFileIsSetAside: a file that is not a state, or whose
// checksum does not match, is counted, logged, moved aside, and the log is
// read afresh; the next save writes a good file.
func TestCorruptStateFileIsSetAside(t *testing.T) {
	for name, corrupt := range map[string]func([]byte) []byte{
		"garbage":   func([]byte) []byte { return []byte("\x00\x01not json") },
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"bit flip": func(b []byte) []byte {
			i := strings.Index(string(b), `"next_offset":`) + len(`"next_offset":`)
			b[i] ^= 0x01 // another digit: valid JSON, wrong data
			return b
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := startLog(t)
			path := stateFile(t)
			want := fillLog(t, b, "K1")
			first := startReader(t, config(b, path), []string{"K1"})
			eventually(t, "caught up", caughtUp(first.Reader))
			first.stop()
			raw, err := os.ReadFile(path)
			must(t, err)
			must(t, os.WriteFile(path, corrupt(raw), 0o600))

			second := startReader(t, config(b, path), []string{"K1"})
			eventually(t, "caught up", caughtUp(second.Reader))
			if n := second.Status().StateErrors[OpLoad]; n != 1 {
				t.Errorf("%d load errors, want 1", n)
			}
			if _, err := os.Stat(path + ".corrupt"); err != nil {
				t.Errorf("not set aside: %v", err)
			}
			if got := lastSuccesses(second.Reader); !sameTimes(got, want) {
				t.Errorf("read afresh: %v, want %v", got, want)
			}
			eventually(t, "a good save", func() bool { return !second.Status().Saved.IsZero() })
			readState(t, path)
		})
	}
}

// TestUnwritableStoragePath: saves fail, are counted, warned about once,
// and usage stays in memory: reading goes on.
func TestUnwritableStoragePath(t *testing.T) {
	b := startLog(t)
	notADir := filepath.Join(t.TempDir(), "file")
	must(t, os.WriteFile(notADir, nil, 0o600))
	fillLog(t, b, "K1")
	r := startReader(t, config(b, filepath.Join(notADir, "audit-log-acme.json")), []string{"K1"})
	eventually(t, "caught up", caughtUp(r.Reader))
	eventually(t, "three failed saves", func() bool {
		r.SetListed([]string{"K1"}) // a change to save
		return r.Status().StateErrors[OpSave] >= 3
	})
	if n := strings.Count(r.logs.String(), `level=warn msg="Saving the audit log's state failed`); n != 1 {
		t.Errorf("%d warnings of failed saves, want 1:\n%s", n, r.logs)
	}
	if lastSuccess(r.Reader, "K1").IsZero() || !r.Status().Up {
		t.Error("reading stopped because saving failed")
	}
}

// TestSavedOnceCaughtUp: a catch-up is saved as soon as it is done, not a
// save interval later; and no more often than the interval.
func TestSavedOnceCaughtUp(t *testing.T) {
	b := startLog(t)
	path := stateFile(t)
	fillLog(t, b, "K1")
	r := startReader(t, config(b, path), []string{"K1"}, func(r *Reader) { r.timing.saveEvery = time.Hour })
	eventually(t, "caught up", caughtUp(r.Reader))
	eventually(t, "saved once caught up", func() bool { return !r.Status().Saved.IsZero() })
	saved := r.Status().Saved
	must(t, b.Authenticate(context.Background(), sim.Authentication{Identifier: "K1", Success: true}))
	eventually(t, "the new record read", func() bool { return r.Status().Records[KindAuthentication] == 4 })
	time.Sleep(5 * fast.checkEvery)
	if got := r.Status().Saved; !got.Equal(saved) {
		t.Errorf("saved again at %v within the save interval (first at %v)", got, saved)
	}
}
