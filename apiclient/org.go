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
