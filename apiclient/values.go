package apiclient

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// A page is parsed once (fastjson) and its items are read from the parsed
// values leniently: a value that is absent, null or of the wrong type never
// fails the list. Only the envelope can (see decodePage). What could not be
// read is noted in fields, so that the item is exported with what it has
// and the dropped value is counted (ListStats).

// fields reads the values of one item, and collects the names of those
// that could not be read (or, for the values the API documents as
// required, were missing). Every text it returns has the credentials
// removed, however the upstream encoded them (see redactor).
type fields struct {
	invalid []string
	redact  *redactor
	// elements are the entries of the item's arrays that become series
	// (certificates, resources, principals): they count toward
	// --confluent.max-items with the items.
	elements int
	// longID: the item's id was longer than MaxLabelValue.
	longID bool
}

// MaxLabelValue bounds every label value taken from the API, in bytes: a
// longer text is cut (on a UTF-8 boundary, with an ellipsis), a longer id
// or reference left out. Either is counted in ListStats.Invalid.
const MaxLabelValue = 1024

func (f *fields) reset() { f.invalid, f.elements, f.longID = f.invalid[:0], 0, false }

// count adds n entries of an array that becomes series.
func (f *fields) count(n int) { f.elements += n }

func (f *fields) note(name string) { f.invalid = append(f.invalid, name) }

// str returns the string v holds, or ("", true) when v is absent or null,
// or ("", false) when it holds something else. Invalid UTF-8 is replaced,
// as encoding/json does: a label value must be UTF-8.
func (f *fields) str(v *fastjson.Value) (string, bool) {
	if v == nil {
		return "", true
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		s := string(b)
		if !utf8.ValidString(s) {
			s = strings.ToValidUTF8(s, "\uFFFD")
		}
		if f.redact != nil {
			s = f.redact.string(s)
		}
		return s, true
	case fastjson.TypeNull:
		return "", true
	}
	return "", false
}

// text returns the string at v, noting name when it is not a string, or
// missing and required. A text longer than MaxLabelValue is cut to it on a
// UTF-8 boundary, ending in an ellipsis, and noted.
func (f *fields) text(v *fastjson.Value, name string, required bool) string {
	s, ok := f.str(v)
	if !ok || required && s == "" {
		f.note(name)
	}
	if len(s) > MaxLabelValue {
		f.note(name)
		s = cut(s, MaxLabelValue)
	}
	return s
}

// ref returns the id at v of something else (an owner, a resource, an
// environment, a key of a cloud's KMS), as text does, but never cut: a cut
// id would name another thing. One longer than MaxLabelValue is left out
// and noted.
func (f *fields) ref(v *fastjson.Value, name string, required bool) string {
	s, ok := f.str(v)
	if !ok || required && s == "" || len(s) > MaxLabelValue {
		f.note(name)
	}
	if len(s) > MaxLabelValue {
		return ""
	}
	return s
}

// flag returns the boolean at v as "true" or "false", "" when absent or
// null, noting name when it is something else.
func (f *fields) flag(v *fastjson.Value, name string) string {
	if v == nil || v.Type() == fastjson.TypeNull {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeTrue:
		return "true"
	case fastjson.TypeFalse:
		return "false"
	}
	f.note(name)
	return ""
}

// ellipsis ends a text that was cut.
const ellipsis = "\u2026"

// cut returns s cut to at most n bytes, on a UTF-8 boundary, ending in an
// ellipsis.
func cut(s string, n int) string {
	end := n - len(ellipsis)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + ellipsis
}

// object returns v when it is an object, and nil when it is absent or null
// (noting name when required) or not an object (noting name).
func (f *fields) object(v *fastjson.Value, name string, required bool) *fastjson.Value {
	if v == nil || v.Type() == fastjson.TypeNull {
		if required {
			f.note(name)
		}
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		f.note(name)
		return nil
	}
	return v
}

// array returns the elements of v, nil when it is absent or null, or not
// an array (noting name).
func (f *fields) array(v *fastjson.Value, name string) []*fastjson.Value {
	if v == nil || v.Type() == fastjson.TypeNull {
		return nil
	}
	if v.Type() != fastjson.TypeArray {
		f.note(name)
		return nil
	}
	a, _ := v.Array()
	return a
}

// time returns the RFC 3339 time at v, zero when absent or null, noting
// name when it is unreadable: another type, no zone, an impossible date.
func (f *fields) time(v *fastjson.Value, name string) time.Time {
	s, ok := f.str(v)
	if !ok {
		f.note(name)
		return time.Time{}
	}
	if s == "" {
		return time.Time{}
	}
	t, ok := parseTime(s)
	if !ok {
		f.note(name)
	}
	return t
}

// date returns the end of the day at v (spec.expires_at: the key expires
// at the end of that day, UTC); a full RFC 3339 time is taken as it is.
func (f *fields) date(v *fastjson.Value, name string) time.Time {
	s, _ := f.str(v) // "" for null or no string, which f.time tells apart
	if s == "" || strings.Contains(s, "T") {
		return f.time(v, name)
	}
	day, err := time.Parse(time.DateOnly, s)
	if err != nil {
		f.note(name)
		return time.Time{}
	}
	return meaningful(day.Add(24*time.Hour - time.Second))
}

// number returns the number at v and whether there is one, noting name when
// it is not a finite number, or missing and required.
func (f *fields) number(v *fastjson.Value, name string, required bool) (float64, bool) {
	if v == nil || v.Type() == fastjson.TypeNull {
		if required {
			f.note(name)
		}
		return 0, false
	}
	n, err := v.Float64()
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) { // fastjson reads NaN and Inf: no quota is either
		f.note(name)
		return 0, false
	}
	return n, true
}

// id returns an item's id: a non-empty string, or "" (the item cannot be
// told apart from others and is skipped). An id longer than MaxLabelValue
// is never cut: the item is skipped (longID).
func (f *fields) id(item *fastjson.Value) string {
	if item == nil || item.Type() != fastjson.TypeObject {
		return ""
	}
	s, _ := f.str(item.Get("id"))
	if len(s) > MaxLabelValue {
		f.longID = true
		return ""
	}
	return s
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

// plain is the text of a string or a number (an error's code can be
// either), "" for anything else.
func plain(v *fastjson.Value) string {
	if v == nil {
		return ""
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return strings.ToValidUTF8(string(b), "\uFFFD")
	case fastjson.TypeNumber:
		return v.String()
	}
	return ""
}
