package collector

import (
	"context"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var (
	quotaLimitDesc = series.NewGauge("quota", "limit",
		"The applied limit of a Confluent Cloud service quota (applied_limit); resource_id is the user, service account or cluster it applies to, empty for the organisation.",
		"quota_code", "scope", "resource_id")
	quotaUsageDesc = series.NewGauge("quota", "usage",
		"What a Confluent Cloud service quota has used, where the API reports it (it reports no usage of 0).",
		"quota_code", "scope", "resource_id")
)

// The service quotas of GET /service-quota/v1/applied-quotas?scope=..., one
// list per scope (Options.QuotaScopes; none: the organisation's). One scope
// failing fails the refresh, as one environment's clusters do.
func init() {
	register("quotas", true, "Collect the organisation's service quotas (limit and usage).", func(e env) reader {
		scopes := e.opts.QuotaScopes
		if len(scopes) == 0 {
			scopes = []string{apiclient.ScopeOrganization}
		}
		return &quotasCollector{lister: e.lister, scopes: scopes}
	})
}

type quotasCollector struct {
	lister Lister
	scopes []string // apiclient.ScopeOrganization, ...
}

func (c *quotasCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	var stats apiclient.ListStats
	type item struct{ code, scope, resource string }
	seen := map[item]bool{}
	for _, scope := range c.scopes {
		quotas, st, err := c.lister.ListAppliedQuotas(ctx, scope)
		stats = addStats(stats, st)
		if err != nil {
			return 0, stats, err
		}
		for _, q := range quotas {
			if seen[item{q.Code, q.Scope, q.ResourceID}] {
				continue // an item of another scope's list (a scope the API reads loosely)
			}
			seen[item{q.Code, q.Scope, q.ResourceID}] = true
			if q.HasLimit {
				s.Add(quotaLimitDesc, q.Limit, q.Code, q.Scope, q.ResourceID)
			}
			if q.HasUsage {
				s.Add(quotaUsageDesc, q.Usage, q.Code, q.Scope, q.ResourceID)
			}
		}
	}
	return len(seen), stats, nil
}
