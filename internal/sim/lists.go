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
}

// endpoints are the list endpoints, by path.
var endpoints = map[string]endpoint{
	"/byok/v1/keys":                    {"byok_keys", "byok/v1", "KeyList", "", 100},
	"/iam/v2/api-keys":                 {"iam_api_keys", "iam/v2", "ApiKeyList", "", 100},
	"/iam/v2/service-accounts":         {"iam_service_accounts", "iam/v2", "ServiceAccountList", "", 100},
	"/iam/v2/users":                    {"iam_users", "iam/v2", "UserList", "", 100},
	"/org/v2/environments":             {"org_environments", "org/v2", "EnvironmentList", "", 100},
	"/org/v2/organizations":            {"org_organizations", "org/v2", "OrganizationList", "", 100},
	"/cmk/v2/clusters":                 {"cmk_clusters", "cmk/v2", "ClusterList", "environment", 100},
	"/service-quota/v1/applied-quotas": {"service_quota_applied_quotas", "service-quota/v1", "AppliedQuotaList", "scope", 200},
}

// listing is one list as a request's filters select it, read under s.mu.
type listing struct {
	n     int
	match func(i int) bool // nil: every item
	item  func(i int, base string) any
}

// listing returns the list endpoint serves, filtered by q.
func (s *Server) listing(endpoint string, q url.Values) listing {
	crn := "crn://confluent.cloud/organization=" + orgID
	switch endpoint {
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
	panic("sim: no listing for endpoint " + endpoint)
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
// clusters of each environment, and the organisation (one page).
// docs/benchmarks.md gives the formula.
func (s *Server) MinimalRequests(pageSize int, users bool) int {
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
	// The quota scopes read by default: the organisation's, per service
	// account, per cluster; and per user with the users collector.
	quotaPages := pages(perScope["ORGANIZATION"]) + pages(perScope["SERVICE_ACCOUNT"]) + pages(perScope["KAFKA_CLUSTER"])
	n := pages(len(s.byok)) + pages(visible) + pages(len(s.sas)) + 2*pages(len(s.envs)) + quotaPages + 1
	if users {
		n += pages(len(s.users)) + pages(perScope["USER_ACCOUNT"])
	}
	for _, e := range s.envs {
		n += pages(perEnv[e.ID])
	}
	return n
}
