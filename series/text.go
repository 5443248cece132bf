package series

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The text format and OpenMetrics 1.0 (and 0.0.1), which Prometheus asks
// for, are written here straight from the compact series, byte for byte
// what expfmt writes: no client_model structs are made. A family expfmt
// would write otherwise (a name it must quote or escape) goes through
// expfmt, as do the other formats.

// direct reports whether format is written here, and whether it is
// OpenMetrics.
func direct(format expfmt.Format) (ok, openMetrics bool) {
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		return true, false
	case expfmt.TypeOpenMetrics:
		v := format.Version()
		return v == expfmt.OpenMetricsVersion_1_0_0 || v == expfmt.OpenMetricsVersion_0_0_1, true
	}
	return false, false
}

// plain reports whether expfmt writes the family's names as they are,
// whatever escaping scheme was negotiated.
func (f *family) plain() bool {
	if !model.LegacyValidation.IsValidMetricName(f.name) {
		return false
	}
	for _, l := range f.labels {
		if !model.LegacyValidation.IsValidMetricName(l) {
			return false
		}
	}
	return true
}

// appendHeader appends the family's HELP and TYPE lines. OpenMetrics names
// a counter family without its _total, which its samples carry.
func (f *family) appendHeader(b []byte, openMetrics bool) []byte {
	name, typ := f.name, " gauge\n"
	if f.counter {
		typ = " counter\n"
		if openMetrics {
			name = strings.TrimSuffix(name, "_total")
		}
	}
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = appendEscaped(b, f.help, openMetrics) // OpenMetrics escapes '"' in help too
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	return append(b, typ...)
}

// appendSeries appends the family's series lines.
func (f *family) appendSeries(b []byte, openMetrics bool) []byte {
	k := len(f.labels)
	start := uint32(0)
	for i, v := range f.samples {
		b = append(b, f.name...)
		for j := range k {
			if j == 0 {
				b = append(b, '{')
			} else {
				b = append(b, ',')
			}
			b = append(b, f.labels[j]...)
			b = append(b, `="`...)
			end := f.ends[i*k+j]
			b = appendEscaped(b, f.values[start:end], true)
			start = end
			b = append(b, '"')
		}
		if k > 0 {
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = appendFloat(b, v, openMetrics)
		b = append(b, '\n')
	}
	return b
}

// seriesSize is about what appendSeries writes, escapes aside: room to
// write into without growing.
func (f *family) seriesSize() int {
	per := len(f.name) + 3 + 24 // name, '{', ' ', '}', '\n', a float
	for _, l := range f.labels {
		per += len(l) + 4 // label="",
	}
	return len(f.values) + len(f.samples)*per
}

// appendEscaped appends s with '\\' and newlines escaped, and '"' too if quote.
func appendEscaped(b []byte, s string, quote bool) []byte {
	special := "\\\n"
	if quote {
		special = "\\\n\""
	}
	for {
		i := strings.IndexAny(s, special)
		if i < 0 {
			return append(b, s...)
		}
		b = append(b, s[:i]...)
		switch s[i] {
		case '\\':
			b = append(b, `\\`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, `\"`...)
		}
		s = s[i+1:]
	}
}

// appendFloat appends v as expfmt writes it: the shortest form that reads
// back as v (NaN, +Inf and -Inf as strconv spells them); in OpenMetrics a
// number always has a '.' or an exponent.
func appendFloat(b []byte, v float64, openMetrics bool) []byte {
	if v == 0 {
		v = 0 // -0 too: expfmt writes it as 0
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	if openMetrics && !math.IsNaN(v) && !math.IsInf(v, 0) && !bytes.ContainsAny(b[start:], "e.") {
		b = append(b, ".0"...)
	}
	return b
}
