package apiclient

import "context"

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

type serviceAccountItem struct {
	ID          text `json:"id"`
	DisplayName text `json:"display_name"`
	Description text `json:"description"`
}

// userItem has no email field on purpose: an address is personal data the
// exporter has no use for, so it is not even decoded.
type userItem struct {
	ID       text `json:"id"`
	FullName text `json:"full_name"`
}

func (it *serviceAccountItem) itemID() text { return it.ID }
func (it *userItem) itemID() text           { return it.ID }

func (it *serviceAccountItem) convert(f *fields) (ServiceAccount, string) {
	return ServiceAccount{
		ID:          it.ID.s,
		DisplayName: f.text(it.DisplayName, "display_name", true),
		Description: f.text(it.Description, "description", false),
	}, ""
}

func (it *userItem) convert(f *fields) (User, string) {
	return User{ID: it.ID.s, FullName: f.text(it.FullName, "full_name", false)}, ""
}

// ListServiceAccounts reads every page of GET /iam/v2/service-accounts.
func (c *Client) ListServiceAccounts(ctx context.Context) ([]ServiceAccount, ListStats, error) {
	return list[serviceAccountItem, ServiceAccount](ctx, c, EndpointServiceAccounts, "/iam/v2/service-accounts", nil)
}

// ListUsers reads every page of GET /iam/v2/users.
func (c *Client) ListUsers(ctx context.Context) ([]User, ListStats, error) {
	return list[userItem, User](ctx, c, EndpointUsers, "/iam/v2/users", nil)
}
