package collector

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"runtime"
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
	if pieces := want.Len()/textChunk + 1; !bytes.Equal(got.Bytes(), want.Bytes()) || w.writes < 2 || w.writes > pieces {
		t.Errorf("%d bytes in %d writes, want %d bytes in %d pieces or fewer", got.Len(), w.writes, want.Len(), pieces)
	}
	if err := snap.Write(failingWriter{}, expfmt.FmtText); err == nil {
		t.Error("a failing writer: no error")
	}
}

// TestWriteTextMakesNoStructs: the text format and OpenMetrics 1.0 are
// written from the compact series, allocating about the same for 200 series
// as for 2,000 (the write buffer); protobuf, through structs, does not.
func TestWriteTextMakesNoStructs(t *testing.T) {
	snapOf := func(n int) *Snapshot {
		s := newSnapshot("acme")
		for i := range n {
			id := fmt.Sprintf("KEY%06d", i)
			s.add(apiKeyInfoMetric, 1, id, "name "+id, "made by \"ci\"", "sa-1", "ServiceAccount", "lkc-1", "Cluster", "env-1", "u-1")
		}
		families, err := s.build()
		if err != nil {
			t.Fatal(err)
		}
		return &Snapshot{families: families}
	}
	small, large := snapOf(200), snapOf(2000)
	// The least of three writes: another goroutine allocating meanwhile
	// adds to one measure, not to all three.
	allocated := func(s *Snapshot, format expfmt.Format) uint64 {
		least := uint64(math.MaxUint64)
		for range 3 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			if err := s.Write(io.Discard, format); err != nil {
				t.Fatal(err)
			}
			runtime.ReadMemStats(&after)
			least = min(least, after.TotalAlloc-before.TotalAlloc)
		}
		return least
	}
	for _, format := range []expfmt.Format{expfmt.FmtText, expfmt.FmtOpenMetrics_1_0_0, expfmt.FmtOpenMetrics_0_0_1} {
		if a, b := allocated(small, format), allocated(large, format); b > a+a/2 {
			t.Errorf("%s: %d bytes allocated for 200 series, %d for 2,000", format, a, b)
		}
	}
	if a, b := allocated(small, expfmt.FmtProtoDelim), allocated(large, expfmt.FmtProtoDelim); b < 5*a {
		t.Errorf("protobuf: %d bytes allocated for 200 series, %d for 2,000: the measure does not see structs", a, b)
	}
}

// TestNewSnapshotTakesGauges: a family of another type is a programming
// error of the test that makes it.
func TestNewSnapshotTakesGauges(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "confluent_requests_total is not a gauge") {
			t.Errorf("a counter: recovered %v", r)
		}
	}()
	NewSnapshot([]*dto.MetricFamily{{Name: proto.String("confluent_requests_total"), Type: dto.MetricType_COUNTER.Enum()}})
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
