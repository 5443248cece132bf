package collector

import (
	"context"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The owners of API keys, so that an alert can name who owns a key. Joins
// are PromQL's: these collectors never depend on the key collectors, nor
// they on these.

var (
	serviceAccountInfoMetric = series.NewMetric("iam", "service_account_info",
		"Name of a service account, to join with confluent_iam_api_key_info on owner_id. Always 1.",
		"owner_id", "display_name", "description")
	userInfoMetric = series.NewMetric("iam", "user_info",
		"Name of a user, to join with confluent_iam_api_key_info on owner_id (no email address, ever). Always 1.",
		"owner_id", "full_name")
)

// serviceAccountsCollector serves the service accounts of GET /iam/v2/service-accounts.
type serviceAccountsCollector struct{ lister Lister }

func (c *serviceAccountsCollector) name() string { return "service_accounts" }
func (c *serviceAccountsCollector) skipReasons() []string {
	return []string{apiclient.SkipNoID, apiclient.SkipLongID}
}

func (c *serviceAccountsCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	accounts, stats, err := c.lister.ListServiceAccounts(ctx)
	if err != nil {
		return 0, stats, err
	}
	for _, a := range accounts {
		s.Add(serviceAccountInfoMetric, 1, a.ID, a.DisplayName, a.Description)
	}
	return len(accounts), stats, nil
}

// usersCollector serves the users of GET /iam/v2/users: their full names
// only. It is off by default: names are personal data.
type usersCollector struct{ lister Lister }

func (c *usersCollector) name() string { return "users" }
func (c *usersCollector) skipReasons() []string {
	return []string{apiclient.SkipNoID, apiclient.SkipLongID}
}

func (c *usersCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	users, stats, err := c.lister.ListUsers(ctx)
	if err != nil {
		return 0, stats, err
	}
	for _, u := range users {
		s.Add(userInfoMetric, 1, u.ID, u.FullName)
	}
	return len(users), stats, nil
}
