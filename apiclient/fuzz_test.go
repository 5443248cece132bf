package apiclient

import (
	"testing"
	"time"
	"unicode/utf8"
)

// The seed corpora are under testdata/fuzz/<FuzzName>/; `make fuzz` runs
// each target longer, `make test` briefly.

func FuzzDecodeBYOKPage(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"cck-1","provider":"AWS","state":"IN_USE","key":{"kind":"AwsKey","key_arn":"arn"},"validation":{"phase":"VALID","since":"2026-01-02T03:04:05Z","region":"us-east-1"},"metadata":{"created_at":"2025-01-01T00:00:00Z"}}],"metadata":{"next":"https://x/byok/v1/keys?page_token=abc"}}`))
	f.Add([]byte(`{"data":[{"id":"cck-2","provider":"GCP","state":"AVAILABLE","validation":{"phase":"INITIALIZING","since":null}}],"metadata":{"next":null}}`))
	f.Add([]byte(`{"data":null}`))
	f.Add([]byte(`<html>502</html>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := decodePage[byokItem](body)
		if err != nil {
			return
		}
		for i := range items {
			k, _, err := items[i].convert(i)
			if err != nil {
				continue
			}
			if k.ID == "" || k.Provider == "" || k.State == "" || k.Validation.Phase == "" {
				t.Fatalf("a key without a required field was accepted: %+v", k)
			}
			for _, s := range []string{k.ID, k.DisplayName, k.Provider, k.State, k.CloudKeyID, k.Validation.Message, k.Validation.Region} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 would become a label value: %q", s)
				}
			}
			for _, ts := range []time.Time{k.Validation.Since, k.CreatedAt} {
				if !ts.IsZero() && ts.Unix() <= 0 {
					t.Fatalf("a time at or before 1970 would be exported: %v", ts)
				}
			}
		}
	})
}

func FuzzDecodeAPIKeyPage(f *testing.F) {
	f.Add([]byte(`{"data":[{"id":"A1","metadata":{"created_at":"2024-05-06T07:08:09Z"},"spec":{"display_name":"sr","owner":{"id":"sa-1","kind":"ServiceAccount"},"resource":{"id":"lsrc-1","kind":"Cluster","environment":"env-1"},"expires_at":"2027-03-04"}}],"metadata":{}}`))
	f.Add([]byte(`{"data":[{"id":"A3","spec":{"display_name":"internal","resource":null}},{"id":"A4","spec":{"owner":{"id":"u-1"},"resources":[{"id":"lksqlc-1","kind":"Cluster"}]}}],"metadata":{"next":""}}`))
	f.Add([]byte(`{"data":[null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		items, _, err := decodePage[apiKeyItem](body)
		if err != nil {
			return
		}
		for i := range items {
			k, ok, err := items[i].convert(i)
			if err != nil || !ok {
				continue
			}
			if k.ID == "" || k.OwnerID == "" {
				t.Fatalf("a key without id or owner was accepted: %+v", k)
			}
			for _, ts := range []time.Time{k.CreatedAt, k.ExpiresAt} {
				if !ts.IsZero() && ts.Unix() <= 0 {
					t.Fatalf("a time at or before 1970 would be exported: %v", ts)
				}
			}
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
		if tok == "" || len(tok) > 255 {
			t.Fatalf("pageToken(%q) = %q, accepted", next, tok)
		}
	})
}
