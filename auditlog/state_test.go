package auditlog

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleState(now time.Time) *state {
	ns := now.UnixNano()
	return &state{
		SavedAt:    ns,
		logSource:  logSource{Cluster: "lkc-a0d17", Topic: DefaultTopic, TopicID: "00ff"},
		LatestList: ns - 10,
		Newest:     ns - 20,
		Partitions: []statePartition{{Partition: 0, Next: 12, Since: ns - int64(7*24*time.Hour)}, {Partition: 1, Next: 0, Since: 0}},
		KeyColumns: keyColumns,
		Keys: []stateKey{
			{ID: "ABCDEFGHIJKLMNOP", LastSuccess: ns - 100, Listed: ns - 10, Added: ns - 1000},
			{ID: "NEVERUSED", Listed: ns - 10, Added: ns - 1000},
			{ID: `odd "id" \ <&> ключ`, LastSuccess: ns - 5, Added: ns - 5},
		},
	}
}

// TestStateRoundTrip: what encode writes, decodeState reads back the same,
// odd key ids included.
func TestStateRoundTrip(t *testing.T) {
	now := time.Now()
	s := sampleState(now)
	got, err := decodeState(s.encode(), now)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("read back\n%+v\nwant\n%+v", got, s)
	}
}

// TestStateRefusesWhatNoReaderSaved: a corrupt or foreign file is an
// error, never data.
func TestStateRefusesWhatNoReaderSaved(t *testing.T) {
	now := time.Now()
	good := string(sampleState(now).encode())
	changed := func(f func(*state)) string {
		s := sampleState(now)
		f(s)
		return string(s.encode())
	}
	for name, c := range map[string]struct{ file, want string }{
		"not JSON":           {"\x00garbage", "not a state file"},
		"truncated":          {good[:len(good)-40], "not a state file"},
		"another format":     {strings.Replace(good, stateFormat, "something else", 1), "not a state file of this exporter"},
		"another version":    {strings.Replace(good, `"version":1`, `"version":2`, 1), "state version 2"},
		"checksum":           {strings.Replace(good, `"next_offset":12`, `"next_offset":13`, 1), "checksum mismatch"},
		"saved in 2999":      {changed(func(s *state) { s.SavedAt = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() }), "saved_at_ns"},
		"a use in 2999":      {changed(func(s *state) { s.Keys[0].LastSuccess = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() }), "last_success_ns"},
		"a use in 1999":      {changed(func(s *state) { s.Keys[0].LastSuccess = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() }), "last_success_ns"},
		"a key twice":        {changed(func(s *state) { s.Keys[1].ID = s.Keys[0].ID }), "repeated"},
		"an empty key":       {changed(func(s *state) { s.Keys[1].ID = "" }), "impossible"},
		"a key too long":     {changed(func(s *state) { s.Keys[1].ID = strings.Repeat("K", 256) }), "impossible"},
		"a negative offset":  {changed(func(s *state) { s.Partitions[0].Next = -1 }), "impossible"},
		"a partition twice":  {changed(func(s *state) { s.Partitions[1].Partition = 0 }), "repeated"},
		"positions, no log":  {changed(func(s *state) { s.Topic = "" }), "positions of no topic"},
		"other key columns":  {withCRC(strings.Replace(body(good), `"key_columns":["id",`, `"key_columns":["ID",`, 1)), "key columns"},
		"a short key row":    {withCRC(strings.Replace(body(good), `["NEVERUSED",0,`, `["NEVERUSED",`, 1)), "columns"},
		"an unknown field":   {withCRC(strings.Replace(body(good), `"saved_at_ns"`, `"extra":1,"saved_at_ns"`, 1)), "unknown field"},
		"a good file, again": {withCRC(body(good)), ""},
		"a since in 2999":    {changed(func(s *state) { s.Partitions[0].Since = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() }), "since_ns"},
		"a list in the past": {changed(func(s *state) { s.LatestList = 5 }), "latest_list_ns"},
		"a record in 2999":   {changed(func(s *state) { s.Newest = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() }), "newest_ns"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeState([]byte(c.file), now)
			if c.want == "" {
				if err != nil {
					t.Errorf("a good file refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}

// body is the state of a file's bytes, as written.
func body(file string) string {
	state := file[strings.Index(file, `"state":`)+len(`"state":`):]
	return state[:strings.LastIndex(state, `,"crc32c":`)]
}

// withCRC is a file of a state written by hand, with its right checksum.
func withCRC(state string) string {
	return fmt.Sprintf(`{"format":%q,"version":%d,"state":%s,"crc32c":%d}`, stateFormat, stateVersion, state, crc32.Checksum([]byte(state), castagnoli))
}

// TestWriteFileAtomic: the file appears whole, mode 0600, in a directory
// made 0700, with no temporary left; a path that cannot be written is an
// error and leaves the old file.
func TestWriteFileAtomic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "audit-log-acme.json")
	for _, content := range []string{"one", "two"} {
		if err := writeFileAtomic(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Errorf("read %q, want %q", got, content)
		}
	}
	if got := fileMode(t, path); got != 0o600 {
		t.Errorf("mode %o, want 600", got)
	}
	if got := fileMode(t, dir); got != 0o700 {
		t.Errorf("directory mode %o, want 700", got)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries, want 1", len(entries))
	}
	if err := writeFileAtomic(filepath.Join(path, "under-a-file"), []byte("x")); err == nil {
		t.Error("wrote under a regular file")
	}
	if got, _ := os.ReadFile(path); string(got) != "two" {
		t.Errorf("a failed write changed the file: %q", got)
	}
}

// FuzzDecodeState: no file crashes the reader of state files, and what it
// reads passes its checks.
func FuzzDecodeState(f *testing.F) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Add(sampleState(now).encode())
	f.Add([]byte(`{"format":"confluent_keys_exporter audit-log usage","version":1,"crc32c":0,"state":{}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := decodeState(raw, now)
		if err == nil && s.check(now) != nil {
			t.Errorf("read a state that fails its checks: %v", s.check(now))
		}
	})
}
