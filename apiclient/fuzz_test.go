package apiclient

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// The seed corpora are under testdata/fuzz/<FuzzName>/; `make fuzz` runs
// each target longer, `make test` briefly.

func FuzzDecodeBYOKPage(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"cck-1","provider":"AWS","state":"IN_USE","key":{"kind":"AwsKey","key_arn":"arn"},"validation":{"phase":"VALID","since":"2026-01-02T03:04:05Z","region":"us-east-1"},"metadata":{"created_at":"2025-01-01T00:00:00Z"}}],"metadata":{"next":"https://x/byok/v1/keys?page_token=abc"}}`))
	f.Add([]byte(`{"data":[{"id":"cck-2","provider":"GCP","state":"AVAILABLE","validation":{"phase":"INITIALIZING","since":null}}],"metadata":{"next":null}}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`<html>502</html>`))
	f.Add([]byte(`{"data":[null,5,{"id":7},{"id":"cck-3","provider":["AWS"],"validation":"VALID","key":{"roles":[1,"r"]},"metadata":{"created_at":"2016-12-31T23:59:60Z"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p fastjson.Parser
		items, _, err := decodePage(&p, body, nil)
		checkEnvelope(t, body, err)
		for _, it := range items {
			var fs fields
			k, key, _ := readBYOKKey(it, &fs)
			if key == "" {
				continue
			}
			checkValues(t, []string{k.ID, k.DisplayName, k.Provider, k.State, k.CloudKeyID, k.Validation.Message, k.Validation.Region},
				k.Validation.Since, k.CreatedAt)
		}
	})
}

// checkEnvelope fails when a body whose envelope is well formed (a JSON
// object whose data is an array or null, whose metadata is absent, null or
// an object with a string or null next) failed to decode: odd items never
// fail a list. Field names match exactly, as the API writes them
// (encoding/json would also take "DATA"); a name given twice makes the
// envelope ambiguous (JSON leaves it undefined which one counts).
func checkEnvelope(t *testing.T, body []byte, err error) {
	t.Helper()
	var envelope map[string]json.RawMessage
	if err == nil || json.Unmarshal(body, &envelope) != nil || strings.Contains(err.Error(), "nested deeper") ||
		!uniqueNames(body) || !uniqueNames(envelope["metadata"]) {
		return // (JSON nested deeper than the parser reads, 300 levels, fails the page)
	}
	data := string(envelope["data"])
	if data != "null" && !strings.HasPrefix(data, "[") {
		return
	}
	if meta := envelope["metadata"]; len(meta) > 0 && string(meta) != "null" {
		var m map[string]json.RawMessage
		if json.Unmarshal(meta, &m) != nil {
			return
		}
		if next := m["next"]; len(next) > 0 && string(next) != "null" && next[0] != '"' {
			return
		}
	}
	t.Fatalf("a well-formed envelope failed: %v", err)
}

// uniqueNames reports whether an object (or anything else) names no
// member twice at its top level.
func uniqueNames(raw []byte) bool {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	_, _ = dec.Token() // {
	for n := 0; dec.More(); n++ {
		if _, err := dec.Token(); err != nil { // a name
			return true
		}
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return true
		}
		if n >= len(members) {
			return false
		}
	}
	return true
}

// checkValues fails for a value that must never be exported: invalid UTF-8
// as a label value, a time at or before 1970.
func checkValues(t *testing.T, labels []string, times ...time.Time) {
	t.Helper()
	for _, s := range labels {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 would become a label value: %q", s)
		}
	}
	for _, ts := range times {
		if !ts.IsZero() && ts.Unix() <= 0 {
			t.Fatalf("a time at or before 1970 would be exported: %v", ts)
		}
	}
}

func FuzzDecodeAPIKeyPage(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"A1","metadata":{"created_at":"2024-05-06T07:08:09Z"},"spec":{"display_name":"sr","owner":{"id":"sa-1","kind":"ServiceAccount"},"resource":{"id":"lsrc-1","kind":"Cluster","environment":"env-1"},"expires_at":"2027-03-04"}}],"metadata":{}}`))
	f.Add([]byte(`{"data":[{"id":"A3","spec":{"display_name":"internal","resource":null}},{"id":"A4","spec":{"owner":{"id":"u-1"},"resources":[{"id":"lksqlc-1","kind":"Cluster"}]}}],"metadata":{"next":""}}`))
	f.Add([]byte(`{"data":[null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var p fastjson.Parser
		items, _, err := decodePage(&p, body, nil)
		checkEnvelope(t, body, err)
		for _, it := range items {
			var fs fields
			k, key, skip := readAPIKey(it, &fs)
			if key == "" || skip != "" {
				continue
			}
			if k.ID == "" || k.OwnerID == "" {
				t.Fatalf("a key without id or owner was accepted: %+v", k)
			}
			labels := []string{k.ID, k.DisplayName, k.Description, k.OwnerID, k.OwnerKind, k.CreatedBy}
			for _, r := range k.Resources {
				if r.ID == "" {
					t.Fatalf("a resource without id was kept: %+v", k)
				}
				labels = append(labels, r.ID, r.Kind, r.Environment)
			}
			checkValues(t, labels, k.CreatedAt, k.ExpiresAt)
		}
	})
}

func FuzzPageToken(f *testing.F) {
	f.Add("https://api.confluent.cloud/iam/v2/api-keys?page_size=100&page_token=UvmDWOB1iwfAIBPj6EYb")
	f.Add("http://evil.example/byok/v1/keys?page_token=x")
	f.Add("/byok/v1/keys?page_token=")
	f.Add("::not a url")
	f.Fuzz(func(t *testing.T, next string) {
		tok, err := pageToken(next)
		if err != nil {
			return
		}
		if tok == "" || len(tok) > maxTokenSize {
			t.Fatalf("pageToken(%q) = %q, accepted", next, tok)
		}
	})
}

// FuzzRedactDecoded: however an upstream spells the secret inside a JSON
// string (each character raw or as a \u escape, the fuzzer choosing which,
// around whatever text), the value decoded from it never carries the
// secret, the key:secret pair, or their base64.
func FuzzRedactDecoded(f *testing.F) {
	f.Add([]byte{0xff, 0x00, 0xaa}, "before ", " after", false)
	f.Add([]byte{}, "", "", true)
	f.Add([]byte{0x55}, "x", "", false)
	secret := `pa/ss+wo"rd<&>=?% é`
	r := newRedactor(testKey, secret)
	f.Fuzz(func(t *testing.T, mask []byte, before, after string, pair bool) {
		echoed := secret
		if pair {
			echoed = base64.StdEncoding.EncodeToString([]byte(testKey + ":" + secret))
		}
		var spelled strings.Builder
		for i, c := range echoed {
			if bit := len(mask) > 0 && mask[i%len(mask)]>>(i%8)&1 == 1; bit || c == '"' || c == '\\' {
				fmt.Fprintf(&spelled, `\u%04x`, c)
				continue
			}
			spelled.WriteRune(c)
		}
		b, _ := json.Marshal(before)
		a, _ := json.Marshal(after)
		body := `{"data":[{"id":"cck-1","display_name":` + string(b[:len(b)-1]) + spelled.String() + string(a[1:]) + `}]}`
		var p fastjson.Parser
		items, _, err := decodePage(&p, []byte(body), r)
		if err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		fs := fields{redact: r}
		k, _, _ := readBYOKKey(items[0], &fs)
		for _, form := range []string{secret, testKey + ":" + secret, base64.StdEncoding.EncodeToString([]byte(testKey + ":" + secret))} {
			if strings.Contains(k.DisplayName, form) {
				t.Fatalf("the decoded value %q carries %q", k.DisplayName, form)
			}
		}
	})
}
