package collector

import (
	"bytes"
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// writeFormats are every format expfmt encodes, with the escaping schemes
// a scrape can negotiate.
var writeFormats = []expfmt.Format{
	expfmt.FmtText,
	expfmt.FmtText + "; escaping=allow-utf-8",
	expfmt.FmtText + "; escaping=underscores",
	expfmt.FmtText + "; escaping=dots",
	expfmt.FmtText + "; escaping=values",
	expfmt.FmtOpenMetrics_1_0_0,
	expfmt.FmtOpenMetrics_1_0_0 + "; escaping=underscores",
	expfmt.FmtOpenMetrics_1_0_0 + "; escaping=allow-utf-8",
	expfmt.FmtOpenMetrics_0_0_1,
	expfmt.FmtOpenMetrics_2_0_0,
	expfmt.FmtProtoDelim,
	expfmt.FmtProtoDelim + "; escaping=allow-utf-8",
	expfmt.FmtProtoText,
	expfmt.FmtProtoCompact,
}

// TestWriteIsExpfmt: Snapshot.Write, which writes the text formats itself,
// writes the same bytes as expfmt's encoder of the same families, in every
// format, for the values and strings expfmt writes specially.
func TestWriteIsExpfmt(t *testing.T) {
	values := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.5, -2.25, 42, 1e21, 1e-7, 123456789, 1.7976931348623157e308,
		5e-324, 1757462400.123, math.NaN(), math.Inf(1), math.Inf(-1),
	}
	strs := []string{"", "plain", `back\slash`, "new\nline", `"quoted"`, `all \ "three"` + "\n", "ünï©ødé ✓", "a,b=c{d}"}
	series := func(labels ...string) []*dto.Metric {
		var out []*dto.Metric
		for i, v := range values {
			m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(v)}}
			for j, l := range labels {
				m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(l), Value: proto.String(strs[(i+j)%len(strs)] + strings.Repeat("x", i))})
			}
			out = append(out, m)
		}
		return out
	}
	gauge := func(name, help string, labels ...string) *dto.MetricFamily {
		return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(), Metric: series(labels...)}
	}
	families := []*dto.MetricFamily{
		gauge("confluent_a_info", `Help with "quotes", back\slash and`+"\nnewline.", "id", "name", "organization"),
		gauge("confluent_b_total", "No labels."),
		gauge("confluent_c.dotted", "A name expfmt quotes or escapes.", "id"),
		gauge("confluent_d", "A label name expfmt quotes or escapes.", "key.id", "name"),
		gauge("confluent_e", "", "id"),
	}
	snap := NewSnapshot(families)
	for _, format := range writeFormats {
		var want, got bytes.Buffer
		enc := expfmt.NewEncoder(&want, format)
		for _, mf := range families {
			if err := enc.Encode(mf); err != nil {
				t.Fatalf("%s: expfmt: %v", format, err)
			}
		}
		if err := snap.Write(&got, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: not what expfmt writes:\n%s\nwant:\n%s", format, got.Bytes(), want.Bytes())
		}
	}
}

// TestWriteInPieces: an exposition larger than the write buffer arrives
// whole and in order, and a failing writer fails Write.
func TestWriteInPieces(t *testing.T) {
	mf := &dto.MetricFamily{Name: proto.String("confluent_big"), Help: proto.String("Big."), Type: dto.MetricType_GAUGE.Enum()}
	for i := range 5000 {
		mf.Metric = append(mf.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: proto.String("id"), Value: proto.String(strings.Repeat("k", 20) + string(rune('a'+i%26)))}},
			Gauge: &dto.Gauge{Value: proto.Float64(float64(i))},
		})
	}
	snap := NewSnapshot([]*dto.MetricFamily{mf})
	var want, got bytes.Buffer
	if _, err := expfmt.MetricFamilyToText(&want, mf); err != nil {
		t.Fatal(err)
	}
	w := &countingWriter{w: &got}
	if err := snap.Write(w, expfmt.FmtText); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) || w.writes < 2 {
		t.Errorf("%d bytes in %d writes, want %d bytes in pieces", got.Len(), w.writes, want.Len())
	}
	if err := snap.Write(failingWriter{}, expfmt.FmtText); err == nil {
		t.Error("a failing writer: no error")
	}
}

type countingWriter struct {
	w      *bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.w.Write(p)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errFailingWriter }

var errFailingWriter = bytes.ErrTooLarge
