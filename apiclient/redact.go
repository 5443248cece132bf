package apiclient

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// redacted stands where the secret was.
const redacted = "[REDACTED]"

// redactor removes the credentials from what an upstream (or a proxy in
// between) sends back, before any of it can reach an error, a log line or a
// label value: the secret and "key:secret" as they are, JSON-escaped,
// percent-encoded, and in base64 (the Authorization: Basic value).
type redactor struct {
	secret string // the secret it removes (comparison only: never written)
	forms  [][]byte
}

func newRedactor(key, secret string) *redactor {
	if secret == "" {
		return &redactor{}
	}
	pair := key + ":" + secret
	var forms []string
	for _, s := range []string{secret, pair} {
		forms = append(forms, s,
			jsonEscaped(s, true), jsonEscaped(s, false),
			strings.ReplaceAll(jsonEscaped(s, true), "/", `\/`),
			url.QueryEscape(s), url.PathEscape(s),
			lowerHex(url.QueryEscape(s)), lowerHex(url.PathEscape(s)),
			base64.StdEncoding.EncodeToString([]byte(s)),
			base64.URLEncoding.EncodeToString([]byte(s)),
		)
	}
	// Longest first, so "key:secret" goes whole, and without padding too:
	// an echo may drop it.
	for _, s := range forms {
		forms = append(forms, strings.TrimRight(s, "="))
	}
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	forms = slices.Compact(forms) // equal forms are adjacent now: each is scanned for once
	r := &redactor{secret: secret}
	for _, f := range forms {
		if f != "" {
			r.forms = append(r.forms, []byte(f))
		}
	}
	return r
}

// bytes returns b with every form of the credentials replaced. A nil
// redactor replaces nothing.
func (r *redactor) bytes(b []byte) []byte {
	if r == nil {
		return b
	}
	for _, f := range r.forms {
		if bytes.Contains(b, f) {
			b = bytes.ReplaceAll(b, f, []byte(redacted))
		}
	}
	return b
}

// string returns s with every form of the credentials replaced.
func (r *redactor) string(s string) string {
	if r == nil || len(r.forms) == 0 || len(s) < len(r.forms[len(r.forms)-1]) {
		return s // shorter than the shortest form: nothing to find
	}
	for _, f := range r.forms {
		if strings.Contains(s, string(f)) {
			return string(r.bytes([]byte(s)))
		}
	}
	return s
}

// jsonEscaped is s as it stands inside a JSON string, with or without the
// HTML escapes (\u003c for <) that Go's encoder adds.
func jsonEscaped(s string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	_ = enc.Encode(s)
	return strings.TrimSuffix(strings.TrimSuffix(b.String(), "\n"), `"`)[1:]
}

// lowerHex writes the %XX escapes of s in lower case, as some encoders do.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLower(b[i+1]), toLower(b[i+2])
		}
	}
	return string(b)
}

func toLower(c byte) byte {
	if 'A' <= c && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}
