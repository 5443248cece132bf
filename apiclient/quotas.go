package apiclient

import (
	"context"
	"net/url"

	"github.com/valyala/fastjson"
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

func readAppliedQuota(it *fastjson.Value, f *fields) (q AppliedQuota, key, skip string) {
	if q.Code = f.id(it); q.Code == "" {
		return q, "", ""
	}
	q.Scope = f.text(it.Get("scope"), "scope", true)
	q.DisplayName = f.text(it.Get("display_name"), "display_name", false)
	q.Limit, q.HasLimit = f.number(it.Get("applied_limit"), "applied_limit", true)
	q.Usage, q.HasUsage = f.number(it.Get("usage"), "usage", false)
	return q, q.Code, ""
}

// ListAppliedQuotas reads every page of GET
// /service-quota/v1/applied-quotas for one scope (the API requires one).
func (c *Client) ListAppliedQuotas(ctx context.Context, scope string) ([]AppliedQuota, ListStats, error) {
	return list(ctx, c, EndpointAppliedQuotas, "/service-quota/v1/applied-quotas",
		url.Values{"scope": {scope}}, readAppliedQuota)
}
