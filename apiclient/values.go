package apiclient

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// The wire types of list items are lenient: a value that is absent, null or
// of the wrong type never fails the list. Only the envelope can (see
// decodePage). What could not be read is marked bad, so that the item is
// exported with what it has and the dropped value is counted (ListStats).

// text is a JSON string that may be absent or null (""), or unreadable.
type text struct {
	s   string
	bad bool
}

func (t *text) UnmarshalJSON(b []byte) error {
	// The fast path: a string with no escapes, already checked by the decoder.
	if len(b) >= 2 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		t.s = string(b[1 : len(b)-1])
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	if json.Unmarshal(b, &t.s) != nil {
		*t = text{bad: true}
	}
	return nil
}

// object is a JSON object decoded into T, which may be absent or null (v
// nil), or not an object at all (bad).
type object[T any] struct {
	v   *T
	bad bool
}

func (o *object[T]) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v := new(T)
	if json.Unmarshal(b, v) != nil {
		*o = object[T]{bad: true}
		return nil
	}
	o.v = v
	return nil
}

// timestamp is an RFC 3339 time that may be absent or null (zero), or
// unreadable (bad): another type, no zone, an impossible date.
type timestamp struct {
	t   time.Time
	bad bool
}

func (ts *timestamp) UnmarshalJSON(b []byte) error {
	var s text
	_ = s.UnmarshalJSON(b)
	if s.bad {
		ts.bad = true
	} else if s.s != "" {
		t, ok := parseTime(s.s)
		*ts = timestamp{t: t, bad: !ok}
	}
	return nil
}

// parseTime reads an RFC 3339 time. A leap second (23:59:60) is a valid RFC
// 3339 time that Go's parser refuses: it is read as the second after :59.
// Times at or before the Unix epoch are a serialised zero value (Go's
// "0001-01-01T00:00:00Z", a Unix 0), not a real time: they read as absent.
func parseTime(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil && len(s) > 19 && s[16:19] == ":60" {
		t, err = time.Parse(time.RFC3339, s[:17]+"59"+s[19:])
		t = t.Add(time.Second)
	}
	if err != nil {
		return time.Time{}, false
	}
	return meaningful(t), true
}

func meaningful(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t
}

// expiryDate is spec.expires_at: a date (the key expires at the end of that
// day, UTC). A full RFC 3339 time is accepted as it is.
type expiryDate struct{ timestamp }

func (d *expiryDate) UnmarshalJSON(b []byte) error {
	var s text
	_ = s.UnmarshalJSON(b)
	if s.bad || s.s == "" {
		d.bad = s.bad
		return nil
	}
	if strings.Contains(s.s, "T") {
		t, ok := parseTime(s.s)
		d.timestamp = timestamp{t: t, bad: !ok}
		return nil
	}
	if t, err := time.Parse(time.DateOnly, s.s); err == nil {
		d.t = meaningful(t.Add(24*time.Hour - time.Second))
	} else {
		d.bad = true
	}
	return nil
}

// fields collects, for one item, the names of the values that could not be
// read (or, for the values the API documents as required, were missing).
type fields []string

// text returns t's value, noting name when it is unreadable, or missing and required.
func (f *fields) text(t text, name string, required bool) string {
	if t.bad || required && t.s == "" {
		*f = append(*f, name)
	}
	return t.s
}

// time returns t's value, noting name when it is unreadable.
func (f *fields) time(t timestamp, name string) time.Time {
	if t.bad {
		*f = append(*f, name)
	}
	return t.t
}

// object returns o's value (nil when absent), noting name when it is not an
// object, or missing and required.
func objectValue[T any](f *fields, o object[T], name string, required bool) *T {
	if o.bad || required && o.v == nil {
		*f = append(*f, name)
	}
	return o.v
}

// number is a JSON number that may be absent or null (set false), or not a
// number at all (bad).
type number struct {
	v   float64
	set bool
	bad bool
}

func (n *number) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if json.Unmarshal(b, &n.v) != nil {
		*n = number{bad: true}
		return nil
	}
	n.set = true
	return nil
}

// number returns n's value and whether there is one, noting name when it is
// unreadable, or missing and required.
func (f *fields) number(n number, name string, required bool) (float64, bool) {
	if n.bad || required && !n.set {
		*f = append(*f, name)
	}
	return n.v, n.set
}
