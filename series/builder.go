// Package series holds the exposition: the series of each complete list,
// built once per refresh, sorted and checked as a registry would (Builder,
// Families); the snapshot of every list of every organisation served
// together (Snapshot, Combine); and the encodings of each family in the
// formats scraped, cached with the family, so that a scrape writes bytes
// and a refresh encodes only what it changed (Encoding, Warm).
package series

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "confluent"

// OrganizationLabel tells the organisations of one exporter apart: every
// family carries it, built in by the Builder.
const OrganizationLabel = "organization"

// ErrLabelValue marks a value from the API that cannot be a label value.
var ErrLabelValue = errors.New("invalid label value")

// Desc describes one family of series: a gauge (NewGauge), or a counter
// (NewCounter).
type Desc struct {
	name, help string
	counter    bool
	labels     []string // in the order values are given
	order      []int    // order[i]: the given position of the i-th label in name order
	names      []string // label names in name order
}

// NewGauge describes the gauge confluent_<subsystem>_<name> with labels,
// given in that order to Builder.Add. The organization label is added to
// every family by the Builder.
func NewGauge(subsystem, name, help string, labels ...string) *Desc {
	if slices.Contains(labels, OrganizationLabel) {
		panic(name + ": the organization label is added to every family by the Builder")
	}
	m := &Desc{name: prometheus.BuildFQName(namespace, subsystem, name), help: help, labels: labels}
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

// NewCounter describes the counter confluent_<subsystem>_<name>, whose
// name ends in _total, as NewGauge does a gauge.
func NewCounter(subsystem, name, help string, labels ...string) *Desc {
	if !strings.HasSuffix(name, "_total") {
		panic(name + ": a counter's name ends in _total")
	}
	m := NewGauge(subsystem, name, help, labels...)
	m.counter = true
	return m
}

// Builder collects the series of one complete list, for one organisation.
// Build turns them into Families: sorted, each series once, every one
// carrying the organisation's name as its organization label.
type Builder struct {
	organization string
	families     map[*Desc]*familyBuilder
	err          error
}

type familyBuilder struct {
	values []string  // label values, len(names) per series, in name order
	gauges []float64 // one per series
}

// NewBuilder returns an empty Builder for organization's series.
func NewBuilder(organization string) *Builder {
	return &Builder{organization: organization, families: map[*Desc]*familyBuilder{}}
}

// Add adds one series of m, its label values in m's order. A value that is
// not UTF-8 makes Build fail (ErrLabelValue).
func (b *Builder) Add(m *Desc, value float64, labels ...string) {
	if b.err != nil {
		return
	}
	if len(labels) != len(m.labels) {
		b.err = fmt.Errorf("%s: %d label values for %d labels", m.name, len(labels), len(m.labels))
		return
	}
	f := b.families[m]
	if f == nil {
		f = &familyBuilder{}
		b.families[m] = f
	}
	for _, i := range m.order {
		if !utf8.ValidString(labels[i]) {
			b.err = fmt.Errorf("%w: %s %s=%q is not UTF-8", ErrLabelValue, m.name, m.labels[i], labels[i])
			return
		}
		f.values = append(f.values, labels[i])
	}
	f.gauges = append(f.gauges, value)
}

// AddTimestamp adds t as Unix seconds, or nothing for a time the API did
// not give: a missing time is never exported as 0 or year 1.
func (b *Builder) AddTimestamp(m *Desc, t time.Time, labels ...string) {
	if !t.IsZero() {
		b.Add(m, float64(t.UnixMilli())/1000, labels...)
	}
}

// AddEnum adds 1 for the value an item has and 0 for each other known
// value. A value the API added later is passed through as its own label
// value; a missing one ("") gets no series of its own. m's labels are the
// item's id and the value.
func (b *Builder) AddEnum(m *Desc, id, value string, known []string) {
	isKnown := value == ""
	for _, k := range known {
		isKnown = isKnown || k == value
		v := 0.0
		if k == value {
			v = 1
		}
		b.Add(m, v, id, k)
	}
	if !isKnown {
		b.Add(m, 1, id, value)
	}
}

// Build returns the families sorted by name, each with its series sorted
// by label values, or an error for a series that appears twice.
func (b *Builder) Build() (Families, error) {
	if b.err != nil {
		return nil, b.err
	}
	out := make(Families, 0, len(b.families))
	for m, f := range b.families {
		fam, err := f.family(m, b.organization)
		if err != nil {
			return nil, err
		}
		out = append(out, fam)
	}
	slices.SortFunc(out, func(a, b *family) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func (f *familyBuilder) family(m *Desc, organization string) (*family, error) {
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
	at, _ := slices.BinarySearch(m.names, OrganizationLabel)
	out := &family{
		name:    m.name,
		help:    m.help,
		counter: m.counter,
		labels:  slices.Insert(slices.Clone(m.names), at, OrganizationLabel),
		ends:    make([]uint32, n*(k+1)),
		samples: make([]float64, n),
	}
	var values strings.Builder
	for x, i := range idx {
		r := row(i)
		for j := range k + 1 {
			v := organization
			if j < at {
				v = r[j]
			} else if j > at {
				v = r[j-1]
			}
			values.WriteString(v)
			out.ends[x*(k+1)+j] = uint32(values.Len())
		}
		out.samples[x] = f.gauges[i]
	}
	if values.Len() > math.MaxUint32 {
		return nil, fmt.Errorf("%s: %d bytes of label values, more than a snapshot holds", m.name, values.Len())
	}
	out.values = values.String()
	return out, nil
}

// Families are the built families of one complete list, sorted by name:
// immutable, and the unit whose encodings are cached.
type Families []*family

// Equal reports whether a and b hold the same series with the same values,
// help included, in the same order: what Build makes of the same list twice.
// A list that did not change leaves the families, and what was encoded of
// them, as they are.
func (a Families) Equal(b Families) bool {
	return slices.EqualFunc(a, b, func(fa, fb *family) bool {
		return fa.name == fb.name && fa.help == fb.help && fa.counter == fb.counter && slices.Equal(fa.labels, fb.labels) &&
			fa.values == fb.values && slices.Equal(fa.ends, fb.ends) &&
			slices.EqualFunc(fa.samples, fb.samples, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	})
}

// family is one gauge or counter family: every series' label values one
// after the other in one string, where each ends, and one value per series;
// and what was encoded of it, per format.
type family struct {
	name, help string
	counter    bool
	labels     []string  // label names in name order, the same for every series
	values     string    // the label values of every series, series after series
	ends       []uint32  // ends[i*len(labels)+j]: the end in values of series i's j-th value
	samples    []float64 // one per series

	cache pieces
}
