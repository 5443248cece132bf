package sim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// shapedError answers f.Status with an error body in one of the shapes
// Confluent's services use besides the documented Failure (Faults.ErrorShape).
func shapedError(w http.ResponseWriter, f Faults) reply {
	detail := or(f.Detail, http.StatusText(f.Status))
	if f.Status == http.StatusTooManyRequests && f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
	}
	var body any
	switch f.ErrorShape {
	case "errors-title":
		body = map[string]any{"errors": []any{map[string]string{"status": strconv.Itoa(f.Status), "title": detail}}}
	case "error-object":
		body = map[string]any{"error": map[string]any{"code": f.Status, "message": detail}}
	case "message":
		body = map[string]string{"message": detail}
	case "text":
		return reply{status: f.Status, body: []byte(detail + "\n")}
	case "empty": // headers alone, as Confluent's gateway answers some 429s
		rep := reply{status: f.Status}
		if f.Status == http.StatusTooManyRequests && f.RetryAfter > 0 {
			rep.retryAt = time.Now().Add(time.Duration(f.RetryAfter) * time.Second)
		}
		return rep
	case "gzip":
		rep := errorReply(w, f.Status, "", http.StatusText(f.Status), detail)
		rep.gzip = true
		return rep
	default:
		return errorReply(w, 500, "sim_bad_fault", "Unknown error shape", f.ErrorShape)
	}
	b, _ := json.Marshal(body)
	return reply{status: f.Status, body: b}
}

// echo puts the request's credentials into text, or into X-Request-Id, in
// the encoding mode names (Faults.Echo).
func echo(w http.ResponseWriter, r *http.Request, mode, text string) string {
	key, secret, _ := r.BasicAuth()
	switch mode {
	case "raw", "json", "unicode", "mixed": // listBody and errorReply escape it; escapeSlashes spells it as the mode says
		return text + " (secret " + secret + ")"
	case "base64", "unicode-base64":
		return text + " (Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"+secret)) + ")"
	case "percent":
		return text + " (retry with ?api_secret=" + url.QueryEscape(secret) + ")"
	case "header":
		w.Header().Set("X-Request-Id", "req-"+secret)
	}
	return text
}

// escapeSlashes spells the echoed secret inside the JSON body as the mode
// says: "json" with \/ for each / (as PHP's and Java's encoders do);
// "unicode" wholly as \uXXXX escapes, "mixed" every other character so,
// "unicode-base64" the base64 of key:secret so. A decoder reads each as
// the plain text, which a scan of the raw body does not find.
func escapeSlashes(r *http.Request, mode string, body []byte) []byte {
	key, secret, _ := r.BasicAuth()
	echoed := secret
	if mode == "unicode-base64" {
		echoed = base64.StdEncoding.EncodeToString([]byte(key + ":" + secret))
	}
	esc, _ := json.Marshal(echoed)
	esc = esc[1 : len(esc)-1]
	var spelled []byte
	switch mode {
	case "json":
		spelled = bytes.ReplaceAll(esc, []byte("/"), []byte(`\/`))
	case "unicode", "unicode-base64", "mixed":
		for i, c := range echoed {
			if mode == "mixed" && i%2 == 0 && c < 0x80 && c != '"' && c != '\\' {
				spelled = append(spelled, byte(c))
				continue
			}
			spelled = fmt.Appendf(spelled, `\u%04x`, c)
		}
	default:
		return body
	}
	return bytes.ReplaceAll(body, esc, spelled)
}

// echoInList puts the credentials into the first display name of a list.
func echoInList(w http.ResponseWriter, r *http.Request, mode string, body []byte) []byte {
	text, _ := json.Marshal(echo(w, r, mode, "echo"))
	body = bytes.Replace(body, []byte(`"display_name":"`), append([]byte(`"display_name":`), append(text[:len(text)-1], " "...)...), 1)
	return escapeSlashes(r, mode, body)
}

// oddItems are list items of every shape the API has sent or its SDK
// allows, beside the documented one: no id, an id of another type, null
// where an object or string belongs, times without a zone, leap seconds,
// impossible dates. None may fail the list.
var oddItems = map[string][]string{
	"byok_keys": {
		`null`,
		`{"provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}`,
		`{"id":12345,"provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"}}`,
		`{"id":"cck-odd01","provider":null,"state":null,"validation":null,"key":{"kind":"AwsKey","key_arn":"arn:aws:kms:us-east-1:111122223333:key/odd","roles":["arn:aws:iam::123456789876:role/odd"]},"metadata":{"created_at":"2016-12-31T23:59:60Z"}}`,
		`{"id":"cck-odd02","provider":["GCP"],"state":"AVAILABLE","key":"projects/p/keys/k","validation":{"phase":"VALID","since":"2025-01-02T03:04:05"},"metadata":{"created_at":"2025-02-30T00:00:00Z"}}`,
	},
	"iam_api_keys": {
		`null`,
		`{"spec":{"display_name":"no id","owner":{"id":"sa-odd","kind":"ServiceAccount"}}}`,
		`{"id":"ODDNOOWNER","spec":{"display_name":"internal","owner":null}}`,
		`{"id":"ODDTIMES","metadata":{"created_at":"2025-01-02T03:04:05"},"spec":{"display_name":7,"description":"made with the CLI","owner":{"id":"sa-odd","kind":"ServiceAccount"},"resource":"lkc-1","expires_at":"2025-13-45"}}`,
		`{"id":"ODDLEAPSECOND","metadata":{"created_at":"2016-12-31T23:59:60Z"},"spec":{"description":"made with the CLI","owner":{"id":"sa-odd","kind":"ServiceAccount"},"resource":{"id":"global","kind":"Global"}}}`,
	},
}

func init() {
	// The enrichment lists: no id, nulls, wrong types. None may fail a list.
	common := []string{`null`, `{"display_name":"no id"}`, `{"id":["x"],"display_name":"id of another type"}`}
	oddItems["iam_service_accounts"] = append(common, `{"id":"sa-odd","display_name":null,"description":42}`)
	oddItems["iam_users"] = append(common, `{"id":"u-odd","full_name":{"first":"Ada"},"email":"ada@example.com"}`)
	oddItems["org_environments"] = append(common, `{"id":"env-odd","display_name":7}`)
	oddItems["cmk_clusters"] = append(common,
		`{"id":"lkc-odd01","spec":null}`,
		`{"id":"lkc-odd02","spec":{"display_name":"odd","cloud":"AWS","region":"us-east-1","availability":"SINGLE_ZONE","environment":"env-000","byok":{"id":5}}}`)
	oddItems["service_quota_applied_quotas"] = append(common,
		`{"id":"odd.quota.no_limit","scope":"ORGANIZATION","display_name":"odd"}`,
		`{"id":"odd.quota.text_limit","scope":"ORGANIZATION","applied_limit":"100","usage":"7"}`)
}

// withOddItems adds the odd items of endpoint to a list page.
func withOddItems(page []byte, endpoint string) []byte {
	var p map[string]json.RawMessage
	if json.Unmarshal(page, &p) != nil {
		return page
	}
	var data []json.RawMessage
	_ = json.Unmarshal(p["data"], &data)
	for _, item := range oddItems[endpoint] {
		data = append(data, json.RawMessage(item))
	}
	p["data"], _ = json.Marshal(data)
	b, _ := json.Marshal(p)
	return b
}

// withData replaces the data of a list page with raw JSON, or removes the
// field when raw is "". The page's metadata, its next link included, stays.
func withData(page []byte, raw string) []byte {
	var p map[string]json.RawMessage
	if json.Unmarshal(page, &p) != nil {
		return page
	}
	if raw == "" {
		delete(p, "data")
	} else {
		p["data"] = json.RawMessage(raw)
	}
	b, _ := json.Marshal(p)
	return b
}
