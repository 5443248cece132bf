package auditlog

import (
	"strings"
	"testing"
	"time"
)

var recordTime = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// TestDecode: what each record is, and what an authentication says, read
// leniently (../shared/upstream-api/audit-log.md §3-§5).
func TestDecode(t *testing.T) {
	at := time.Date(2026, 11, 29, 9, 26, 53, 589000000, time.UTC)
	kafka := func(identifier, status string) string {
		return `{"specversion":"1.0","id":"5d0c2b9e","source":"crn://confluent.cloud/kafka=lkc-r8v5k2",` +
			`"type":"io.confluent.kafka.server/authentication","time":"2026-11-29T09:26:53.589Z",` +
			`"data":{"methodName":"kafka.Authentication","authenticationInfo":{"principal":"User:4812907",` +
			`"principalResourceId":"sa-9w3k1p","metadata":{"mechanism":"SASL_SSL/PLAIN","identifier":"` + identifier + `"}},` +
			`"result":{"status":"` + status + `","message":""}}}`
	}
	for _, c := range []struct {
		name, value string
		kind        Kind
		want        authentication
	}{
		{"kafka success", kafka("ZQ4T7HXB2MPLK9WA", "SUCCESS"), KindAuthentication, authentication{"ZQ4T7HXB2MPLK9WA", true, at, false}},
		{"kafka wrong secret", kafka("ZQ4T7HXB2MPLK9WA", "UNAUTHENTICATED"), KindAuthentication, authentication{"ZQ4T7HXB2MPLK9WA", false, at, false}},
		{"kafka unknown key", kafka("K2D8VQ7PN4RT6XEC", "UNKNOWN_USER_DENIED"), KindAuthentication, authentication{"K2D8VQ7PN4RT6XEC", false, at, false}},
		{"a status added later is a failure", kafka("K2D8VQ7PN4RT6XEC", "SOMETHING_NEW"), KindAuthentication, authentication{"K2D8VQ7PN4RT6XEC", false, at, false}},
		{
			"schema registry success",
			`{"type":"io.confluent.sg.server/authentication","time":"2026-11-29T09:26:53.589Z","data":{"authenticationInfo":{` +
				`"principal":{"confluentServiceAccount":{"resourceId":"sa-1"}},"result":"SUCCESS",` +
				`"credentials":{"idSecretCredentials":{"credentialId":"SRKEY0000000001"},"mechanism":"HTTP_BASIC"}}}}`,
			KindAuthentication,
			authentication{"SRKEY0000000001", true, at, false},
		},
		{
			"schema registry failure",
			`{"type":"io.confluent.sg.server/authentication","time":"2026-11-29T09:26:53.589Z","data":{"authenticationInfo":{` +
				`"principal":null,"result":"FAILURE","credentials":{"idSecretCredentials":{"credentialId":"SRKEY0000000001"}}}}}`,
			KindAuthentication,
			authentication{"SRKEY0000000001", false, at, false},
		},
		{
			"ksqlDB with an API key",
			`{"type":"io.confluent.ksql.server/authentication","time":"2026-11-29T09:26:53.589Z","data":{"authenticationInfo":{` +
				`"result":"SUCCESS","credentials":{"idSecretCredentials":{"credentialId":"KSQLKEY00000001"},"mechanism":"HTTP_BASIC"}}}}`,
			KindAuthentication,
			authentication{"KSQLKEY00000001", true, at, false},
		},
		{
			"Flink with an API key, its result in data.result",
			`{"type":"io.confluent.flink.server/authentication","time":"2026-11-29T09:26:53.589Z","data":{"authenticationInfo":{` +
				`"credentials":{"idSecretCredentials":{"credentialId":"FLINKKEY0000001"}}},"result":{"status":"SUCCESS"},` +
				`"cloudResources":[{"resource":{"type":"FLINK_REGION","resourceId":"aws.us-east-1"}}]}}`,
			KindAuthentication,
			authentication{"FLINKKEY0000001", true, at, false},
		},
		{
			"Flink failure",
			`{"type":"io.confluent.flink.server/authentication","time":"2026-11-29T09:26:53.589Z","data":{"authenticationInfo":{` +
				`"credentials":{"idSecretCredentials":{"credentialId":"FLINKKEY0000001"}}},"result":{"status":"FAILURE"}}}`,
			KindAuthentication,
			authentication{"FLINKKEY0000001", false, at, false},
		},
		{
			"ksqlDB with a token: no API key",
			`{"type":"io.confluent.ksql.server/authentication","data":{"authenticationInfo":{"result":"SUCCESS",` +
				`"credentials":{"idTokenCredentials":{"type":"JWT","issuer":"https://idp","subject":"u"},"mechanism":"HTTP_BEARER"}}}}`,
			KindIdentity,
			authentication{},
		},
		{
			"Schema Registry with a certificate: no API key",
			`{"type":"io.confluent.sg.server/authentication","data":{"authenticationInfo":{"result":"SUCCESS",` +
				`"credentials":{"certificateCredentials":{"dn":"CN=app"},"mechanism":"MTLS"}}}}`,
			KindIdentity,
			authentication{},
		},
		{"Kafka with OAuth: no API key", strings.Replace(kafka("pool-abc", "SUCCESS"), "SASL_SSL/PLAIN", "SASL_SSL/OAUTHBEARER", 1), KindIdentity, authentication{}},
		{"second precision", strings.Replace(kafka("K1", "SUCCESS"), "09:26:53.589Z", "09:26:53Z", 1), KindAuthentication, authentication{"K1", true, at.Truncate(time.Second), false}},
		{"an event time long after its record's: the record's", strings.Replace(kafka("K1", "SUCCESS"), "2026-11-29T09:26:53.589Z", "2999-01-01T00:00:00Z", 1), KindAuthentication, authentication{"K1", true, recordTime, true}},
		{"an event time before 2000: the record's", strings.Replace(kafka("K1", "SUCCESS"), "2026-11-29T09:26:53.589Z", "1970-01-01T00:00:00Z", 1), KindAuthentication, authentication{"K1", true, recordTime, true}},
		{"an event time ten minutes after its record's", strings.Replace(kafka("K1", "SUCCESS"), "2026-11-29T09:26:53.589Z", "2026-11-30T12:10:00Z", 1), KindAuthentication, authentication{"K1", true, recordTime.Add(10 * time.Minute), false}},
		{"fields reordered, type last", `{"data":{"result":{"status":"SUCCESS"},"authenticationInfo":{"metadata":{"identifier":"K1"}}},` +
			`"time":"2026-11-29T09:26:53.589Z","type":"io.confluent.kafka.server/authentication"}`, KindAuthentication, authentication{"K1", true, at, false}},
		{
			"no time: the record's", `{"type":"io.confluent.kafka.server/authentication","time":null,"data":{"authenticationInfo":{"metadata":{"identifier":"K1"}},"result":{"status":"SUCCESS"}}}`,
			KindAuthentication,
			authentication{"K1", true, recordTime, false},
		},
		{"nanosecond time", strings.Replace(kafka("K1", "SUCCESS"), "09:26:53.589Z", "09:26:53.589000001Z", 1), KindAuthentication, authentication{"K1", true, at.Add(1), false}},
		{"invalid UTF-8 in an identifier", kafka("K\xff1", "UNKNOWN_USER_DENIED"), KindAuthentication, authentication{"K\uFFFD1", false, at, false}},
		{"escaped identifier", kafka(`K\u00311`, "SUCCESS"), KindAuthentication, authentication{"K11", true, at, false}},

		{
			"escaped type", `{"type":"io.confluent.kafka.server\/authentication","time":"2026-11-29T09:26:53.589Z","data":{"authenticationInfo":{"metadata":{"identifier":"K1"}},"result":{"status":"SUCCESS"}}}`,
			KindAuthentication,
			authentication{"K1", true, at, false},
		},
		{"escaped other type", `{"type":"io.confluent.kafka.server\/request"}`, KindOther, authentication{}},
		{"authorization", `{"type":"io.confluent.kafka.server/authorization","data":{"authenticationInfo":{"principal":"User:1"}}}`, KindOther, authentication{}},
		{"control plane with a Cloud key", `{"type":"io.confluent.cloud/request","data":{"authenticationInfo":{"credentials":{"idSecretCredentials":{"credentialId":"CLOUDKEY"}}}}}`, KindOther, authentication{}},
		{"a type added later", `{"specversion":"1.0","type":"io.confluent.new/thing","data":[1,2,{"a":"}"}]}`, KindOther, authentication{}},
		{"type after nested values", `{"data":{"x":[{"y":"\"}"}],"z":null},"n":-1.5e3,"b":true,"type":"io.confluent.kafka.server/request"}`, KindOther, authentication{}},

		{"not JSON", `<html>`, KindInvalid, authentication{}},
		{"empty", ``, KindInvalid, authentication{}},
		{"truncated", `{"specversion":"1.0","type":`, KindInvalid, authentication{}},
		{"no type", `{"specversion":"1.0","data":{}}`, KindInvalid, authentication{}},
		{"type not a string", `{"type":7}`, KindInvalid, authentication{}},
		{"an array", `[{"type":"io.confluent.kafka.server/authentication"}]`, KindInvalid, authentication{}},
		{"authentication without identifier", `{"type":"io.confluent.kafka.server/authentication","data":{"result":{"status":"SUCCESS"}}}`, KindInvalid, authentication{}},
		{"authentication, data not an object", `{"type":"io.confluent.kafka.server/authentication","data":"x"}`, KindInvalid, authentication{}},
		{"authentication, broken after the type", `{"type":"io.confluent.kafka.server/authentication","data":{`, KindInvalid, authentication{}},
		{"identifier not a string", `{"type":"io.confluent.kafka.server/authentication","data":{"authenticationInfo":{"metadata":{"identifier":42}},"result":{"status":"SUCCESS"}}}`, KindInvalid, authentication{}},
		{"ends after a member name", `{"type"`, KindInvalid, authentication{}},
		{"ends after a colon", `{"a":`, KindInvalid, authentication{}},
		{"ends in a value", `{"a":1`, KindInvalid, authentication{}},
		{"ends in a literal", `{"a":tru`, KindInvalid, authentication{}},
		{"ends after an opening brace", `{`, KindInvalid, authentication{}},
		{"ends in a key", `{"ty`, KindInvalid, authentication{}},
		{"ends in an escape", `{"a":"x\`, KindInvalid, authentication{}},
		{"ends in a string", `{"a":"x`, KindInvalid, authentication{}},
		{"ends in an array", `{"a":[1,{"b":2}`, KindInvalid, authentication{}},
		{"ends in a string in an array", `{"a":["x`, KindInvalid, authentication{}},
		{"ends after the type's colon", `{"type":`, KindInvalid, authentication{}},
		{"ends in the type", `{"type":"io.confluent`, KindInvalid, authentication{}},
		{"no colon", `{"a" 1, "type":"x"}`, KindInvalid, authentication{}},
		{"a member of white space", "{ \t\r\n\"a\" : [ ] ,\n\"type\" :\t\"io.confluent.x/y\" }", KindOther, authentication{}},
		{"too large", `{"type":"io.confluent.kafka.server/authorization","pad":"` + strings.Repeat("x", maxRecordSize) + `"}`, KindInvalid, authentication{}},
		{"as large as allowed", padTo(`{"type":"io.confluent.kafka.server/authorization","pad":"`, `"}`, maxRecordSize), KindOther, authentication{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var d decoder
			kind, a := d.decode([]byte(c.value), recordTime)
			if kind != c.kind || a != c.want {
				t.Errorf("decode = %v %+v, want %v %+v", kind, a, c.kind, c.want)
			}
		})
	}
}

// padTo returns head + x… + tail, n bytes long.
func padTo(head, tail string, n int) string {
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// FuzzDecode: no record crashes the decoder, and what it calls an
// authentication has an identifier.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"type":"io.confluent.kafka.server/authentication","data":{"authenticationInfo":{"metadata":{"identifier":"K1"}},"result":{"status":"SUCCESS"}}}`))
	f.Add([]byte(`{"type":"io.confluent.sg.server/authentication","data":{"authenticationInfo":{"result":"SUCCESS","credentials":{"idSecretCredentials":{"credentialId":"K"}}}}}`))
	f.Add([]byte(`{"a":[{"b":"\"]"}],"type":"x"}`))
	f.Fuzz(func(t *testing.T, value []byte) {
		var d decoder
		kind, a := d.decode(value, recordTime)
		if kind == KindAuthentication && a.identifier == "" {
			t.Errorf("an authentication without identifier from %q", value)
		}
		if kind != KindAuthentication && a != (authentication{}) {
			t.Errorf("%v with an authentication from %q", kind, value)
		}
	})
}

// TestSkip: where the scanner's steps end, exactly.
func TestSkip(t *testing.T) {
	for _, c := range []struct {
		in   string
		at   int
		want int
	}{
		{`"abc",`, 0, 5},
		{`"a\"b",`, 0, 6},
		{`"a\\"`, 0, 5},
		{`"abc`, 0, -1},
		{`"a\`, 0, -1},
		{`x"ab"`, 1, 5},
	} {
		if got := skipString([]byte(c.in), c.at); got != c.want {
			t.Errorf("skipString(%q, %d) = %d, want %d", c.in, c.at, got, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want int
	}{
		{`{"a":[1,"]"],"b":{}},`, 20},
		{`[[],[]]x`, 7},
		{`12.5e3,`, 6},
		{`true}`, 4},
		{`null]`, 4},
		{"false ", 5},
		{"1\n", 1},
		{"1\r", 1},
		{"1\t", 1},
		{`{"a":`, -1},
		{`[`, -1},
		{``, -1},
	} {
		if got := skipValue([]byte(c.in), 0); got != c.want {
			t.Errorf("skipValue(%q) = %d, want %d", c.in, got, c.want)
		}
	}
	if got := skipSpace([]byte(" \t\r\nx"), 0); got != 4 {
		t.Errorf("skipSpace = %d, want 4", got)
	}
}
