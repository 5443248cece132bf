package collector

import (
	"context"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
)

var (
	quotaLimitMetric = newMetric("quota", "limit",
		"The applied limit of a Confluent Cloud service quota (applied_limit).", "quota_code", "scope")
	quotaUsageMetric = newMetric("quota", "usage",
		"What a Confluent Cloud service quota has used, where the API reports it.", "quota_code", "scope")
)

// quotasCollector serves the organisation's service quotas of GET
// /service-quota/v1/applied-quotas?scope=ORGANIZATION.
type quotasCollector struct{ lister Lister }

func (c *quotasCollector) name() string          { return "quotas" }
func (c *quotasCollector) skipReasons() []string { return []string{apiclient.SkipNoID} }

func (c *quotasCollector) update(ctx context.Context, s *snapshot) (int, apiclient.ListStats, error) {
	quotas, stats, err := c.lister.ListAppliedQuotas(ctx, apiclient.ScopeOrganization)
	if err != nil {
		return 0, stats, err
	}
	for _, q := range quotas {
		if q.HasLimit {
			s.add(quotaLimitMetric, q.Limit, q.Code, q.Scope)
		}
		if q.HasUsage {
			s.add(quotaUsageMetric, q.Usage, q.Code, q.Scope)
		}
	}
	return len(quotas), stats, nil
}
