package collector

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// errLabelValue marks a value from the API that cannot be a label value.
var errLabelValue = errors.New("invalid label value")

// snapshot collects the const metrics of one complete list. They are built
// once per refresh, so a scrape only sends ready-made metrics.
type snapshot struct {
	metrics []prometheus.Metric
	err     error
}

func (s *snapshot) add(desc *prometheus.Desc, value float64, labels ...string) {
	if s.err != nil {
		return
	}
	m, err := prometheus.NewConstMetric(desc, prometheus.GaugeValue, value, labels...)
	if err != nil {
		s.err = fmt.Errorf("%w: %w", errLabelValue, err)
		return
	}
	s.metrics = append(s.metrics, m)
}

// addTimestamp adds t as Unix seconds, or nothing for a time the API did not
// give: a missing time is never exported as 0 or year 1.
func (s *snapshot) addTimestamp(desc *prometheus.Desc, t time.Time, labels ...string) {
	if !t.IsZero() {
		s.add(desc, unixSeconds(t), labels...)
	}
}

// addEnum adds 1 for the value a key has and 0 for each other known value.
// A value the API added later is passed through as its own label value.
func (s *snapshot) addEnum(desc *prometheus.Desc, id, value string, known []string) {
	isKnown := false
	for _, k := range known {
		isKnown = isKnown || k == value
		s.add(desc, boolFloat(k == value), id, k)
	}
	if !isKnown {
		s.add(desc, 1, id, value)
	}
}

func newDesc(subsystem, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, labels, nil)
}
