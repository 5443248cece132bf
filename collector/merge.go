package collector

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Merge serves several Gatherers whose metric names do not overlap, such as
// the registry and the Exporter, as one. Unlike prometheus.Gatherers it does
// not re-check every series: the Exporter's families were checked when they
// were built, and re-checking them on each scrape is what made scrapes cost
// twice the floor (docs/benchmarks.md). A name served twice is served once,
// from the first gatherer that has it, and reported as an error.
func Merge(gatherers ...prometheus.Gatherer) prometheus.Gatherer {
	return prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		var (
			out  []*dto.MetricFamily
			errs prometheus.MultiError
		)
		for _, g := range gatherers {
			mfs, err := g.Gather()
			if err != nil {
				errs = append(errs, err)
			}
			out = append(out, mfs...)
		}
		slices.SortStableFunc(out, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
		out = slices.CompactFunc(out, func(a, b *dto.MetricFamily) bool {
			if a.GetName() != b.GetName() {
				return false
			}
			errs = append(errs, fmt.Errorf("metric family %s served by two gatherers", a.GetName()))
			return true
		})
		return out, errs.MaybeUnwrap()
	})
}
