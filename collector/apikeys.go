package collector

import (
	"context"
	"slices"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var (
	apiKeysDesc = series.NewGauge("iam", "api_keys",
		"Number of IAM API keys by owner kind and resource kind.", "owner_kind", "resource_kind")
	apiKeyInfoDesc = series.NewGauge("iam", "api_key_info",
		"Identity, owner and (first) resource of an IAM API key; keys made with Confluent's CLI have a description and no display name; created_by where the API says. Always 1.",
		"key_id", "display_name", "description", "owner_id", "owner_kind", "resource_id", "resource_kind", "environment", "created_by")
	apiKeyResourceDesc = series.NewGauge("iam", "api_key_resource_info",
		"A resource an IAM API key opens: one series per key and resource (a key can open several). Always 1.",
		"key_id", "resource_id", "resource_kind", "environment")
	apiKeyCreatedDesc = series.NewGauge("iam", "api_key_created_timestamp_seconds",
		"When the IAM API key was created.", "key_id")
	apiKeyExpiresDesc = series.NewGauge("iam", "api_key_expires_timestamp_seconds",
		"When the IAM API key expires (the end of its spec.expires_at day, UTC); only keys that expire.", "key_id")
)

// The IAM API keys of GET /iam/v2/api-keys.
func init() {
	register("api_keys", true, "Collect IAM API keys.", func(e env) reader {
		return &apiKeysCollector{lister: e.lister, perKey: e.opts.APIKeysPerKey, audit: e.audit}
	})
}

type apiKeysCollector struct {
	lister Lister
	perKey bool      // info and created series per key
	audit  *auditLog // told of each complete list; nil without an audit log
}

func (c *apiKeysCollector) skipReasons() []string {
	return []string{apiclient.SkipNoID, apiclient.SkipLongID, apiclient.SkipNoOwner}
}

func (c *apiKeysCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	keys, stats, err := c.lister.ListAPIKeys(ctx)
	if err != nil {
		return 0, stats, err
	}
	c.audit.keysListed(keys)
	apiKeyMetrics(s, keys, c.perKey)
	return len(keys), stats, nil
}

// apiKeyMetrics adds every API key metric of one complete list to s.
func apiKeyMetrics(s *series.Builder, keys []apiclient.APIKey, perKey bool) {
	type group struct{ ownerKind, resourceKind string }
	counts := map[group]int{}
	for _, k := range keys {
		first := k.Resource()
		counts[group{k.OwnerKind, first.Kind}]++
		if perKey {
			s.Add(apiKeyInfoDesc, 1, k.ID, k.DisplayName, k.Description, k.OwnerID, k.OwnerKind, first.ID, first.Kind, first.Environment, k.CreatedBy)
			s.AddTimestamp(apiKeyCreatedDesc, k.CreatedAt, k.ID)
			for i, r := range k.Resources {
				if !slices.Contains(k.Resources[:i], r) { // a resource listed twice is one series
					s.Add(apiKeyResourceDesc, 1, k.ID, r.ID, r.Kind, r.Environment)
				}
			}
		}
		s.AddTimestamp(apiKeyExpiresDesc, k.ExpiresAt, k.ID)
	}
	for g, n := range counts {
		s.Add(apiKeysDesc, float64(n), g.ownerKind, g.resourceKind)
	}
}
