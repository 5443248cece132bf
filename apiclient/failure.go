package apiclient

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMessage bounds each text taken from an error body: a 1 MiB detail must
// not become a 1 MiB log line.
const maxMessage = 300

// failure is what an error body says.
type failure struct{ Code, Title, Detail string }

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
	return s
}

// failureBody holds every error shape Confluent's APIs answer with:
//
//	{"errors":[{"code":"...","title":"...","detail":"..."}]}  (the documented Failure)
//	{"error":{"code":403,"message":"invalid API key"}}
//	{"error":"..."}, {"message":"..."}, {"detail":"..."}
type failureBody struct {
	Errors []struct {
		Code   json.RawMessage `json:"code"`
		Title  text            `json:"title"`
		Detail text            `json:"detail"`
	} `json:"errors"`
	Error   json.RawMessage `json:"error"`
	Message text            `json:"message"`
	Detail  text            `json:"detail"`
}

// readFailure reads what an error body says, in whichever shape: one of the
// JSON shapes above, or plain text. ok is false when it says nothing
// readable (empty, HTML, binary).
func readFailure(body []byte) (f failure, ok bool) {
	trimmed := bytes.TrimSpace(body)
	var b failureBody
	if len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &b) == nil {
		f = b.first()
		f = failure{Code: bound(f.Code), Title: bound(f.Title), Detail: bound(f.Detail)}
		return f, f != failure{}
	}
	if len(trimmed) == 0 || looksLikeHTML(trimmed) || !utf8.Valid(trimmed) {
		return failure{}, false
	}
	return failure{Detail: bound(string(trimmed))}, true
}

// first is what the body says, in the first shape it has.
func (b *failureBody) first() failure {
	if len(b.Errors) > 0 {
		e := b.Errors[0]
		return failure{Code: rawText(e.Code), Title: e.Title.s, Detail: e.Detail.s}
	}
	if len(b.Error) > 0 && b.Error[0] == '{' {
		var inner struct {
			Code    json.RawMessage `json:"code"`
			Message text            `json:"message"`
		}
		_ = json.Unmarshal(b.Error, &inner)
		return failure{Code: rawText(inner.Code), Detail: inner.Message.s}
	}
	if len(b.Error) > 0 {
		return failure{Detail: rawText(b.Error)}
	}
	return failure{Detail: cmp.Or(b.Message.s, b.Detail.s)}
}

// rawText is a JSON string's value, or a number's text.
func rawText(raw json.RawMessage) string {
	var t text
	if len(raw) == 0 || t.UnmarshalJSON(raw) != nil {
		return ""
	}
	if t.bad {
		return strings.Trim(string(raw), `"`)
	}
	return t.s
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
func gunzipped(body []byte, limit int64) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body, nil // not gzip after all: leave it to the decoder
	}
	out, err := io.ReadAll(io.LimitReader(zr, limit+1))
	if err != nil && int64(len(out)) <= limit {
		return nil, fmt.Errorf("gzip body without Content-Encoding: %w", err)
	}
	return out, nil
}
