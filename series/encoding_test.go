package series

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// fromStructs makes a snapshot of gauge families given as client_model
// structs, which must be sorted by name, with no name twice, each with its
// series sorted and every series with the same label names: what Builder
// makes, from any names and labels (expfmt's edge cases among them).
func fromStructs(families []*dto.MetricFamily) *Snapshot {
	var list Families
	for _, mf := range families {
		f := &family{name: mf.GetName(), help: mf.GetHelp(), counter: mf.GetType() == dto.MetricType_COUNTER}
		var values strings.Builder
		for i, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if i == 0 {
					f.labels = append(f.labels, l.GetName())
				}
				values.WriteString(l.GetValue())
				f.ends = append(f.ends, uint32(values.Len()))
			}
			v := m.GetGauge().GetValue()
			if f.counter {
				v = m.GetCounter().GetValue()
			}
			f.samples = append(f.samples, v)
		}
		f.values = values.String()
		list = append(list, f)
	}
	return New(list)
}

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

// write writes snap to w in format, uncompressed, from its Encoding, as a
// scrape does.
func write(snap *Snapshot, w io.Writer, format expfmt.Format) error {
	enc, err := snap.Encoding(Format{Format: format}, time.Now())
	if err != nil {
		return err
	}
	for _, p := range enc.Pieces {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

// TestWriteIsExpfmt: a snapshot's encoding, which writes the text formats
// itself, is the same bytes as expfmt's encoder of the same families, in
// every format, for the values and strings expfmt writes specially; and,
// gzip-compressed, the same once decompressed.
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
	counter := func(name, help string, labels ...string) *dto.MetricFamily {
		mf := gauge(name, help, labels...)
		mf.Type = dto.MetricType_COUNTER.Enum()
		for _, m := range mf.Metric {
			v := math.Abs(m.Gauge.GetValue()) // a counter is a number, not negative
			if math.IsNaN(v) {
				v = 7
			}
			m.Counter, m.Gauge = &dto.Counter{Value: proto.Float64(v)}, nil
		}
		return mf
	}
	families := []*dto.MetricFamily{
		gauge("confluent_a_info", `Help with "quotes", back\slash and`+"\nnewline.", "id", "name", "organization"),
		gauge("confluent_b_total", "No labels."),
		gauge("confluent_c.dotted", "A name expfmt quotes or escapes.", "id"),
		gauge("confluent_d", "A label name expfmt quotes or escapes.", "key.id", "name"),
		gauge("confluent_e", "", "id"),
		counter("confluent_f_failures_total", "A counter, _total in its samples only in OpenMetrics.", "key_id", "organization"),
		counter("confluent_g_total", "A counter with no labels."),
	}
	snap := fromStructs(families)
	for _, format := range writeFormats {
		var want, got bytes.Buffer
		enc := expfmt.NewEncoder(&want, format)
		for _, mf := range families {
			if err := enc.Encode(mf); err != nil {
				t.Fatalf("%s: expfmt: %v", format, err)
			}
		}
		if err := write(snap, &got, format); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: not what expfmt writes:\n%s\nwant:\n%s", format, got.Bytes(), want.Bytes())
		}
		if gz := gunzip(t, snap, Format{Format: format, Gzip: true}); !bytes.Equal(gz, want.Bytes()) {
			t.Errorf("%s, gzip: not what expfmt writes once decompressed", format)
		}
	}
}

// gunzip is snap's gzip-compressed encoding in k, decompressed: every
// piece a complete gzip member, read as one stream.
func gunzip(t *testing.T, snap *Snapshot, k Format) []byte {
	t.Helper()
	enc, err := snap.Encoding(k, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, p := range enc.Pieces {
		if len(p) < 2 || p[0] != 0x1f || p[1] != 0x8b {
			t.Fatalf("a piece is not a gzip member: %q", p)
		}
		all.Write(p)
	}
	if all.Len() != enc.Size {
		t.Fatalf("size %d, pieces of %d bytes", enc.Size, all.Len())
	}
	zr, err := gzip.NewReader(&all)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWriteTextMakesNoStructs: the text format and OpenMetrics 1.0 are
// written from the compact series: what encoding allocates is what it keeps
// and, when the scratch buffer is not at hand, room to write it into once
// (no client_model structs), while protobuf, through structs, allocates
// several times more.
func TestWriteTextMakesNoStructs(t *testing.T) {
	m := NewGauge("iam", "api_key_info", "Keys.", "key_id", "display_name", "description", "owner_id")
	snapOf := func(n int) *Snapshot {
		b := NewBuilder("acme")
		for i := range n {
			id := fmt.Sprintf("KEY%06d", i)
			b.Add(m, 1, id, "name "+id, "made by \"ci\"", "sa-1")
		}
		families, err := b.Build()
		if err != nil {
			t.Fatal(err)
		}
		return New(families)
	}
	// The least of three encodings of fresh snapshots: another goroutine
	// allocating meanwhile adds to one measure, not to all three.
	allocated := func(format expfmt.Format) (alloc uint64, size int) {
		alloc = math.MaxUint64
		for range 3 {
			s := snapOf(2000)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			enc, err := s.Encoding(Format{Format: format}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			alloc, size = min(alloc, after.TotalAlloc-before.TotalAlloc), enc.Size
		}
		return alloc, size
	}
	for _, format := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0, expfmt.FmtOpenMetrics_0_0_1} {
		if a, size := allocated(format); a > uint64(size)*5/2+8<<10 {
			t.Errorf("%s: %d bytes allocated for %d bytes of encoding", format, a, size)
		}
	}
	if a, size := allocated(expfmt.FmtProtoDelim); a < uint64(size)*4 {
		t.Errorf("protobuf: %d bytes allocated for %d bytes: the measure does not see structs", a, size)
	}
}

// TestWriteFails: a writer that fails fails the write.
func TestWriteFails(t *testing.T) {
	snap := fromStructs([]*dto.MetricFamily{{
		Name: proto.String("confluent_x"), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}}},
	}})
	if err := write(snap, failingWriter{}, expfmt.FmtText); !errors.Is(err, errFailingWriter) {
		t.Errorf("a failing writer: %v", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errFailingWriter }

var errFailingWriter = errors.New("failing writer")

// TestSeriesSizeFits: the room made for a family's series lines is what
// they take, escapes aside, with 24 bytes for each value: a scrape's
// buffer is grown once, to about what it needs.
func TestSeriesSizeFits(t *testing.T) {
	b := NewBuilder("acme")
	m := NewGauge("iam", "api_key_info", "", "key_id", "display_name", "owner_id")
	for i := range 100 {
		b.Add(m, float64(i), fmt.Sprintf("KEY%05d", i), "payments", "sa-1")
	}
	fams, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	f := fams[0]
	for _, om := range []bool{false, true} {
		written := len(f.appendSeries(nil, om))
		for _, v := range f.samples {
			written += 24 - len(appendFloat(nil, v, om))
		}
		if size := f.seriesSize(); size != written {
			t.Errorf("openMetrics=%v: room for %d bytes, want %d", om, size, written)
		}
	}
}
