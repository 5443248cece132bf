package collector

import (
	"context"
	"fmt"
	"maps"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var kafkaClusterInfoDesc = series.NewGauge("kafka", "cluster_info",
	"A Kafka cluster, its place and kind, and whose key encrypts it: encryption byok (byok_key_id names the BYOK key), byok_legacy (a self-managed key set before the BYOK API, not in its list) or confluent. Always 1.",
	"cluster_id", "display_name", "environment", "cloud", "region", "availability", "byok_key_id", "kind", "encryption")

// The Kafka clusters of every environment: GET /org/v2/environments, then
// GET /cmk/v2/clusters for each. It reads the environments itself, so that
// it never depends on another collector.
func init() {
	register("kafka_clusters", true, "Collect Kafka clusters of every environment and the BYOK key that encrypts each.", func(e env) reader {
		return &kafkaClustersCollector{lister: e.lister, audit: e.audit}
	})
}

type kafkaClustersCollector struct {
	lister Lister
	audit  *auditLog // told of each complete list; nil without an audit log
}

func (c *kafkaClustersCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	envs, stats, err := c.lister.ListEnvironments(ctx)
	if err != nil {
		return 0, stats, err
	}
	// Only what bears on the clusters is kept of the environments list:
	// its pages and the items it skipped; their names are not used here.
	stats.Invalid = nil
	seen := map[string]bool{}
	var all []apiclient.KafkaCluster
	for _, env := range envs {
		clusters, st, err := c.lister.ListKafkaClusters(ctx, env.ID)
		stats = addStats(stats, st)
		if err != nil {
			// Which environment: a 403 on one can mean it is gone or hidden.
			return 0, stats, fmt.Errorf("environment %s: %w", env.ID, err)
		}
		for _, k := range clusters {
			if seen[k.ID] {
				continue // a list that shifted while it was read
			}
			seen[k.ID] = true
			all = append(all, k)
			s.Add(kafkaClusterInfoDesc, 1, k.ID, k.DisplayName, k.Environment, k.Cloud, k.Region, k.Availability, k.BYOKKeyID, k.Kind, k.Encryption)
		}
	}
	c.audit.clustersListed(all)
	return len(seen), stats, nil
}

// addStats adds the pages and the items and values left out of b to a.
func addStats(a, b apiclient.ListStats) apiclient.ListStats {
	a.Pages += b.Pages
	a.Skipped = addTallies(a.Skipped, b.Skipped)
	a.Invalid = addTallies(a.Invalid, b.Invalid)
	return a
}

func addTallies(a, b map[string]apiclient.Tally) map[string]apiclient.Tally {
	if len(b) == 0 {
		return a
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]apiclient.Tally{}
	}
	for k, t := range b {
		sum := out[k]
		if sum.Count == 0 {
			sum.Example = t.Example
		}
		sum.Count += t.Count
		out[k] = sum
	}
	return out
}
