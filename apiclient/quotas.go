package apiclient

import (
	"context"
	"net/url"
	"strings"

	"github.com/valyala/fastjson"
)

// The quota scopes the exporter reads: the organisation's own quotas, and
// those that stop key creation per owner and per cluster. Each is one list
// (GET /service-quota/v1/applied-quotas?scope=...).
const (
	ScopeOrganization   = "ORGANIZATION"
	ScopeEnvironment    = "ENVIRONMENT"
	ScopeNetwork        = "NETWORK"
	ScopeKafkaCluster   = "KAFKA_CLUSTER"
	ScopeServiceAccount = "SERVICE_ACCOUNT"
	ScopeUserAccount    = "USER_ACCOUNT"
)

// AppliedQuota is one service quota (service-quota/v1 AppliedQuota). A
// scope other than the organisation has one item per principal, cluster,
// environment or network, all with the same code.
type AppliedQuota struct {
	Code  string // the quota code, e.g. iam.max_cloud_api_keys.per_org
	Scope string // ORGANIZATION, SERVICE_ACCOUNT, ...: upper case, as the API's enum
	// ResourceID is what the quota applies to: the user or service account
	// (u-..., sa-...), the Kafka cluster (lkc-...), the network or
	// environment; "" for the organisation.
	ResourceID  string
	DisplayName string
	Limit       float64 // applied_limit
	HasLimit    bool
	Usage       float64 // usage: reported only where it is not 0
	HasUsage    bool
}

// quotaResource is the reference that names what a quota of each scope
// applies to. Users and service accounts are both in "user".
var quotaResource = map[string]string{
	ScopeKafkaCluster:       "kafka_cluster",
	ScopeServiceAccount:     "user",
	ScopeUserAccount:        "user",
	ScopeNetwork:            "network",
	ScopeEnvironment:        "environment",
	"IDENTITY_PROVIDER":     "identity_provider",
	"CERTIFICATE_AUTHORITY": "certificate_authority",
}

func readAppliedQuota(it *fastjson.Value, f *fields) (q AppliedQuota, key, skip string) {
	if q.Code = f.id(it); q.Code == "" {
		return q, "", ""
	}
	// The CLI asks in lower case; the enum is upper case: one label value.
	q.Scope = strings.ToUpper(f.text(it.Get("scope"), "scope", true))
	if ref := quotaResource[q.Scope]; ref != "" {
		if r := f.object(it.Get(ref), ref, true); r != nil {
			q.ResourceID = f.ref(r.Get("id"), ref+".id", true)
		}
	}
	q.DisplayName = f.text(it.Get("display_name"), "display_name", false)
	q.Limit, q.HasLimit = f.number(it.Get("applied_limit"), "applied_limit", true)
	q.Usage, q.HasUsage = f.number(it.Get("usage"), "usage", false)
	// One code, one item per principal or cluster: the id alone repeats.
	return q, q.Code + " " + q.Scope + " " + q.ResourceID, ""
}

// ListAppliedQuotas reads every page of GET
// /service-quota/v1/applied-quotas for one scope (the API requires one).
func (c *Client) ListAppliedQuotas(ctx context.Context, scope string) ([]AppliedQuota, ListStats, error) {
	return list(ctx, c, EndpointAppliedQuotas, "/service-quota/v1/applied-quotas",
		url.Values{"scope": {scope}}, readAppliedQuota)
}
