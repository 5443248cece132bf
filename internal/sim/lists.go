package sim

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// endpoint is one list endpoint the simulator serves.
type endpoint struct {
	name        string // as in Faults.Endpoint and Request.Endpoint (the exporter's endpoint label)
	apiVersion  string
	listKind    string
	required    string // a query parameter the API requires, or ""
	maxPageSize int
	parent      string // the id in the path of a list under one item, or ""
}

// endpoints are the list endpoints, by path.
var endpoints = map[string]endpoint{
	"/byok/v1/keys":                    {"byok_keys", "byok/v1", "KeyList", "", 100, ""},
	"/iam/v2/api-keys":                 {"iam_api_keys", "iam/v2", "ApiKeyList", "", 100, ""},
	"/iam/v2/service-accounts":         {"iam_service_accounts", "iam/v2", "ServiceAccountList", "", 100, ""},
	"/iam/v2/users":                    {"iam_users", "iam/v2", "UserList", "", 100, ""},
	"/org/v2/environments":             {"org_environments", "org/v2", "EnvironmentList", "", 100, ""},
	"/org/v2/organizations":            {"org_organizations", "org/v2", "OrganizationList", "", 100, ""},
	"/cmk/v2/clusters":                 {"cmk_clusters", "cmk/v2", "ClusterList", "environment", 100, ""},
	"/service-quota/v1/applied-quotas": {"service_quota_applied_quotas", "service-quota/v1", "AppliedQuotaList", "scope", 200, ""},
	"/iam/v2/certificate-authorities":  {"iam_certificate_authorities", "iam/v2", "CertificateAuthorityList", "", 100, ""},
	"/iam/v2/identity-providers":       {"iam_identity_providers", "iam/v2", "IdentityProviderList", "", 100, ""},
}

// parentEndpoints are the lists under one item of another, by the path
// before and after its id.
var parentEndpoints = []struct {
	prefix, suffix string
	endpoint
}{
	{"/iam/v2/certificate-authorities/", "/identity-pools", endpoint{"iam_certificate_identity_pools", "iam/v2", "CertificateIdentityPoolList", "", 100, ""}},
	{"/iam/v2/identity-providers/", "/identity-pools", endpoint{"iam_identity_pools", "iam/v2", "IdentityPoolList", "", 100, ""}},
}

// pathOf is the path of a list under one item.
func (ep endpoint) pathOf() string {
	for _, p := range parentEndpoints {
		if p.name == ep.name {
			return p.prefix + ep.parent + p.suffix
		}
	}
	return ""
}

// route finds the list endpoint of path, with the id of the item it is
// under for the lists under one.
func route(path string) (endpoint, bool) {
	if ep, ok := endpoints[path]; ok {
		return ep, true
	}
	for _, p := range parentEndpoints {
		if id, ok := strings.CutPrefix(path, p.prefix); ok {
			if id, ok = strings.CutSuffix(id, p.suffix); ok && id != "" && !strings.Contains(id, "/") {
				ep := p.endpoint
				ep.parent = id
				return ep, true
			}
		}
	}
	return endpoint{}, false
}

// listing is one list as a request's filters select it, read under s.mu.
type listing struct {
	n     int
	match func(i int) bool // nil: every item
	item  func(i int, base string) any
}

// listing returns the list endpoint serves, filtered by q.
func (s *Server) listing(ep endpoint, q url.Values) listing {
	crn := "crn://confluent.cloud/organization=" + orgID
	switch ep.name {
	case "iam_certificate_authorities":
		return listing{n: len(s.cas), item: func(i int, base string) any {
			a := s.cas[i]
			a.Metadata.Self = base + "/iam/v2/certificate-authorities/" + a.ID
			a.Metadata.ResourceName = crn + "/certificate-authority=" + a.ID
			return a
		}}
	case "iam_identity_providers":
		return listing{n: len(s.providers), item: func(i int, base string) any {
			p := s.providers[i]
			p.Metadata.Self = base + "/iam/v2/identity-providers/" + p.ID
			p.Metadata.ResourceName = crn + "/identity-provider=" + p.ID
			return p
		}}
	case "iam_certificate_identity_pools", "iam_identity_pools":
		pools, _ := s.poolsOf(ep.name, ep.parent)
		kind := "identity-provider"
		if ep.name == "iam_certificate_identity_pools" {
			kind = "certificate-authority"
		}
		return listing{n: len(pools), item: func(i int, base string) any {
			p := pools[i]
			p.Metadata.Self = base + ep.pathOf() + "/" + p.ID
			p.Metadata.ResourceName = crn + "/" + kind + "=" + ep.parent + "/identity-pool=" + p.ID
			return p
		}}
	case "byok_keys":
		l := listing{n: len(s.byok), item: func(i int, base string) any {
			k := s.byok[i]
			k.Metadata.Self = base + "/byok/v1/keys/" + k.ID
			k.Metadata.ResourceName = crn + "/key=" + k.ID
			return k
		}}
		for _, f := range []string{"display_name", "provider", "state", "validation_phase", "validation_region", "key"} {
			if q.Get(f) != "" {
				l.match = func(i int) bool { return byokMatches(s.byok[i], q.Get) }
			}
		}
		return l
	case "iam_api_keys":
		l := listing{n: len(s.apiKeys), item: func(i int, base string) any {
			k := s.apiKeys[i]
			k.Metadata.Self = base + "/iam/v2/api-keys/" + k.ID
			k.Metadata.ResourceName = crn + "/api-key=" + k.ID
			return k
		}}
		// Expired keys are hidden unless show_expired=true, as the API does.
		showExpired := q.Get("show_expired") == "true"
		now := s.Now()
		owner, res := q.Get("spec.owner"), q.Get("spec.resource")
		if owner != "" || res != "" || !showExpired && s.anyExpired(now) {
			l.match = func(i int) bool {
				k := s.apiKeys[i]
				return (owner == "" || k.Spec.Owner != nil && k.Spec.Owner.ID == owner) &&
					(res == "" || k.Spec.Resource != nil && k.Spec.Resource.ID == res) &&
					(showExpired || !expired(k, now))
			}
		}
		return l
	case "iam_service_accounts":
		l := listing{n: len(s.sas), item: func(i int, base string) any {
			a := s.sas[i]
			a.Metadata.Self = base + "/iam/v2/service-accounts/" + a.ID
			a.Metadata.ResourceName = crn + "/service-account=" + a.ID
			return a
		}}
		if names := q["display_name"]; len(names) > 0 {
			l.match = func(i int) bool { return slices.Contains(names, s.sas[i].DisplayName) }
		}
		return l
	case "iam_users":
		return listing{n: len(s.users), item: func(i int, base string) any {
			u := s.users[i]
			u.Metadata.Self = base + "/iam/v2/users/" + u.ID
			u.Metadata.ResourceName = crn + "/user=" + u.ID
			return u
		}}
	case "org_environments":
		return listing{n: len(s.envs), item: func(i int, base string) any {
			e := s.envs[i]
			e.Metadata.Self = base + "/org/v2/environments/" + e.ID
			e.Metadata.ResourceName = crn + "/environment=" + e.ID
			return e
		}}
	case "org_organizations":
		return listing{n: 1, item: func(_ int, base string) any {
			o := s.cfg.Org.organization()
			o.Metadata.Self = base + "/org/v2/organizations/" + o.ID
			o.Metadata.ResourceName = "crn://confluent.cloud/organization=" + o.ID
			return o
		}}
	case "cmk_clusters":
		env := q.Get("environment")
		return listing{
			n:     len(s.clusters),
			match: func(i int) bool { return s.clusters[i].Spec.Environment.ID == env },
			item: func(i int, base string) any {
				c := s.clusters[i]
				c.Metadata.Self = base + "/cmk/v2/clusters/" + c.ID
				c.Metadata.ResourceName = crn + "/environment=" + c.Spec.Environment.ID + "/cloud-cluster=" + c.ID
				return c
			},
		}
	case "service_quota_applied_quotas":
		quotas := s.quotas()
		scope, code := q.Get("scope"), q.Get("id")
		return listing{
			n: len(quotas),
			// The scope in any case: Confluent's CLI sends it in lower case.
			match: func(i int) bool {
				return strings.EqualFold(quotas[i].Scope, scope) && (code == "" || quotas[i].ID == code)
			},
			item: func(i int, base string) any {
				a := quotas[i]
				a.Metadata.Self = base + "/service-quota/v1/applied-quotas/" + a.ID
				a.Metadata.ResourceName = crn + "/applied-quota=" + a.ID
				return a
			},
		}
	}
	panic("sim: no listing for endpoint " + ep.name)
}

// expired reports whether k's expiry day ended before now.
func expired(k APIKey, now time.Time) bool { return !k.expires.IsZero() && !now.Before(k.expires) }

// anyExpired reports whether some key has expired by now, without looking
// at each key on every request: the first expiry is kept (firstExpiry).
func (s *Server) anyExpired(now time.Time) bool {
	return !s.firstExpiry.IsZero() && !now.Before(s.firstExpiry)
}

// setFirstExpiry finds the earliest expiry of the keys, under s.mu.
func (s *Server) setFirstExpiry() {
	s.firstExpiry = time.Time{}
	for _, k := range s.apiKeys {
		if !k.expires.IsZero() && (s.firstExpiry.IsZero() || k.expires.Before(s.firstExpiry)) {
			s.firstExpiry = k.expires
		}
	}
}

// quotas are the organisation's quotas now, usage counted from the lists as
// they are (a deleted key frees its place at once), under s.mu. They are
// counted once and kept until a list changes or the next key expires: every
// page of every scope asks for them. The caller does not change them.
func (s *Server) quotas() []AppliedQuota {
	now := s.Now()
	if s.quotaCache != nil && (s.quotaUntil.IsZero() || now.Before(s.quotaUntil)) {
		return s.quotaCache
	}
	s.changed() // the quotas' items are encoded from the cache
	s.quotaUntil = time.Time{}
	for _, k := range s.apiKeys {
		if k.expires.After(now) && (s.quotaUntil.IsZero() || k.expires.Before(s.quotaUntil)) {
			s.quotaUntil = k.expires
		}
	}
	auditLogKeys := 0
	if a := s.cfg.Org.auditLog(); slices.ContainsFunc(s.apiKeys, func(k APIKey) bool { return k.ID == a.KeyID }) {
		auditLogKeys = 1
	}
	qs := newQuotas(now, s.byok, s.apiKeys, s.sas, s.users, s.envs, s.clusters, auditLogKeys)
	for i := range qs {
		if limit, ok := s.quotaLimits[qs[i].ID]; ok {
			qs[i].AppliedLimit = limit
		}
	}
	s.quotaCache = qs
	return qs
}

// AuditLog returns where the organisation's audit log is (OrgConfig.AuditLog),
// the zero value when it has none.
func (s *Server) AuditLog() AuditLogCluster { return s.cfg.Org.auditLog() }

// ServiceAccounts returns a copy of the service accounts.
func (s *Server) ServiceAccounts() []ServiceAccount {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sas)
}

// Users returns a copy of the users.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// Environments returns a copy of the environments.
func (s *Server) Environments() []Environment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.envs)
}

// KafkaClusters returns a copy of the Kafka clusters.
func (s *Server) KafkaClusters() []KafkaCluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.clusters)
}

// Quotas returns the organisation's quotas as the API would list them now.
func (s *Server) Quotas() []AppliedQuota {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.quotas())
}

// SetQuotaLimit changes a quota's applied limit, as Confluent does when it
// raises one on request.
func (s *Server) SetQuotaLimit(code string, limit int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !slices.ContainsFunc(s.quotas(), func(q AppliedQuota) bool { return q.ID == code }) {
		return false
	}
	s.quotaLimits[code] = limit
	s.changed()
	return true
}

// DeleteServiceAccount removes a service account and leaves its keys: the
// ownership drift the exporter's alert looks for.
func (s *Server) DeleteServiceAccount(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.sas)
	s.sas = slices.DeleteFunc(s.sas, func(a ServiceAccount) bool { return a.ID == id })
	s.changed()
	return len(s.sas) < n
}

// DeleteKafkaCluster removes a cluster; a BYOK key that encrypted it stays
// IN_USE, as Confluent keeps it for up to five days.
func (s *Server) DeleteKafkaCluster(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.clusters)
	s.clusters = slices.DeleteFunc(s.clusters, func(c KafkaCluster) bool { return c.ID == id })
	s.changed()
	return len(s.clusters) < n
}

// MinimalRequests is the fewest list requests one complete refresh of every
// collector takes at pageSize, users included or not: one per page of each
// list (an empty list is one page), the environments twice (the
// environments and the kafka_clusters collectors each read them), the
// clusters of each environment, the organisation (one page), the
// certificate authorities and identity providers twice and the identity
// pools of each.
// docs/benchmarks.md gives the formula.
func (s *Server) MinimalRequests(pageSize int, users bool) int {
	scopes := []string{"ORGANIZATION", "SERVICE_ACCOUNT", "KAFKA_CLUSTER"}
	if users {
		scopes = append(scopes, "USER_ACCOUNT")
	}
	return s.MinimalRequestsScopes(pageSize, users, scopes...)
}

// MinimalRequestsScopes is MinimalRequests with the quotas of the scopes
// given (an exporter before per-scope quotas read the organisation's only).
func (s *Server) MinimalRequestsScopes(pageSize int, users bool, scopes ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	pages := func(n int) int { return max(1, (n+pageSize-1)/pageSize) }
	perEnv := map[string]int{}
	for _, c := range s.clusters {
		perEnv[c.Spec.Environment.ID]++
	}
	now := s.Now()
	visible := 0 // expired keys are not listed
	for _, k := range s.apiKeys {
		if !expired(k, now) {
			visible++
		}
	}
	perScope := map[string]int{}
	for _, q := range s.quotas() {
		perScope[q.Scope]++
	}
	n := pages(len(s.byok)) + pages(visible) + pages(len(s.sas)) + 2*pages(len(s.envs)) + 1
	for _, scope := range scopes {
		n += pages(perScope[scope])
	}
	if users {
		n += pages(len(s.users))
	}
	for _, e := range s.envs {
		n += pages(perEnv[e.ID])
	}
	// The authorities and the providers twice (their collectors and their
	// pools' each read them), and the pools of each.
	n += 2*pages(len(s.cas)) + 2*pages(len(s.providers))
	for _, a := range s.cas {
		n += pages(len(a.pools))
	}
	for _, p := range s.providers {
		n += pages(len(p.pools))
	}
	return n
}
