package collector

import (
	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The owners of API keys, so that an alert can name who owns a key. Joins
// are PromQL's: these collectors never depend on the key collectors, nor
// they on these.

var (
	serviceAccountInfoDesc = series.NewGauge("iam", "service_account_info",
		"Name of a service account, to join with confluent_iam_api_key_info on owner_id. Always 1.",
		"owner_id", "display_name", "description")
	userInfoDesc = series.NewGauge("iam", "user_info",
		"Name of a user, to join with confluent_iam_api_key_info on owner_id (no email address, ever). Always 1.",
		"owner_id", "full_name")
)

func init() {
	register("service_accounts", true, "Collect service account names (owners of API keys).", func(e env) reader {
		return listOf(e.lister.ListServiceAccounts, func(s *series.Builder, a apiclient.ServiceAccount) {
			s.Add(serviceAccountInfoDesc, 1, a.ID, a.DisplayName, a.Description)
		})
	})
	// Off by default: names are personal data. Full names only, never an
	// email address.
	register("users", false, "Collect user full names (owners of API keys). Off by default: names are personal data.", func(e env) reader {
		return listOf(e.lister.ListUsers, func(s *series.Builder, u apiclient.User) {
			s.Add(userInfoDesc, 1, u.ID, u.FullName)
		})
	})
}
