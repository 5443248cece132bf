package apiclient

import (
	"context"
	"net/url"
)

// ScopeOrganization is the quota scope of the organisation as a whole.
const ScopeOrganization = "ORGANIZATION"

// AppliedQuota is one service quota (service-quota/v1 AppliedQuota).
type AppliedQuota struct {
	Code        string // the quota code, e.g. iam.max_cloud_api_keys.per_org
	Scope       string // ORGANIZATION, ...
	DisplayName string
	Limit       float64 // applied_limit
	HasLimit    bool
	Usage       float64 // usage, where Confluent computes it
	HasUsage    bool
}

type quotaItem struct {
	ID           text   `json:"id"`
	Scope        text   `json:"scope"`
	DisplayName  text   `json:"display_name"`
	AppliedLimit number `json:"applied_limit"`
	Usage        number `json:"usage"`
}

func (it *quotaItem) itemID() text { return it.ID }

func (it *quotaItem) convert(f *fields) (AppliedQuota, string) {
	q := AppliedQuota{
		Code:        it.ID.s,
		Scope:       f.text(it.Scope, "scope", true),
		DisplayName: f.text(it.DisplayName, "display_name", false),
	}
	q.Limit, q.HasLimit = f.number(it.AppliedLimit, "applied_limit", true)
	q.Usage, q.HasUsage = f.number(it.Usage, "usage", false)
	return q, ""
}

// ListAppliedQuotas reads every page of GET
// /service-quota/v1/applied-quotas for one scope (the API requires one).
func (c *Client) ListAppliedQuotas(ctx context.Context, scope string) ([]AppliedQuota, ListStats, error) {
	return list[quotaItem, AppliedQuota](ctx, c, EndpointAppliedQuotas, "/service-quota/v1/applied-quotas",
		url.Values{"scope": {scope}})
}
