package apiclient

import (
	"context"

	"github.com/valyala/fastjson"
)

// Environment is one environment (org/v2 Environment).
type Environment struct {
	ID          string // env-...
	DisplayName string
}

func readEnvironment(it *fastjson.Value, f *fields) (e Environment, key, skip string) {
	if e.ID = f.id(it); e.ID == "" {
		return e, "", ""
	}
	e.DisplayName = f.text(it.Get("display_name"), "display_name", true)
	return e, e.ID, ""
}

// ListEnvironments reads every page of GET /org/v2/environments.
func (c *Client) ListEnvironments(ctx context.Context) ([]Environment, ListStats, error) {
	return list(ctx, c, EndpointEnvironments, "/org/v2/environments", nil, readEnvironment)
}

// Organization is one organisation the key can see (org/v2 Organization):
// with a Cloud API key, the organisation that owns it.
type Organization struct {
	ID          string // a UUID
	DisplayName string
}

func readOrganization(it *fastjson.Value, f *fields) (o Organization, key, skip string) {
	if o.ID = f.id(it); o.ID == "" {
		return o, "", ""
	}
	o.DisplayName = f.text(it.Get("display_name"), "display_name", true)
	return o, o.ID, ""
}

// ListOrganizations reads every page of GET /org/v2/organizations.
func (c *Client) ListOrganizations(ctx context.Context) ([]Organization, ListStats, error) {
	return list(ctx, c, EndpointOrganizations, "/org/v2/organizations", nil, readOrganization)
}
