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
// once per refresh, already sorted and checked as a registry would, so that a
// scrape only encodes them: no per-scrape Collect, copy, sort or check.
// Series of a family share their label names and sit in contiguous memory,
// which matters at 100,000 keys (docs/benchmarks.md).
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
func (s *snapshot) build() ([]*dto.MetricFamily, error) {
	if s.err != nil {
		return nil, s.err
	}
	out := make([]*dto.MetricFamily, 0, len(s.families))
	for m, f := range s.families {
		mf, err := f.family(m, s.organization)
		if err != nil {
			return nil, err
		}
		out = append(out, mf)
	}
	slices.SortFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return out, nil
}

func (f *familyBuilder) family(m *metric, organization string) (*dto.MetricFamily, error) {
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

	// One allocation per kind of object, not per series, and the label
	// values copied in scrape order into one string: encoding a scrape then
	// reads memory in order instead of chasing pointers across the heap.
	// The organization label goes in at its place in name order; its name
	// and value are shared by every series.
	at, _ := slices.BinarySearch(m.names, organizationLabel)
	names := slices.Insert(slices.Clone(m.names), at, organizationLabel)
	size := 0
	for _, v := range f.values {
		size += len(v)
	}
	var arena strings.Builder
	arena.Grow(size)
	for _, i := range idx {
		for _, v := range row(i) {
			arena.WriteString(v)
		}
	}
	all, offset := arena.String(), 0
	values := make([]string, n*k)
	pairs := make([]dto.LabelPair, n*(k+1))
	labelPtrs := make([]*dto.LabelPair, n*(k+1))
	gauges := make([]dto.Gauge, n)
	metrics := make([]dto.Metric, n)
	metricPtrs := make([]*dto.Metric, n)
	for pos, i := range idx {
		for j, v := range row(i) {
			values[pos*k+j] = all[offset : offset+len(v)]
			offset += len(v)
		}
		series := labelPtrs[pos*(k+1) : (pos+1)*(k+1) : (pos+1)*(k+1)]
		for j := range k + 1 {
			p := &pairs[pos*(k+1)+j]
			switch {
			case j < at:
				p.Name, p.Value = &names[j], &values[pos*k+j]
			case j == at:
				p.Name, p.Value = &names[j], &organization
			default:
				p.Name, p.Value = &names[j], &values[pos*k+j-1]
			}
			series[j] = p
		}
		gauges[pos].Value = &f.gauges[i]
		metrics[pos].Label = series
		metrics[pos].Gauge = &gauges[pos]
		metricPtrs[pos] = &metrics[pos]
	}
	return &dto.MetricFamily{
		Name:   proto.String(m.name),
		Help:   proto.String(m.help),
		Type:   dto.MetricType_GAUGE.Enum(),
		Metric: metricPtrs,
	}, nil
}

// sameFamilies reports whether two lists of built families hold the same
// series with the same values (help and type included), in the same order:
// what build makes of the same list twice.
func sameFamilies(a, b []*dto.MetricFamily) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		fa, fb := a[i], b[i]
		if fa.GetName() != fb.GetName() || fa.GetHelp() != fb.GetHelp() || fa.GetType() != fb.GetType() ||
			len(fa.GetMetric()) != len(fb.GetMetric()) {
			return false
		}
		for j, ma := range fa.GetMetric() {
			mb := fb.GetMetric()[j]
			if math.Float64bits(ma.GetGauge().GetValue()) != math.Float64bits(mb.GetGauge().GetValue()) ||
				len(ma.GetLabel()) != len(mb.GetLabel()) {
				return false
			}
			for k, la := range ma.GetLabel() {
				if lb := mb.GetLabel()[k]; la.GetName() != lb.GetName() || la.GetValue() != lb.GetValue() {
					return false
				}
			}
		}
	}
	return true
}

// Combine returns the snapshots of several organisations as one: a family
// found in more than one holds the series of each, sorted by label values
// as a registry would. One snapshot is returned as it is, so that what was
// cached for it stays valid. The snapshots are not modified.
func Combine(snaps ...*Snapshot) *Snapshot {
	if len(snaps) == 1 {
		return snaps[0]
	}
	var all []*dto.MetricFamily
	for _, s := range snaps {
		all = append(all, s.Families()...)
	}
	slices.SortStableFunc(all, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	out := make([]*dto.MetricFamily, 0, len(all))
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].GetName() == all[i].GetName() {
			j++
		}
		if j == i+1 {
			out = append(out, all[i])
			i = j
			continue
		}
		mf := &dto.MetricFamily{Name: all[i].Name, Help: all[i].Help, Type: all[i].Type}
		for _, f := range all[i:j] {
			mf.Metric = append(mf.Metric, f.GetMetric()...)
		}
		slices.SortFunc(mf.Metric, compareLabels)
		out = append(out, mf)
		i = j
	}
	return &Snapshot{families: out}
}

// compareLabels orders two series of one family by their label values
// (their names are the same, in name order).
func compareLabels(a, b *dto.Metric) int {
	la, lb := a.GetLabel(), b.GetLabel()
	for i := range min(len(la), len(lb)) {
		if c := strings.Compare(la[i].GetName(), lb[i].GetName()); c != 0 {
			return c
		}
		if c := strings.Compare(la[i].GetValue(), lb[i].GetValue()); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}
