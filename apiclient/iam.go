package apiclient

import (
	"context"

	"github.com/valyala/fastjson"
)

// ServiceAccount is one service account (iam/v2 ServiceAccount): the owner
// of most API keys.
type ServiceAccount struct {
	ID          string // sa-...
	DisplayName string
	Description string
}

// User is one user account (iam/v2 User). Its email address is never read.
type User struct {
	ID       string // u-...
	FullName string
}

func readServiceAccount(it *fastjson.Value, f *fields) (a ServiceAccount, key, skip string) {
	if a.ID = f.id(it); a.ID == "" {
		return a, "", ""
	}
	a.DisplayName = f.text(it.Get("display_name"), "display_name", true)
	a.Description = f.text(it.Get("description"), "description", false)
	return a, a.ID, ""
}

// readUser reads a user's id and full name, and nothing else: an email
// address is personal data the exporter has no use for.
func readUser(it *fastjson.Value, f *fields) (u User, key, skip string) {
	if u.ID = f.id(it); u.ID == "" {
		return u, "", ""
	}
	u.FullName = f.text(it.Get("full_name"), "full_name", false)
	return u, u.ID, ""
}

// ListServiceAccounts reads every page of GET /iam/v2/service-accounts.
func (c *Client) ListServiceAccounts(ctx context.Context) ([]ServiceAccount, ListStats, error) {
	return list(ctx, c, EndpointServiceAccounts, "/iam/v2/service-accounts", nil, readServiceAccount)
}

// ListUsers reads every page of GET /iam/v2/users.
func (c *Client) ListUsers(ctx context.Context) ([]User, ListStats, error) {
	return list(ctx, c, EndpointUsers, "/iam/v2/users", nil, readUser)
}
