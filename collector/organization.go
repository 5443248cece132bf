package collector

import (
	"context"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var organizationInfoMetric = series.NewMetric("", "organization_info",
	"Confluent's own id and name of the organisation the organization label names. Always 1.",
	"organization_id", "display_name")

// organizationCollector serves GET /org/v2/organizations: what Confluent
// calls the organisation the exporter's configuration names.
type organizationCollector struct{ lister Lister }

func (c *organizationCollector) name() string { return "organization" }
func (c *organizationCollector) skipReasons() []string {
	return []string{apiclient.SkipNoID, apiclient.SkipLongID}
}

func (c *organizationCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	orgs, stats, err := c.lister.ListOrganizations(ctx)
	if err != nil {
		return 0, stats, err
	}
	for _, o := range orgs {
		s.Add(organizationInfoMetric, 1, o.ID, o.DisplayName)
	}
	return len(orgs), stats, nil
}
