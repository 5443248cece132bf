package scrape

import (
	"strconv"
	"strings"
)

// acceptsGzip reports whether an Accept-Encoding header allows gzip: named
// (or "*") with a q-value above 0.
func acceptsGzip(header string) bool {
	gzipQ, anyQ := -1.0, -1.0
	for _, part := range splitComma(header) {
		name, params := cutSemicolon(part)
		q := 1.0
		if v, ok := qValue(params); ok {
			q = v
		}
		switch name {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			anyQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

// splitComma splits a header value at commas, trimming spaces, lower-cased.
func splitComma(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// cutSemicolon splits "gzip;q=0.5" into the name and its parameters.
func cutSemicolon(part string) (string, string) {
	name, params, _ := strings.Cut(part, ";")
	return strings.TrimSpace(name), params
}

// qValue reads q=... from parameters.
func qValue(params string) (float64, bool) {
	for p := range strings.SplitSeq(params, ";") {
		name, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if ok && strings.TrimSpace(name) == "q" {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return q, err == nil
		}
	}
	return 0, false
}
