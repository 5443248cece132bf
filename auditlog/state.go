package auditlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// What the reader keeps across restarts, in one file per organisation:
// where each partition is read up to and since when without a gap, which
// audit log that is (cluster, topic and its id), and per key its last
// successful authentication and when the API last listed it. No secret,
// no failure count (counters start again at 0), no identifier only a
// client typed.
//
// The file is JSON: an envelope naming the format and its version, and the
// state with a CRC-32C of its bytes, so that a truncated or corrupt file is
// told from a good one and never read as data.
const (
	stateFormat  = "confluent_keys_exporter audit-log usage"
	stateVersion = 1
	// maxStateSize bounds the file read: 100,000 keys take about 7 MB.
	maxStateSize = 256 << 20
)

// logSource names the log that positions are of: the audit-log cluster,
// the topic and the topic's id (a topic deleted and made again has
// another). A position saved for another source is never used.
type logSource struct {
	Cluster string `json:"cluster_id"`
	Topic   string `json:"topic"`
	TopicID string `json:"topic_id"`
}

type state struct {
	SavedAt int64 `json:"saved_at_ns"`
	logSource
	LatestList int64            `json:"latest_list_ns"`
	Newest     int64            `json:"newest_ns"` // the newest record read
	Partitions []statePartition `json:"partitions"`
	// Keys are [id, last_success_ns, listed_ns, added_ns] each (KeyColumns).
	KeyColumns []string   `json:"key_columns"`
	Keys       []stateKey `json:"keys"`
}

type statePartition struct {
	Partition int32 `json:"partition"`
	Next      int64 `json:"next_offset"`
	Since     int64 `json:"since_ns"`
}

type stateKey struct {
	ID          string
	LastSuccess int64
	Listed      int64
	Added       int64
}

var keyColumns = []string{"id", "last_success_ns", "listed_ns", "added_ns"}

// UnmarshalJSON reads a key's row: [id, last_success_ns, listed_ns, added_ns].
func (k *stateKey) UnmarshalJSON(b []byte) error {
	var row []json.RawMessage
	if err := json.Unmarshal(b, &row); err != nil {
		return err
	}
	if len(row) != len(keyColumns) {
		return fmt.Errorf("a key row has %d columns, want %d", len(row), len(keyColumns))
	}
	if err := json.Unmarshal(row[0], &k.ID); err != nil {
		return err
	}
	for i, to := range []*int64{&k.LastSuccess, &k.Listed, &k.Added} {
		if err := json.Unmarshal(row[i+1], to); err != nil {
			return err
		}
	}
	return nil
}

// envelope is the file: the format, its version, the state, and the
// checksum of the state's bytes as written.
type envelope struct {
	Format  string          `json:"format"`
	Version int             `json:"version"`
	State   json.RawMessage `json:"state"`
	CRC32C  uint32          `json:"crc32c"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encode returns the file's bytes, in one buffer: the envelope's head,
// the state, and its checksum after it (JSON's members have no order). It
// writes JSON by hand: at 100,000 keys a few milliseconds, where
// encoding/json takes ten times as long.
func (s *state) encode() []byte {
	b := make([]byte, 0, 512+len(s.Partitions)*80+len(s.Keys)*(24+3*20))
	b = append(b, `{"format":"`+stateFormat+`","version":`...)
	b = strconv.AppendInt(b, stateVersion, 10)
	b = append(b, `,"state":`...)
	from := len(b)
	b = append(b, `{"saved_at_ns":`...)
	b = strconv.AppendInt(b, s.SavedAt, 10)
	b = append(b, `,"cluster_id":`...)
	b = appendString(b, s.Cluster)
	b = append(b, `,"topic":`...)
	b = appendString(b, s.Topic)
	b = append(b, `,"topic_id":`...)
	b = appendString(b, s.TopicID)
	b = append(b, `,"latest_list_ns":`...)
	b = strconv.AppendInt(b, s.LatestList, 10)
	b = append(b, `,"newest_ns":`...)
	b = strconv.AppendInt(b, s.Newest, 10)
	b = append(b, `,"partitions":[`...)
	for i, p := range s.Partitions {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"partition":`...)
		b = strconv.AppendInt(b, int64(p.Partition), 10)
		b = append(b, `,"next_offset":`...)
		b = strconv.AppendInt(b, p.Next, 10)
		b = append(b, `,"since_ns":`...)
		b = strconv.AppendInt(b, p.Since, 10)
		b = append(b, '}')
	}
	b = append(b, `],"key_columns":["id","last_success_ns","listed_ns","added_ns"],"keys":[`...)
	for i, k := range s.Keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n["...)
		b = appendString(b, k.ID)
		b = append(b, ',')
		b = strconv.AppendInt(b, k.LastSuccess, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, k.Listed, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, k.Added, 10)
		b = append(b, ']')
	}
	b = append(b, "]}"...)
	sum := crc32.Checksum(b[from:], castagnoli)
	b = append(b, `,"crc32c":`...)
	b = strconv.AppendUint(b, uint64(sum), 10)
	return append(b, "}\n"...)
}

// appendString appends s as a JSON string: as it is when it holds nothing
// to escape (an API key id never does), else as encoding/json writes it.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// decodeState reads a file's bytes, checks its format, version, checksum
// and every value, and returns its state. now bounds the times it may hold.
func decodeState(raw []byte, now time.Time) (*state, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("not a state file: %w", err)
	}
	if env.Format != stateFormat {
		return nil, fmt.Errorf("not a state file of this exporter (format %.64q)", env.Format)
	}
	if env.Version != stateVersion {
		return nil, fmt.Errorf("state version %d, this exporter reads version %d", env.Version, stateVersion)
	}
	if got := crc32.Checksum(env.State, castagnoli); got != env.CRC32C {
		return nil, fmt.Errorf("checksum mismatch (%d, the file says %d): the file is corrupt", got, env.CRC32C)
	}
	dec := json.NewDecoder(bytes.NewReader(env.State))
	dec.DisallowUnknownFields()
	var s state
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("unreadable state: %w", err)
	}
	return &s, s.check(now)
}

// check refuses a state no reader could have saved: times after now (with
// the ten minutes a log's clock may run ahead) or before 2000, negative
// offsets, partitions or keys twice, an id no API key could have.
func (s *state) check(now time.Time) error {
	oldest := time.Date(oldestEventYear, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	latest := now.Add(maxEventTimeAfterRecord).UnixNano()
	inRange := func(what string, ns int64, zeroOK bool) error {
		if (ns == 0 && zeroOK) || (ns >= oldest && ns <= latest) {
			return nil
		}
		return fmt.Errorf("%s %d is not a time this exporter could have saved", what, ns)
	}
	if err := inRange("saved_at_ns", s.SavedAt, false); err != nil {
		return err
	}
	if err := inRange("latest_list_ns", s.LatestList, true); err != nil {
		return err
	}
	if err := inRange("newest_ns", s.Newest, true); err != nil {
		return err
	}
	if s.Topic == "" && len(s.Partitions) > 0 {
		return errors.New("positions of no topic")
	}
	if !slices.Equal(s.KeyColumns, keyColumns) {
		return fmt.Errorf("key columns %q, want %q", s.KeyColumns, keyColumns)
	}
	seen := map[int32]bool{}
	for _, p := range s.Partitions {
		if p.Partition < 0 || p.Next < 0 || seen[p.Partition] {
			return fmt.Errorf("partition %d (next offset %d) is impossible or repeated", p.Partition, p.Next)
		}
		seen[p.Partition] = true
		if err := inRange(fmt.Sprintf("partition %d since_ns", p.Partition), p.Since, true); err != nil {
			return err
		}
	}
	ids := make(map[string]bool, len(s.Keys))
	for _, k := range s.Keys {
		if k.ID == "" || len(k.ID) > maxIdentifierBytes || !utf8.ValidString(k.ID) || ids[k.ID] {
			return fmt.Errorf("key %.64q is impossible or repeated", k.ID)
		}
		ids[k.ID] = true
		for _, v := range []struct {
			what string
			ns   int64
		}{{"last_success_ns", k.LastSuccess}, {"listed_ns", k.Listed}, {"added_ns", k.Added}} {
			if err := inRange("key "+k.ID+" "+v.what, v.ns, v.what != "added_ns"); err != nil {
				return err
			}
		}
	}
	return nil
}

// readStateFile reads path: (nil, nil) when there is none.
func readStateFile(path string, now time.Time) (*state, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxStateSize {
		return nil, fmt.Errorf("larger than %d MiB: not a state file of this exporter", maxStateSize>>20)
	}
	return decodeState(raw, now)
}

// setAside moves a state file that could not be read out of the way, so
// that the next save does not overwrite what someone may want to look at,
// and returns where it went.
func setAside(path string) (string, error) {
	aside := path + ".corrupt"
	return aside, os.Rename(path, aside)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory (mode 0600), written, synced, renamed over path, and the
// directory synced, so that a crash leaves the old file or the new one,
// never a part. The directory is made (0700) if it is missing.
func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced. Not every
	// system syncs a directory (Windows): that is no failure of the save.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
