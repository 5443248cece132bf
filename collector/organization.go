package collector

import (
	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

var organizationInfoDesc = series.NewGauge("", "organization_info",
	"Confluent's own id and name of the organisation the organization label names. Always 1.",
	"organization_id", "display_name")

// GET /org/v2/organizations: what Confluent calls the organisation the
// exporter's configuration names.
func init() {
	register("organization", true, "Collect Confluent's id and name of the organisation (confluent_organization_info).", func(e env) reader {
		return listOf(e.lister.ListOrganizations, func(s *series.Builder, o apiclient.Organization) {
			s.Add(organizationInfoDesc, 1, o.ID, o.DisplayName)
		})
	})
}
