package collector

import (
	"context"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var environmentInfoMetric = series.NewMetric("", "environment_info",
	"Name of an environment, to join on environment. Always 1.", "environment", "display_name")

// environmentsCollector serves the environments of GET /org/v2/environments.
type environmentsCollector struct{ lister Lister }

func (c *environmentsCollector) name() string { return "environments" }
func (c *environmentsCollector) skipReasons() []string {
	return []string{apiclient.SkipNoID, apiclient.SkipLongID}
}

func (c *environmentsCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	envs, stats, err := c.lister.ListEnvironments(ctx)
	if err != nil {
		return 0, stats, err
	}
	for _, e := range envs {
		s.Add(environmentInfoMetric, 1, e.ID, e.DisplayName)
	}
	return len(envs), stats, nil
}
