package series

import (
	"slices"
	"strings"
	"sync"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
)

// Snapshot is the series of every list's last complete refresh, of one
// organisation or of several together, as one immutable value: a new
// Snapshot replaces it whenever a list changes. Families of one name are
// served once, sorted by name.
//
// It holds its series compactly, not as client_model structs: at 10,000
// API keys an eighth of the memory (docs/benchmarks.md). Encoding returns
// its bytes in a format.
type Snapshot struct {
	groups []group // sorted by name

	mu        sync.Mutex
	encodings map[Format]*assembled // per format scraped: the pieces of every family
}

// group is every organisation's family of one name: one for a snapshot of
// one organisation, one per organisation that has it for Combine's.
type group struct {
	name  string
	parts []*family // the same name, help and label names
}

// New returns the snapshot of one organisation's lists: each list's
// families. A family that several lists fill (the identity pools of
// providers and of certificate authorities) is one family of several
// parts, list after list, as Combine makes one of several organisations.
func New(lists ...Families) *Snapshot {
	var all []*family
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortStableFunc(all, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	s := &Snapshot{groups: make([]group, 0, len(all))}
	for _, f := range all {
		if n := len(s.groups); n > 0 && s.groups[n-1].name == f.name {
			s.groups[n-1].parts = append(s.groups[n-1].parts, f)
			continue
		}
		s.groups = append(s.groups, group{name: f.name, parts: []*family{f}})
	}
	return s
}

// Combine returns the snapshots of several organisations as one: a family
// name found in more than one holds each one's series, organisation after
// organisation, under one HELP and TYPE. One snapshot is returned as it is.
// Nothing is copied: the families, and what was encoded of them, are
// shared with the snapshots combined.
func Combine(snaps ...*Snapshot) *Snapshot {
	if len(snaps) == 1 {
		return snaps[0]
	}
	var all []group
	for _, s := range snaps {
		all = append(all, s.groups...)
	}
	slices.SortStableFunc(all, func(a, b group) int { return strings.Compare(a.name, b.name) })
	out := &Snapshot{}
	for _, g := range all {
		if n := len(out.groups); n > 0 && out.groups[n-1].name == g.name {
			out.groups[n-1].parts = append(out.groups[n-1].parts, g.parts...)
			continue
		}
		out.groups = append(out.groups, group{name: g.name, parts: slices.Clip(slices.Clone(g.parts))})
	}
	return out
}

// Len returns the number of families.
func (s *Snapshot) Len() int { return len(s.groups) }

// Has reports whether the snapshot has a family of that name.
func (s *Snapshot) Has(name string) bool {
	_, found := slices.BinarySearchFunc(s.groups, name, func(g group, n string) int { return strings.Compare(g.name, n) })
	return found
}

// Select returns the families whose names keep accepts, sorted by name, as
// client_model structs made for the call (a scrape's ?name[]=..., rare and
// small).
func (s *Snapshot) Select(keep func(name string) bool) []*dto.MetricFamily {
	var out []*dto.MetricFamily
	for _, g := range s.groups {
		if keep(g.name) {
			out = append(out, g.metricFamily(&scratch{}))
		}
	}
	return out
}

// metricFamily returns g as client_model structs, in the slabs of sc (one
// per kind of object; series share their label-name strings). The structs
// are valid until sc is used again.
func (g group) metricFamily(sc *scratch) *dto.MetricFamily {
	first := g.parts[0]
	k, n := len(first.labels), 0
	for _, f := range g.parts {
		n += len(f.samples)
	}
	values, pairs, labelPtrs := grow(&sc.values, n*k), grow(&sc.pairs, n*k), grow(&sc.labelPtrs, n*k)
	metrics, metricPtrs := grow(&sc.metrics, n), grow(&sc.metricPtrs, n)
	var gauges []dto.Gauge
	var counters []dto.Counter
	typ := dto.MetricType_GAUGE
	if first.counter {
		counters, typ = grow(&sc.counters, n), dto.MetricType_COUNTER
	} else {
		gauges = grow(&sc.gauges, n)
	}
	m := 0
	for _, f := range g.parts {
		start := uint32(0)
		for i := range f.samples {
			for j := range k {
				at, to := m*k+j, i*k+j
				values[at] = f.values[start:f.ends[to]]
				start = f.ends[to]
				pairs[at] = dto.LabelPair{Name: &first.labels[j], Value: &values[at]}
				labelPtrs[at] = &pairs[at]
			}
			metrics[m] = dto.Metric{Label: labelPtrs[m*k : (m+1)*k : (m+1)*k]}
			if first.counter {
				counters[m] = dto.Counter{Value: &f.samples[i]}
				metrics[m].Counter = &counters[m]
			} else {
				gauges[m] = dto.Gauge{Value: &f.samples[i]}
				metrics[m].Gauge = &gauges[m]
			}
			metricPtrs[m] = &metrics[m]
			m++
		}
	}
	return &dto.MetricFamily{
		Name:   proto.String(first.name),
		Help:   proto.String(first.help),
		Type:   typ.Enum(),
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
	counters   []dto.Counter
	metrics    []dto.Metric
	metricPtrs []*dto.Metric
}

// grow returns (*s)[:n], growing *s when it is shorter.
func grow[T any](s *[]T, n int) []T {
	*s = slices.Grow((*s)[:0], n)[:n]
	return *s
}
