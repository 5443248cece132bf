package collector

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// errLabelValue marks a value from the API that cannot be a label value.
var errLabelValue = errors.New("invalid label value")

// metric describes one gauge family of the key metrics.
type metric struct {
	name, help string
	labels     []string // in the order values are given
	order      []int    // order[i]: the given position of the i-th label in name order
	names      []string // label names in name order; their addresses are shared by every series
}

func newMetric(subsystem, name, help string, labels ...string) *metric {
	if slices.Contains(labels, organizationLabel) {
		panic(name + ": the organization label is added to every family by the snapshot")
	}
	m := &metric{name: prometheus.BuildFQName(namespace, subsystem, name), help: help, labels: labels}
	m.order = make([]int, len(labels))
	for i := range m.order {
		m.order[i] = i
	}
	slices.SortFunc(m.order, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	for _, i := range m.order {
		m.names = append(m.names, labels[i])
	}
	return m
}

// snapshot builds the metric families of one complete list. They are built
// once per refresh, already sorted and checked as a registry would, so that
// encoding them needs no Collect, copy, sort or check.
//
// Every family carries the organisation's name as the label organization,
// built in here, once per series: the metric definitions leave it out.
type snapshot struct {
	organization string
	families     map[*metric]*familyBuilder
	err          error
}

// organizationLabel tells the organisations of one exporter apart.
const organizationLabel = "organization"

type familyBuilder struct {
	values []string  // label values, len(names) per series, in name order
	gauges []float64 // one per series
}

func newSnapshot(organization string) *snapshot {
	return &snapshot{organization: organization, families: map[*metric]*familyBuilder{}}
}

func (s *snapshot) add(m *metric, value float64, labels ...string) {
	if s.err != nil {
		return
	}
	if len(labels) != len(m.labels) {
		s.err = fmt.Errorf("%s: %d label values for %d labels", m.name, len(labels), len(m.labels))
		return
	}
	f := s.families[m]
	if f == nil {
		f = &familyBuilder{}
		s.families[m] = f
	}
	for _, i := range m.order {
		if !utf8.ValidString(labels[i]) {
			s.err = fmt.Errorf("%w: %s %s=%q is not UTF-8", errLabelValue, m.name, m.labels[i], labels[i])
			return
		}
		f.values = append(f.values, labels[i])
	}
	f.gauges = append(f.gauges, value)
}

// addTimestamp adds t as Unix seconds, or nothing for a time the API did not
// give: a missing time is never exported as 0 or year 1.
func (s *snapshot) addTimestamp(m *metric, t time.Time, labels ...string) {
	if !t.IsZero() {
		s.add(m, unixSeconds(t), labels...)
	}
}

// addEnum adds 1 for the value a key has and 0 for each other known value.
// A value the API added later is passed through as its own label value; a
// missing one ("") gets no series of its own.
func (s *snapshot) addEnum(m *metric, id, value string, known []string) {
	isKnown := value == ""
	for _, k := range known {
		isKnown = isKnown || k == value
		s.add(m, boolFloat(k == value), id, k)
	}
	if !isKnown {
		s.add(m, 1, id, value)
	}
}

// build returns the families sorted by name, each with its series sorted by
// label values, or an error for a series that appears twice.
func (s *snapshot) build() ([]*family, error) {
	if s.err != nil {
		return nil, s.err
	}
	out := make([]*family, 0, len(s.families))
	for m, f := range s.families {
		mf, err := f.family(m, s.organization)
		if err != nil {
			return nil, err
		}
		out = append(out, mf)
	}
	slices.SortFunc(out, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func (f *familyBuilder) family(m *metric, organization string) (*family, error) {
	k, n := len(m.names), len(f.gauges)
	row := func(i int) []string { return f.values[i*k : (i+1)*k] }
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return slices.Compare(row(a), row(b)) })
	for i := 1; i < n; i++ {
		if slices.Equal(row(idx[i-1]), row(idx[i])) {
			return nil, fmt.Errorf("%s: series %v appears twice", m.name, row(idx[i]))
		}
	}

	// The organization label goes in at its place in name order.
	at, _ := slices.BinarySearch(m.names, organizationLabel)
	out := &family{
		name:    m.name,
		help:    m.help,
		labels:  slices.Insert(slices.Clone(m.names), at, organizationLabel),
		ends:    make([]uint32, 0, n*(k+1)),
		samples: make([]float64, 0, n),
	}
	size := n * len(organization)
	for _, v := range f.values {
		size += len(v)
	}
	if size > math.MaxUint32 {
		return nil, fmt.Errorf("%s: %d bytes of label values, more than a snapshot holds", m.name, size)
	}
	var values strings.Builder
	values.Grow(size)
	for _, i := range idx {
		r := row(i)
		for j := range k + 1 {
			v := organization
			if j < at {
				v = r[j]
			} else if j > at {
				v = r[j-1]
			}
			values.WriteString(v)
			out.ends = append(out.ends, uint32(values.Len()))
		}
		out.samples = append(out.samples, f.gauges[i])
	}
	out.values = values.String()
	return out, nil
}

// sameFamilies reports whether two lists of built families hold the same
// series with the same values, help included, in the same order: what build
// makes of the same list twice.
func sameFamilies(a, b []*family) bool {
	return slices.EqualFunc(a, b, func(fa, fb *family) bool {
		return fa.name == fb.name && fa.help == fb.help && slices.Equal(fa.labels, fb.labels) &&
			fa.values == fb.values && slices.Equal(fa.ends, fb.ends) &&
			slices.EqualFunc(fa.samples, fb.samples, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	})
}

// Combine returns the snapshots of several organisations as one: a family
// found in more than one holds the series of each, sorted by label values
// as a registry would. One snapshot is returned as it is, so that what was
// cached for it stays valid. The snapshots are not modified.
func Combine(snaps ...*Snapshot) *Snapshot {
	if len(snaps) == 1 {
		return snaps[0]
	}
	var all []*family
	for _, s := range snaps {
		all = append(all, s.families...)
	}
	slices.SortStableFunc(all, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	out := make([]*family, 0, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		if j == i+1 {
			out = append(out, all[i])
		} else {
			out = append(out, combine(all[i:j]))
		}
		i = j
	}
	return &Snapshot{families: out}
}

// combine merges families of one name, from one metric definition and so
// with the same label names, into one with every series sorted by label
// values.
func combine(fs []*family) *family {
	type ref struct {
		f *family
		i int
	}
	var refs []ref
	size := 0
	for _, f := range fs {
		for i := range f.samples {
			refs = append(refs, ref{f, i})
		}
		size += len(f.values)
	}
	k := len(fs[0].labels)
	slices.SortFunc(refs, func(a, b ref) int {
		for j := range k {
			if c := strings.Compare(a.f.value(a.i, j), b.f.value(b.i, j)); c != 0 {
				return c
			}
		}
		return 0
	})
	out := &family{
		name: fs[0].name, help: fs[0].help, labels: fs[0].labels,
		ends: make([]uint32, 0, len(refs)*k), samples: make([]float64, 0, len(refs)),
	}
	var values strings.Builder
	values.Grow(size)
	for _, r := range refs {
		for j := range k {
			values.WriteString(r.f.value(r.i, j))
			out.ends = append(out.ends, uint32(values.Len()))
		}
		out.samples = append(out.samples, r.f.samples[r.i])
	}
	out.values = values.String()
	return out
}

// Snapshot is the key metrics of every collector's last complete refresh,
// sorted by name, as one immutable value: a new Snapshot replaces it
// whenever a collector completes a refresh.
//
// It holds its series compactly (family), not as client_model structs: at
// 10,000 API keys an eighth of the memory (docs/benchmarks.md). Write
// encodes it.
type Snapshot struct {
	families []*family
}

// family is one gauge family of a Snapshot: every series' label values one
// after the other in one string, where each ends, and one value per series.
type family struct {
	name, help string
	labels     []string  // label names in name order, the same for every series
	values     string    // the label values of every series, series after series
	ends       []uint32  // ends[i*len(labels)+j]: the end in values of series i's j-th value
	samples    []float64 // one per series
}

// value returns series i's j-th label value.
func (f *family) value(i, j int) string {
	at := i*len(f.labels) + j
	start := uint32(0)
	if at > 0 {
		start = f.ends[at-1]
	}
	return f.values[start:f.ends[at]]
}

// metricFamily returns f as client_model structs, in the slabs of sc (one
// per kind of object; series share their label-name strings). The structs
// are valid until sc is used again.
func (f *family) metricFamily(sc *scratch) *dto.MetricFamily {
	k, n := len(f.labels), len(f.samples)
	values, pairs, labelPtrs := grow(&sc.values, n*k), grow(&sc.pairs, n*k), grow(&sc.labelPtrs, n*k)
	gauges, metrics, metricPtrs := grow(&sc.gauges, n), grow(&sc.metrics, n), grow(&sc.metricPtrs, n)
	start := uint32(0)
	for i := range n {
		for j := range k {
			at := i*k + j
			values[at] = f.values[start:f.ends[at]]
			start = f.ends[at]
			pairs[at] = dto.LabelPair{Name: &f.labels[j], Value: &values[at]}
			labelPtrs[at] = &pairs[at]
		}
		gauges[i] = dto.Gauge{Value: &f.samples[i]}
		metrics[i] = dto.Metric{Label: labelPtrs[i*k : (i+1)*k : (i+1)*k], Gauge: &gauges[i]}
		metricPtrs[i] = &metrics[i]
	}
	return &dto.MetricFamily{
		Name:   proto.String(f.name),
		Help:   proto.String(f.help),
		Type:   dto.MetricType_GAUGE.Enum(),
		Metric: metricPtrs,
	}
}

// scratch is room for one family's structs, reused from family to family:
// encoding a snapshot holds the structs of its largest family, not of all.
type scratch struct {
	values     []string
	pairs      []dto.LabelPair
	labelPtrs  []*dto.LabelPair
	gauges     []dto.Gauge
	metrics    []dto.Metric
	metricPtrs []*dto.Metric
}

// grow returns (*s)[:n], growing *s when it is shorter.
func grow[T any](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

// NewSnapshot makes a Snapshot of gauge families, which must be sorted by
// name, with no name twice, each with its series sorted and every series
// with the same label names. Exporter makes its own; this is for tests of
// what serves one. It panics on a family that is not a gauge.
func NewSnapshot(families []*dto.MetricFamily) *Snapshot {
	s := &Snapshot{}
	for _, mf := range families {
		if mf.GetType() != dto.MetricType_GAUGE {
			panic("NewSnapshot: " + mf.GetName() + " is not a gauge")
		}
		f := &family{name: mf.GetName(), help: mf.GetHelp()}
		var values strings.Builder
		for i, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if i == 0 {
					f.labels = append(f.labels, l.GetName())
				}
				values.WriteString(l.GetValue())
				f.ends = append(f.ends, uint32(values.Len()))
			}
			f.samples = append(f.samples, m.GetGauge().GetValue())
		}
		f.values = values.String()
		s.families = append(s.families, f)
	}
	return s
}

// Len returns the number of families.
func (s *Snapshot) Len() int { return len(s.families) }

// Has reports whether the snapshot has a family of that name.
func (s *Snapshot) Has(name string) bool {
	_, found := slices.BinarySearchFunc(s.families, name, func(f *family, n string) int { return strings.Compare(f.name, n) })
	return found
}

// Families returns every family, sorted by name, made for the call.
func (s *Snapshot) Families() []*dto.MetricFamily { return s.Select(nil) }

// Select returns the families whose names keep accepts (all for nil),
// sorted by name, made for the call.
func (s *Snapshot) Select(keep func(name string) bool) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for _, f := range s.families {
		if keep == nil || keep(f.name) {
			out = append(out, f.metricFamily(&scratch{}))
		}
	}
	return out
}
