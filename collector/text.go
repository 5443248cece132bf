package collector

import (
	"bytes"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Write writes the snapshot's families to w in format, as expfmt's encoder
// of that format writes them, without the end of the exposition
// (OpenMetrics' "# EOF"): more families may follow.
//
// The text format and OpenMetrics 1.0, which Prometheus asks for, are
// written straight from the compact series, byte for byte what expfmt
// writes: no client_model structs are made, so encoding a snapshot of
// 10,000 keys allocates little beyond its output. Other formats, and a
// family expfmt would write otherwise (a name it must quote or escape, no
// series), go through expfmt, one family's structs at a time.
func (s *Snapshot) Write(w io.Writer, format expfmt.Format) error {
	t := textWriter{w: w, openMetrics: format.FormatType() == expfmt.TypeOpenMetrics}
	direct := format.FormatType() == expfmt.TypeTextPlain ||
		t.openMetrics && (format.Version() == expfmt.OpenMetricsVersion_1_0_0 || format.Version() == expfmt.OpenMetricsVersion_0_0_1)
	enc := expfmt.NewEncoder(w, format)
	var sc scratch
	for _, f := range s.families {
		if direct && f.plain() {
			t.family(f)
		} else {
			t.flush() // what the direct path holds goes first
			if t.err == nil {
				t.err = enc.Encode(f.metricFamily(&sc))
			}
		}
		if t.err != nil {
			return t.err
		}
	}
	t.flush()
	return t.err
}

// textWriter writes families in the text format or OpenMetrics 1.0 to w,
// through buf, written out whenever it holds more than textChunk bytes. The
// first error ends the writing.
type textWriter struct {
	w           io.Writer
	buf         []byte
	err         error
	openMetrics bool
}

const textChunk = 32 << 10

func (t *textWriter) flush() {
	if len(t.buf) > 0 && t.err == nil {
		_, t.err = t.w.Write(t.buf)
	}
	t.buf = t.buf[:0]
}

// plain reports whether expfmt writes f's names as they are, whatever the
// escaping scheme negotiated, and f has series (expfmt refuses a family
// without).
func (f *family) plain() bool {
	if len(f.samples) == 0 || !model.LegacyValidation.IsValidMetricName(f.name) {
		return false
	}
	for _, l := range f.labels {
		if !model.LegacyValidation.IsValidMetricName(l) {
			return false
		}
	}
	return true
}

func (t *textWriter) family(f *family) {
	t.buf = append(t.buf, "# HELP "...)
	t.buf = append(t.buf, f.name...)
	t.buf = append(t.buf, ' ')
	t.escaped(f.help, t.openMetrics) // OpenMetrics escapes '"' in help too
	t.buf = append(t.buf, "\n# TYPE "...)
	t.buf = append(t.buf, f.name...)
	t.buf = append(t.buf, " gauge\n"...)
	k := len(f.labels)
	start := uint32(0)
	for i, v := range f.samples {
		t.buf = append(t.buf, f.name...)
		for j := range k {
			if j == 0 {
				t.buf = append(t.buf, '{')
			} else {
				t.buf = append(t.buf, ',')
			}
			t.buf = append(t.buf, f.labels[j]...)
			t.buf = append(t.buf, `="`...)
			end := f.ends[i*k+j]
			t.escaped(f.values[start:end], true)
			start = end
			t.buf = append(t.buf, '"')
		}
		if k > 0 {
			t.buf = append(t.buf, '}')
		}
		t.buf = append(t.buf, ' ')
		t.float(v)
		t.buf = append(t.buf, '\n')
		if len(t.buf) >= textChunk {
			t.flush()
		}
	}
}

// escaped appends s with '\\' and newlines escaped, and '"' too if quote.
func (t *textWriter) escaped(s string, quote bool) {
	special := "\\\n"
	if quote {
		special = "\\\n\""
	}
	for {
		i := strings.IndexAny(s, special)
		if i < 0 {
			t.buf = append(t.buf, s...)
			return
		}
		t.buf = append(t.buf, s[:i]...)
		switch s[i] {
		case '\\':
			t.buf = append(t.buf, `\\`...)
		case '\n':
			t.buf = append(t.buf, `\n`...)
		default:
			t.buf = append(t.buf, `\"`...)
		}
		s = s[i+1:]
	}
}

// float appends v as expfmt writes it: the shortest form that reads back
// as v (NaN, +Inf and -Inf as strconv spells them); in OpenMetrics a number
// always has a '.' or an exponent.
func (t *textWriter) float(v float64) {
	if v == 0 {
		v = 0 // -0 too: expfmt writes it as 0
	}
	start := len(t.buf)
	t.buf = strconv.AppendFloat(t.buf, v, 'g', -1, 64)
	if t.openMetrics && !math.IsNaN(v) && !math.IsInf(v, 0) && !bytes.ContainsAny(t.buf[start:], "e.") {
		t.buf = append(t.buf, ".0"...)
	}
}
