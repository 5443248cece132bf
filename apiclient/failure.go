package apiclient

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/valyala/fastjson"
)

// maxMessage bounds each text taken from an error body: a 1 MiB detail must
// not become a 1 MiB log line.
const maxMessage = 300

// failure is what an error body says: Resolution is what to do about it,
// where the API says (errors[].resolution).
type failure struct{ Code, Title, Detail, Resolution string }

func (f failure) String() string {
	var parts []string
	if f.Title != "" {
		parts = append(parts, fmt.Sprintf("%q", f.Title))
	}
	if f.Code != "" {
		parts = append(parts, "(code "+f.Code+")")
	}
	s := strings.Join(parts, " ")
	if f.Detail != "" {
		if s != "" {
			s += ": "
		}
		s += f.Detail
	}
	if f.Resolution != "" {
		s += " (resolution: " + f.Resolution + ")"
	}
	return s
}

// readFailure reads what an error body says, in whichever shape
// Confluent's APIs answer with:
//
//	{"errors":[{"code":"...","title":"...","detail":"..."}]}  (the documented Failure)
//	{"error":{"code":403,"message":"invalid API key"}}
//	{"error":"..."}, {"message":"..."}, {"detail":"..."}
//
// or plain text. ok is false when it says nothing readable (empty, HTML,
// binary). Every text is cleared of the credentials redact removes (nil:
// none): JSON escapes can spell them past the body's redaction.
func readFailure(body []byte, redact *redactor) (f failure, ok bool) {
	trimmed := bytes.TrimSpace(body)
	var p fastjson.Parser
	if len(trimmed) > 0 && trimmed[0] == '{' {
		if v, err := p.ParseBytes(trimmed); err == nil {
			f = firstFailure(v)
			clean := func(s string) string { return bound(redact.string(s)) }
			f = failure{Code: clean(f.Code), Title: clean(f.Title), Detail: clean(f.Detail), Resolution: clean(f.Resolution)}
			return f, f != failure{}
		}
	}
	if len(trimmed) == 0 || looksLikeHTML(trimmed) || !utf8.Valid(trimmed) {
		return failure{}, false
	}
	return failure{Detail: bound(string(trimmed))}, true
}

// firstFailure is what an error body says, in the first shape it has.
func firstFailure(v *fastjson.Value) failure {
	if errs := v.GetArray("errors"); len(errs) > 0 {
		e := errs[0]
		return failure{Code: plain(e.Get("code")), Title: plain(e.Get("title")), Detail: plain(e.Get("detail")), Resolution: plain(e.Get("resolution"))}
	}
	if e := v.Get("error"); e != nil {
		if e.Type() == fastjson.TypeObject {
			return failure{Code: plain(e.Get("code")), Detail: plain(e.Get("message"))}
		}
		return failure{Detail: plain(e)}
	}
	return failure{Detail: cmp.Or(plain(v.Get("message")), plain(v.Get("detail")))}
}

// bound makes s one line of at most maxMessage bytes.
func bound(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes more)", s[:cut], len(s)-cut)
}

func looksLikeHTML(body []byte) bool {
	trimmed := bytes.TrimSpace(body)
	return len(trimmed) > 0 && trimmed[0] == '<'
}

// saysInvalidKey reports whether an error body says the API key is invalid,
// in any shape and any case (as Confluent's Terraform provider matches it).
func saysInvalidKey(body []byte) bool {
	return bytes.Contains(bytes.ToLower(body), []byte("invalid api key"))
}

// gunzipped returns body decompressed when it is gzip data that came without
// a Content-Encoding header (some proxies and error pages send that), at
// most limit+1 bytes of it. Any other body is returned as it is.
func gunzipped(body []byte, limit int) (out []byte, over bool, err error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, false, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body, false, nil // not gzip after all: leave it to the decoder
	}
	out, over, err = readBody(zr, limit)
	if err != nil {
		return nil, false, fmt.Errorf("gzip body without Content-Encoding: %w", err)
	}
	return out, over, nil
}
