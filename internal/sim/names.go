package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The names behind the ids the keys carry: the owners of the API keys, the
// environments they point at, the Kafka clusters the BYOK keys encrypt and
// the organisation's quotas. All are derived from the keys, so that every
// endpoint tells the same story: every owner exists, every cluster of an
// API key is listed in its environment, every IN_USE BYOK key encrypts at
// least one cluster (with Quirks, one does not: its cluster was deleted,
// and Confluent keeps a key IN_USE for up to five days after that), and the
// quotas' usage equals the counts.

// ServiceAccount is one service account as GET /iam/v2/service-accounts lists it.
type ServiceAccount struct {
	APIVersion  string     `json:"api_version"`
	Kind        string     `json:"kind"`
	ID          string     `json:"id"`
	Metadata    ObjectMeta `json:"metadata"`
	DisplayName string     `json:"display_name"`
	Description string     `json:"description"`
}

// User is one user as GET /iam/v2/users lists it, email included: the
// exporter must never export it.
type User struct {
	APIVersion string     `json:"api_version"`
	Kind       string     `json:"kind"`
	ID         string     `json:"id"`
	Metadata   ObjectMeta `json:"metadata"`
	Email      string     `json:"email"`
	FullName   string     `json:"full_name"`
	AuthType   string     `json:"auth_type"`
}

// Environment is one environment as GET /org/v2/environments lists it.
type Environment struct {
	APIVersion  string     `json:"api_version"`
	Kind        string     `json:"kind"`
	ID          string     `json:"id"`
	Metadata    ObjectMeta `json:"metadata"`
	DisplayName string     `json:"display_name"`
}

// Organization is the organisation as GET /org/v2/organizations lists it.
type Organization struct {
	APIVersion  string     `json:"api_version"`
	Kind        string     `json:"kind"`
	ID          string     `json:"id"`
	Metadata    ObjectMeta `json:"metadata"`
	DisplayName string     `json:"display_name"`
	JITEnabled  bool       `json:"jit_enabled"`
}

// organization is the one organisation a Cloud API key sees.
func (cfg OrgConfig) organization() Organization {
	id, name := cfg.ID, cfg.DisplayName
	if id == "" {
		id = orgID
	}
	if name == "" {
		name = "Simulated Org"
	}
	return Organization{
		APIVersion: "org/v2", Kind: "Organization", ID: id, DisplayName: name,
		Metadata: ObjectMeta{CreatedAt: ts(cfg.now().AddDate(-4, 0, 0))},
	}
}

// KafkaCluster is one cluster as GET /cmk/v2/clusters lists it.
type KafkaCluster struct {
	APIVersion string        `json:"api_version"`
	Kind       string        `json:"kind"`
	ID         string        `json:"id"`
	Metadata   ObjectMeta    `json:"metadata"`
	Spec       ClusterSpec   `json:"spec"`
	Status     ClusterStatus `json:"status"`
}

// ClusterSpec is a cluster's spec. BYOK is nil for clusters encrypted with
// Confluent-managed keys.
type ClusterSpec struct {
	DisplayName  string        `json:"display_name"`
	Availability string        `json:"availability"`
	Cloud        string        `json:"cloud"`
	Region       string        `json:"region"`
	Config       ClusterConfig `json:"config"`
	Environment  ObjectRef     `json:"environment"`
	BYOK         *ObjectRef    `json:"byok,omitempty"`
}

// ClusterConfig is the oneOf Basic / Standard / Dedicated / ... A
// Dedicated cluster given a self-managed key before the BYOK API names the
// KMS key in the deprecated EncryptionKey instead of spec.byok.
type ClusterConfig struct {
	Kind          string `json:"kind"`
	CKU           int    `json:"cku,omitempty"`
	EncryptionKey string `json:"encryption_key,omitempty"`
}

// ClusterStatus is a cluster's status.
type ClusterStatus struct {
	Phase string `json:"phase"`
	CKU   int    `json:"cku,omitempty"`
}

// AppliedQuota is one quota as GET /service-quota/v1/applied-quotas lists
// it. Usage is nil where Confluent does not compute it.
type AppliedQuota struct {
	APIVersion   string     `json:"api_version"`
	Kind         string     `json:"kind"`
	ID           string     `json:"id"`
	Metadata     ObjectMeta `json:"metadata"`
	Scope        string     `json:"scope"`
	DisplayName  string     `json:"display_name"`
	DefaultLimit int        `json:"default_limit"`
	AppliedLimit int        `json:"applied_limit"`
	Usage        *int       `json:"usage,omitempty"`
	Organization *ObjectRef `json:"organization,omitempty"`
	// User is the user or service account of a USER_ACCOUNT or
	// SERVICE_ACCOUNT quota; KafkaCluster the cluster of a KAFKA_CLUSTER one.
	User         *ObjectRef `json:"user,omitempty"`
	KafkaCluster *ObjectRef `json:"kafka_cluster,omitempty"`
}

// The quota codes Confluent documents for what the exporter watches (the
// output of `confluent service-quota list organization`; docs/upstream-api-notes.md).
const (
	QuotaCloudAPIKeys    = "iam.max_cloud_api_keys.per_org"
	QuotaServiceAccounts = "iam.max_service_accounts.per_org"
	QuotaUsers           = "iam.max_users.per_org"
	QuotaBYOKKeys        = "byok.max_keys.per_org"
	QuotaEnvironments    = "iam.max_environments.per_org"
	QuotaKafkaClusters   = "iam.max_kafka_clusters.per_org"

	// The quotas that stop key creation per owner and per cluster
	// (scopes SERVICE_ACCOUNT, USER_ACCOUNT, KAFKA_CLUSTER): one item per
	// principal or cluster, all with the same id.
	QuotaCloudKeysPerSA   = "iam.max_cloud_api_keys.per_service_account"
	QuotaClusterKeysPerSA = "iam.max_cluster_api_keys.per_service_account"
	QuotaCloudKeysPerUser = "iam.max_cloud_api_keys.per_user"
	QuotaClusterKeysUser  = "iam.max_cluster_api_keys.per_user"
	QuotaKeysPerCluster   = "kafka.max_api_keys.per_cluster"
)

var envNames = []string{"production", "staging", "development", "analytics", "payments", "sandbox"}

// numEnvironments and numClusters are the environments and the clusters the
// generated API keys point at (env-000..., lkc-0000...).
const (
	numEnvironments = 6
	numClusters     = 40
)

func envID(i int) string     { return fmt.Sprintf("env-%03d", i) }
func clusterID(i int) string { return fmt.Sprintf("lkc-%04d", i) }

// clusterEnv is the environment cluster i lives in.
func clusterEnv(i int) string { return envID(i % numEnvironments) }

// NewServiceAccounts lists every service account that can own the keys of
// an organisation of cfg (NewAPIKeys draws owners from the same range).
func NewServiceAccounts(cfg OrgConfig) []ServiceAccount {
	now := cfg.now()
	var out []ServiceAccount
	for o := range numOwners(cfg) {
		if o%5 == 0 {
			continue
		}
		team := []string{"payments", "orders", "search", "ledger", "etl", "ci"}[o%6]
		out = append(out, ServiceAccount{
			APIVersion: "iam/v2", Kind: "ServiceAccount", ID: fmt.Sprintf("sa-%05d", o),
			Metadata:    ObjectMeta{CreatedAt: ts(now.AddDate(-2, 0, o%300))},
			DisplayName: fmt.Sprintf("%s-svc-%d", team, o),
			Description: fmt.Sprintf("Service account of the %s team", team),
		})
	}
	return out
}

// NewUsers lists every user that can own keys of an organisation of cfg.
func NewUsers(cfg OrgConfig) []User {
	first := []string{"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis"}
	last := []string{"Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie"}
	now := cfg.now()
	var out []User
	for o := 0; o < numOwners(cfg); o += 5 {
		f, l := first[o/5%len(first)], last[o/5/len(first)%len(last)]
		out = append(out, User{
			APIVersion: "iam/v2", Kind: "User", ID: fmt.Sprintf("u-%05d", o),
			Metadata: ObjectMeta{CreatedAt: ts(now.AddDate(-3, 0, o%300))},
			Email:    fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(f), strings.ToLower(l), o),
			FullName: fmt.Sprintf("%s %s", f, l),
			AuthType: "AUTH_TYPE_SSO",
		})
	}
	return out
}

// numOwners is how many owners the API keys are spread over.
func numOwners(cfg OrgConfig) int {
	if cfg.Owners > 0 {
		return cfg.Owners
	}
	return 1 + cfg.APIKeys/8
}

// NewEnvironments lists the environments the keys point at.
func NewEnvironments(cfg OrgConfig) []Environment {
	now := cfg.now()
	out := make([]Environment, numEnvironments)
	for i := range out {
		out[i] = Environment{
			APIVersion: "org/v2", Kind: "Environment", ID: envID(i),
			Metadata:    ObjectMeta{CreatedAt: ts(now.AddDate(-3, i, 0))},
			DisplayName: envNames[i],
		}
	}
	return out
}

// NewKafkaClusters lists the clusters: the ones the API keys point at, and
// as many more as the IN_USE BYOK keys need. IN_USE key j encrypts cluster j
// (and every third one also cluster j+n, n the number of IN_USE keys), in
// the key's cloud and region. With Quirks the last IN_USE key encrypts none.
func NewKafkaClusters(cfg OrgConfig, byok []BYOKKey) []KafkaCluster {
	var inUse []BYOKKey
	for _, k := range byok {
		if k.State == "IN_USE" {
			inUse = append(inUse, k)
		}
	}
	if cfg.Quirks && len(inUse) > 0 {
		inUse = inUse[:len(inUse)-1]
	}
	now := cfg.now()
	n := max(numClusters, len(inUse)+len(inUse)/3+1)
	clusters := make([]KafkaCluster, n)
	for i := range clusters {
		env := clusterEnv(i)
		c := KafkaCluster{
			APIVersion: "cmk/v2", Kind: "Cluster", ID: clusterID(i),
			Metadata: ObjectMeta{CreatedAt: ts(now.AddDate(-1, 0, -i))},
			Spec: ClusterSpec{
				DisplayName:  fmt.Sprintf("%s-kafka-%d", envNames[i%numEnvironments], i),
				Availability: []string{"MULTI_ZONE", "SINGLE_ZONE"}[i%2],
				Cloud:        []string{"AWS", "GCP", "AZURE"}[i%3],
				Region:       []string{"us-east-1", "us-central1", "westeurope"}[i%3],
				Config:       ClusterConfig{Kind: []string{"Standard", "Basic", "Enterprise"}[i%3]},
				Environment: ObjectRef{
					ID: env, Related: "https://api.confluent.cloud/org/v2/environments/" + env,
					ResourceName: fmt.Sprintf("crn://confluent.cloud/organization=%s/environment=%s", orgID, env),
				},
			},
			Status: ClusterStatus{Phase: "PROVISIONED"},
		}
		clusters[i] = c
	}
	encrypt := func(i int, k BYOKKey) {
		c := &clusters[i]
		c.Spec.Cloud = strings.ToUpper(k.Provider)
		c.Spec.Region = k.Validation.Region
		if c.Spec.Region == "" {
			c.Spec.Region = regionOf(k)
		}
		c.Spec.Config = ClusterConfig{Kind: "Dedicated", CKU: 2}
		c.Status.CKU = 2
		c.Spec.BYOK = &ObjectRef{
			ID: k.ID, Related: "https://api.confluent.cloud/byok/v1/keys/" + k.ID,
			ResourceName: fmt.Sprintf("crn://confluent.cloud/organization=%s/key=%s", orgID, k.ID),
		}
	}
	for j, k := range inUse {
		encrypt(j, k)
		if j%3 == 0 && len(inUse)+j < n {
			encrypt(len(inUse)+j, k)
		}
	}
	// The last clusters no BYOK key encrypts: two given a self-managed key
	// before the BYOK API (in the deprecated config.encryption_key; not in
	// the BYOK list), one of the Freight kind.
	odd := 0
	for i := n - 1; i >= 0 && odd < 3; i-- {
		c := &clusters[i]
		if c.Spec.BYOK != nil {
			continue
		}
		if odd < 2 {
			c.Spec.Config = ClusterConfig{
				Kind: "Dedicated", CKU: 2,
				EncryptionKey: fmt.Sprintf("arn:aws:kms:us-east-1:111122223333:key/legacy-%04d", i),
			}
			c.Spec.Cloud, c.Spec.Region = "AWS", "us-east-1"
			c.Status.CKU = 2
		} else {
			c.Spec.Config = ClusterConfig{Kind: "Freight"}
		}
		odd++
	}
	return clusters
}

// regionOf is the region a key's KMS key lives in, where its id says it.
func regionOf(k BYOKKey) string {
	if parts := strings.Split(k.Key.KeyARN, ":"); len(parts) > 3 {
		return parts[3]
	}
	if _, rest, ok := strings.Cut(k.Key.KeyID, "/locations/"); ok {
		region, _, _ := strings.Cut(rest, "/")
		return region
	}
	return ""
}

// newQuotas lists the quotas of every scope, their usage counted from the
// lists (limits raised, as Confluent does on request, where an
// organisation is larger than the default). Usage is reported only where
// it is not 0, as Confluent's docs say.
func newQuotas(now time.Time, byok []BYOKKey, apiKeys []APIKey, sas []ServiceAccount, users []User, envs []Environment, clusters []KafkaCluster, auditLogKeys int) []AppliedQuota {
	cloudKeys := 0
	cloudOf, clusterKeysOf, keysOn := map[string]int{}, map[string]int{}, map[string]int{}
	for _, k := range apiKeys {
		if k.Spec.Owner == nil || expired(k, now) {
			continue
		}
		if k.Spec.Resource == nil || k.Spec.Resource.ID == "cloud" {
			cloudKeys++
			cloudOf[k.Spec.Owner.ID]++
			continue
		}
		resources := k.Spec.Resources
		if len(resources) == 0 {
			resources = []*ObjectRef{k.Spec.Resource}
		}
		for _, r := range resources {
			if strings.HasPrefix(r.ID, "lkc-") {
				clusterKeysOf[k.Spec.Owner.ID]++
				keysOn[r.ID]++
			}
		}
	}
	org := &ObjectRef{
		ID: orgID, Related: "https://api.confluent.cloud/org/v2/organizations/" + orgID,
		ResourceName: "crn://confluent.cloud/organization=" + orgID,
	}
	type q struct {
		code, name string
		limit      int
		usage      int
	}
	var out []AppliedQuota
	add := func(scope string, x q, set func(*AppliedQuota)) {
		applied := x.limit
		for applied < 2*x.usage {
			applied *= 2
		}
		a := AppliedQuota{
			APIVersion: "service-quota/v1", Kind: "AppliedQuota", ID: x.code,
			Scope: scope, DisplayName: x.name, DefaultLimit: x.limit, AppliedLimit: applied, Organization: org,
		}
		if x.usage > 0 {
			u := x.usage
			a.Usage = &u
		}
		if set != nil {
			set(&a)
		}
		out = append(out, a)
	}
	for _, x := range []q{
		{QuotaBYOKKeys, "Max BYOK keys per organization", 50, len(byok)},
		{"iam.max_audit_log_api_keys.per_org", "Max Audit Log API Keys Per Organization", 2, auditLogKeys},
		{QuotaCloudAPIKeys, "Max Cloud API Keys Per Organization", 1000, cloudKeys},
		{QuotaEnvironments, "Max Environments Per Organization", 25, len(envs)},
		{"iam.max_identity_providers.per_organization", "Max identity providers per organization", 5, 0},
		{QuotaKafkaClusters, "Max Kafka Clusters Per Organization", 400, len(clusters)},
		{QuotaServiceAccounts, "Max Service Accounts Per Organization", 1000, len(sas)},
		{QuotaUsers, "Max Users Per Organization", 1000, len(users)},
		{"kafka.max_kafka_creation.per_day", "Max Kafka Cluster Provisioning Requests Per Day", 20, 0},
	} {
		add("ORGANIZATION", x, nil)
	}
	owner := func(id, kind string) func(*AppliedQuota) {
		return func(a *AppliedQuota) {
			a.User = &ObjectRef{
				ID: id, Related: "https://api.confluent.cloud/iam/v2/" + kind + "/" + id,
				ResourceName: "crn://confluent.cloud/organization=" + orgID + "/" + strings.TrimSuffix(kind, "s") + "=" + id,
			}
		}
	}
	for _, sa := range sas {
		add("SERVICE_ACCOUNT", q{QuotaCloudKeysPerSA, "Max Cloud API Keys Per Service Account", 100, cloudOf[sa.ID]}, owner(sa.ID, "service-accounts"))
		add("SERVICE_ACCOUNT", q{QuotaClusterKeysPerSA, "Max Cluster API Keys Per Service Account", 100, clusterKeysOf[sa.ID]}, owner(sa.ID, "service-accounts"))
	}
	for _, u := range users {
		add("USER_ACCOUNT", q{QuotaCloudKeysPerUser, "Max Cloud API Keys Per User", 10, cloudOf[u.ID]}, owner(u.ID, "users"))
		add("USER_ACCOUNT", q{QuotaClusterKeysUser, "Max Cluster API Keys Per User", 10, clusterKeysOf[u.ID]}, owner(u.ID, "users"))
	}
	for _, c := range clusters {
		add("KAFKA_CLUSTER", q{QuotaKeysPerCluster, "Max API Keys Per Kafka Cluster", 2000, keysOn[c.ID]}, func(a *AppliedQuota) {
			a.KafkaCluster = &ObjectRef{
				ID: c.ID, Environment: c.Spec.Environment.ID,
				Related:      "https://api.confluent.cloud/cmk/v2/clusters/" + c.ID,
				ResourceName: "crn://confluent.cloud/organization=" + orgID + "/environment=" + c.Spec.Environment.ID + "/cloud-cluster=" + c.ID,
			}
		})
	}
	slices.SortStableFunc(out, func(a, b AppliedQuota) int { return cmpString(a.ID, b.ID) })
	return out
}
