package collector

import (
	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var environmentInfoDesc = series.NewGauge("", "environment_info",
	"Name of an environment, to join on environment. Always 1.", "environment", "display_name")

func init() {
	register("environments", true, "Collect environment names.", func(e env) reader {
		return listOf(e.lister.ListEnvironments, func(s *series.Builder, env apiclient.Environment) {
			s.Add(environmentInfoDesc, 1, env.ID, env.DisplayName)
		})
	})
}
