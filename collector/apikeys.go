package collector

import (
	"context"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
)

var (
	apiKeysDesc = newDesc("iam", "api_keys",
		"Number of IAM API keys by owner kind and resource kind.", "owner_kind", "resource_kind")
	apiKeyInfoDesc = newDesc("iam", "api_key_info",
		"Identity, owner and resource of an IAM API key. Always 1.",
		"key_id", "display_name", "owner_id", "owner_kind", "resource_id", "resource_kind", "environment")
	apiKeyCreatedDesc = newDesc("iam", "api_key_created_timestamp_seconds",
		"When the IAM API key was created.", "key_id")
	apiKeyExpiresDesc = newDesc("iam", "api_key_expires_timestamp_seconds",
		"When the IAM API key expires (the end of its spec.expires_at day, UTC); only keys that expire.", "key_id")
)

// apiKeysCollector serves the IAM API keys of GET /iam/v2/api-keys.
type apiKeysCollector struct {
	lister Lister
	perKey bool // info and created series per key
	logger log.Logger
}

func (c *apiKeysCollector) name() string { return "api_keys" }

func (c *apiKeysCollector) describe(ch chan<- *prometheus.Desc) {
	ch <- apiKeysDesc
	ch <- apiKeyExpiresDesc
	if c.perKey {
		ch <- apiKeyInfoDesc
		ch <- apiKeyCreatedDesc
	}
}

func (c *apiKeysCollector) update(ctx context.Context) ([]prometheus.Metric, int, apiclient.ListStats, error) {
	keys, stats, err := c.lister.ListAPIKeys(ctx, nil)
	if err != nil {
		return nil, 0, stats, err
	}
	if stats.Skipped > 0 {
		level.Debug(c.logger).Log("msg", "Skipped API keys without owner (Confluent-internal)", "count", stats.Skipped)
	}
	m, err := apiKeyMetrics(keys, c.perKey)
	return m, len(keys), stats, err
}

// apiKeyMetrics builds every API key metric of one complete list.
func apiKeyMetrics(keys []apiclient.APIKey, perKey bool) ([]prometheus.Metric, error) {
	type group struct{ ownerKind, resourceKind string }
	counts := map[group]int{}
	perKeySeries := 0
	if perKey {
		perKeySeries = 2
	}
	s := snapshot{metrics: make([]prometheus.Metric, 0, len(keys)*perKeySeries+16)}
	for _, k := range keys {
		counts[group{k.OwnerKind, k.ResourceKind}]++
		if perKey {
			s.add(apiKeyInfoDesc, 1, k.ID, k.DisplayName, k.OwnerID, k.OwnerKind, k.ResourceID, k.ResourceKind, k.Environment)
			s.addTimestamp(apiKeyCreatedDesc, k.CreatedAt, k.ID)
		}
		s.addTimestamp(apiKeyExpiresDesc, k.ExpiresAt, k.ID)
	}
	for g, n := range counts {
		s.add(apiKeysDesc, float64(n), g.ownerKind, g.resourceKind)
	}
	return s.metrics, s.err
}
