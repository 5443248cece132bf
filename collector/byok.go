package collector

import (
	"context"
	"slices"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The states and validation phases the API documents. Others it adds later
// are exported as they come.
var (
	byokStates = []string{"AVAILABLE", "IN_USE"}
	byokPhases = []string{"INITIALIZING", "VALID", "INVALID"}
)

var (
	byokKeysDesc = series.NewGauge("byok", "keys",
		"Number of BYOK keys by provider, state, validation phase and region (region is empty until the API computes it).",
		"provider", "state", "validation_phase", "region")
	byokInfoDesc = series.NewGauge("byok", "key_info",
		"Identity of a BYOK key; cloud_key_id is the key ARN on AWS and the key id on Azure and GCP. Always 1.",
		"key_id", "display_name", "provider", "cloud_key_id", "region", "validation_message")
	byokStateDesc = series.NewGauge("byok", "key_state",
		"1 for the BYOK key's state, 0 for each other known state.", "key_id", "state")
	byokPhaseDesc = series.NewGauge("byok", "key_validation_phase",
		"1 for the BYOK key's validation phase, 0 for each other known phase.", "key_id", "phase")
	byokSinceDesc = series.NewGauge("byok", "key_validation_since_timestamp_seconds",
		"Since when the BYOK key has been in its validation phase with its message.", "key_id")
	byokCreatedDesc = series.NewGauge("byok", "key_created_timestamp_seconds",
		"When the BYOK key was created.", "key_id")
	byokPrincipalDesc = series.NewGauge("byok", "key_access_principal_info",
		"A principal that needs access to the KMS key for Confluent to use it: an AWS role, the Azure application or the GCP group. Always 1.",
		"key_id", "principal")
)

// The BYOK keys of GET /byok/v1/keys.
func init() {
	register("byok", true, "Collect BYOK keys.", func(e env) reader { return byokCollector{e.lister} })
}

type byokCollector struct{ lister Lister }

func (c byokCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	keys, stats, err := c.lister.ListBYOKKeys(ctx)
	if err != nil {
		return 0, stats, err
	}
	byokMetrics(s, keys)
	return len(keys), stats, nil
}

// byokMetrics adds every BYOK metric of one complete list to s.
func byokMetrics(s *series.Builder, keys []apiclient.BYOKKey) {
	type group struct{ provider, state, phase, region string }
	counts := map[group]int{}
	for _, k := range keys {
		v := k.Validation
		counts[group{k.Provider, k.State, v.Phase, v.Region}]++
		s.Add(byokInfoDesc, 1, k.ID, k.DisplayName, k.Provider, k.CloudKeyID, v.Region, v.Message)
		s.AddEnum(byokStateDesc, k.ID, k.State, byokStates)
		s.AddEnum(byokPhaseDesc, k.ID, v.Phase, byokPhases)
		s.AddTimestamp(byokSinceDesc, v.Since, k.ID)
		s.AddTimestamp(byokCreatedDesc, k.CreatedAt, k.ID)
		for _, p := range slices.Compact(slices.Sorted(slices.Values(k.KMS.Principals()))) {
			s.Add(byokPrincipalDesc, 1, k.ID, p)
		}
	}
	for g, n := range counts {
		s.Add(byokKeysDesc, float64(n), g.provider, g.state, g.phase, g.region)
	}
}
