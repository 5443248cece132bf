package auditlog

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The event types that are sign-ins (../shared/upstream-api/audit-log.md
// §4, §5). Every other type is counted as other, without decoding further.
const (
	typeKafkaAuthentication = "io.confluent.kafka.server/authentication"
	typeSRAuthentication    = "io.confluent.sg.server/authentication"
	typeKSQLAuthentication  = "io.confluent.ksql.server/authentication"
	typeFlinkAuthentication = "io.confluent.flink.server/authentication"
)

// What makes an event time believable: at most this long after Kafka
// stamped its record, and not before oldestEventYear. A time read from the
// log is also never later than the reader's clock by more than
// maxEventTimeAfterRecord (a record stamped in the future).
const (
	maxEventTimeAfterRecord = 10 * time.Minute
	oldestEventYear         = 2000
)

// maxRecordSize bounds a record read: an authentication event is a few
// hundred bytes to about 1 KB; a larger record is invalid, unread.
const maxRecordSize = 64 << 10

// Kind is what a record is.
type Kind int

// The kinds of records, as confluent_audit_log_records_total counts them.
const (
	KindAuthentication Kind = iota // a sign-in with an API key (Kafka, Schema Registry, ksqlDB, Flink)
	KindIdentity                   // a sign-in without an API key: an OAuth token or a certificate
	KindOther                      // any other event type
	KindInvalid                    // not a readable event: not JSON, too large, or without the fields
	NumKinds
)

// String is the kind's label value.
func (k Kind) String() string {
	return [...]string{"authentication", "identity", "other", "invalid"}[k]
}

// authentication is what an authentication event says.
type authentication struct {
	identifier string // the API key the client sent: attacker-controlled for failures
	success    bool
	at         time.Time
	// untrusted: the event's own time was not believed (long after its
	// record was written, or before 2000), and at is the record's time.
	untrusted bool
}

// decoder reads records, reusing its parser.
type decoder struct{ p fastjson.Parser }

// decode classifies one record value and, for an authentication with an
// API key, returns what it says. It looks at the event type first, without
// decoding the rest: nine in ten records are other events. recordTime, the
// time Kafka stamped the record with, stands in for an event time that is
// missing, unreadable or not believable: an event time more than ten
// minutes after its record was written, or before 2000, would pin a key's
// last use to a date that never was.
func (d *decoder) decode(value []byte, recordTime time.Time) (Kind, authentication) {
	if len(value) > maxRecordSize {
		return KindInvalid, authentication{}
	}
	typ, ok := eventType(value)
	var v *fastjson.Value
	if ok && typ == escapedString {
		// A type written with escapes (no producer of Confluent's does):
		// read the whole record to know it.
		var err error
		if v, err = d.p.ParseBytes(value); err != nil || v.Type() != fastjson.TypeObject {
			return KindInvalid, authentication{}
		}
		typ = str(v.Get("type"))
	}
	switch {
	case !ok:
		return KindInvalid, authentication{}
	case !isSignIn(typ):
		return KindOther, authentication{}
	}
	if v == nil {
		var err error
		if v, err = d.p.ParseBytes(value); err != nil || v.Type() != fastjson.TypeObject {
			return KindInvalid, authentication{}
		}
	}
	data := v.Get("data")
	var a authentication
	if typ == typeKafkaAuthentication {
		// Kafka: the identifier the client sent, and result.status. A
		// mechanism other than PLAIN (OAUTHBEARER, mTLS) signs in without
		// an API key.
		meta := data.Get("authenticationInfo", "metadata")
		a.identifier = str(meta.Get("identifier"))
		a.success = str(data.Get("result", "status")) == "SUCCESS"
		if mech := str(meta.Get("mechanism")); mech != "" && !strings.Contains(strings.ToUpper(mech), "PLAIN") {
			if a.identifier == "" {
				return KindInvalid, authentication{}
			}
			return KindIdentity, authentication{}
		}
	} else {
		// Schema Registry, ksqlDB, Flink: the credential's id, and a
		// result string (or, in some Flink events, result.status). A
		// token or a certificate is a credential without an API key.
		auth := data.Get("authenticationInfo")
		creds := auth.Get("credentials")
		a.identifier = str(creds.Get("idSecretCredentials", "credentialId"))
		result := auth.Get("result")
		if result == nil {
			result = data.Get("result", "status")
		}
		a.success = str(result) == "SUCCESS"
		if a.identifier == "" && creds != nil && creds.Type() == fastjson.TypeObject {
			return KindIdentity, authentication{}
		}
	}
	if a.identifier == "" {
		return KindInvalid, authentication{}
	}
	a.at, a.untrusted = eventTime(str(v.Get("time")), recordTime)
	return KindAuthentication, a
}

// eventTime is the event's time when it can be believed, else the
// record's; untrusted says an event time was given and not believed.
func eventTime(s string, recordTime time.Time) (at time.Time, untrusted bool) {
	t, err := time.Parse(time.RFC3339Nano, s)
	switch {
	case err != nil:
		return recordTime, false // none, or unreadable: the record's time is all there is
	case t.Year() < oldestEventYear, !recordTime.IsZero() && t.After(recordTime.Add(maxEventTimeAfterRecord)):
		return recordTime, true
	}
	return t, false
}

// isSignIn reports whether typ is one of the sign-in event types.
func isSignIn(typ string) bool {
	switch typ {
	case typeKafkaAuthentication, typeSRAuthentication, typeKSQLAuthentication, typeFlinkAuthentication:
		return true
	}
	return false
}

// str is the string v holds, "" for anything else; valid UTF-8.
func str(v *fastjson.Value) string {
	if v == nil || v.Type() != fastjson.TypeString {
		return ""
	}
	b, _ := v.StringBytes()
	if !utf8.Valid(b) {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(b)
}

// What eventType returns for a type that is no authentication, and for one
// written with escapes.
const (
	otherType     = "\x00other"
	escapedString = "\x00escaped"
)

// eventType finds the member "type" of the top-level JSON object in b, and
// returns the sign-in type it names, otherType, or escapedString if the
// string has escapes (event types have none). It scans
// past other members without decoding them, and allocates nothing. ok is
// false when b is not an object or has no such string member: the record is
// not an event.
func eventType(b []byte) (typ string, ok bool) {
	const name = "type"
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", false
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return "", false
		}
		keyStart := i + 1
		i = skipString(b, i)
		if i < 0 {
			return "", false
		}
		key := b[keyStart : i-1]
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return "", false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && string(key) == name {
			if b[i] != '"' {
				return "", false
			}
			end := skipString(b, i)
			switch {
			case end < 0:
				return "", false
			case bytes.IndexByte(b[i+1:end-1], '\\') >= 0:
				return escapedString, true
			}
			switch t := b[i+1 : end-1]; string(t) {
			case typeKafkaAuthentication:
				return typeKafkaAuthentication, true
			case typeSRAuthentication:
				return typeSRAuthentication, true
			case typeKSQLAuthentication:
				return typeKSQLAuthentication, true
			case typeFlinkAuthentication:
				return typeFlinkAuthentication, true
			}
			return otherType, true
		}
		if i = skipValue(b, i); i < 0 {
			return "", false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ',' {
			return "", false // the end of the object, or not JSON: no such member
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] ('"'),
// or -1 when it does not end.
func skipString(b []byte, i int) int {
	for i++; ; {
		j := bytes.IndexAny(b[i:], `"\`)
		if j < 0 {
			return -1
		}
		i += j
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // an escape: the next byte is never the end
		if i >= len(b) {
			return -1
		}
	}
}

// skipValue returns the index after the value starting at b[i], or -1. It
// checks brackets only as far as it must to find the end: the record is
// parsed properly if it turns out to be an authentication.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for {
			j := bytes.IndexAny(b[i:], `"{}[]`)
			if j < 0 {
				return -1
			}
			i += j
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			default:
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // a number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\r' && b[i] != '\t' {
			i++
		}
		return i
	}
}
