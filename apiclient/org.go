package apiclient

import "context"

// Environment is one environment (org/v2 Environment).
type Environment struct {
	ID          string // env-...
	DisplayName string
}

type environmentItem struct {
	ID          text `json:"id"`
	DisplayName text `json:"display_name"`
}

func (it *environmentItem) itemID() text { return it.ID }

func (it *environmentItem) convert(f *fields) (Environment, string) {
	return Environment{ID: it.ID.s, DisplayName: f.text(it.DisplayName, "display_name", true)}, ""
}

// ListEnvironments reads every page of GET /org/v2/environments.
func (c *Client) ListEnvironments(ctx context.Context) ([]Environment, ListStats, error) {
	return list[environmentItem, Environment](ctx, c, EndpointEnvironments, "/org/v2/environments", nil)
}

// Organization is one organisation the key can see (org/v2 Organization):
// with a Cloud API key, the organisation that owns it.
type Organization struct {
	ID          string // a UUID
	DisplayName string
}

type organizationItem struct {
	ID          text `json:"id"`
	DisplayName text `json:"display_name"`
}

func (it *organizationItem) itemID() text { return it.ID }

func (it *organizationItem) convert(f *fields) (Organization, string) {
	return Organization{ID: it.ID.s, DisplayName: f.text(it.DisplayName, "display_name", true)}, ""
}

// ListOrganizations reads every page of GET /org/v2/organizations.
func (c *Client) ListOrganizations(ctx context.Context) ([]Organization, ListStats, error) {
	return list[organizationItem, Organization](ctx, c, EndpointOrganizations, "/org/v2/organizations", nil)
}
