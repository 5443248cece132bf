// Package sim is a simulated Confluent Cloud: the list endpoints the
// exporter reads (keys, and the names behind their ids: names.go), answered as Confluent's OpenAPI descriptions
// (testdata/openapi) say, over a seeded organisation, with switches for the
// faults and quirks of the real API. Tests, the demo and the benchmarks use it.
package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// BaseTime is the simulated "now" of an OrgConfig that names none: the tests'
// organisations are counted back from it, so that a seed always gives the
// same organisation. The demo's simulator counts from the time it starts.
var BaseTime = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// OrgConfig says what organisation to generate.
type OrgConfig struct {
	Seed     uint64
	BYOKKeys int
	APIKeys  int
	// Now is the time the organisation is generated at (zero: BaseTime).
	// Keys are created before it, in a realistic spread: most young, some
	// near the 90-day rotation threshold and some past it; some expire, a
	// few within 14 days. The same seed and Now give the same organisation.
	Now time.Time
	// ExpiredKeys API keys have already expired at Now. The API hides them
	// unless asked (show_expired=true); so does the simulator.
	ExpiredKeys int
	// Quirks adds what the real API does beyond its OpenAPI description
	// (upstream-api notes): ownerless internal API keys, null resources,
	// Schema Registry keys reported as kind Cluster, null validation.since.
	Quirks bool
	// ID and DisplayName are what GET /org/v2/organizations says of the
	// organisation ("": a fixed UUID, "Simulated Org").
	ID, DisplayName string
	// Owners is how many owners (every fifth a user, the rest service
	// accounts) the API keys are spread over; 0: one per eight keys.
	Owners int
	// MinKeyAge makes every API key at least this old, the usual spread
	// of ages added to it: an organisation that never rotated.
	MinKeyAge time.Duration
	// AuditLog gives the organisation its audit log as Confluent keeps it:
	// a Kafka cluster in an environment of its own that the environments
	// list does not show, owned by the audit-log service account that the
	// service-accounts list does not show, and one API key of that account
	// on that cluster (one more than APIKeys).
	AuditLog bool
}

// DefaultOrg is a realistic organisation for the demo and the end-to-end tests.
var DefaultOrg = OrgConfig{Seed: 1, BYOKKeys: 36, APIKeys: 2500, Quirks: true, AuditLog: true}

// AuditLogCluster is where an organisation's audit log is (OrgConfig.AuditLog).
type AuditLogCluster struct {
	ClusterID      string // its Kafka cluster
	Environment    string // the environment it sits in, not in the environments list
	ServiceAccount string // the audit-log service account, not in the service-accounts list
	KeyID          string // the API key of that account on that cluster
}

// auditLog is cfg's audit log, the zero value without one.
func (cfg OrgConfig) auditLog() AuditLogCluster {
	if !cfg.AuditLog {
		return AuditLogCluster{}
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0xa0d17))
	return AuditLogCluster{ClusterID: "lkc-a0d17", Environment: "env-a0d17", ServiceAccount: "sa-a0d17", KeyID: apiKeyID(r)}
}

// now is the time cfg is generated at.
func (cfg OrgConfig) now() time.Time {
	if cfg.Now.IsZero() {
		return BaseTime
	}
	return cfg.Now.UTC()
}

// BYOKKey is one BYOK key as the API sends it.
type BYOKKey struct {
	APIVersion  string         `json:"api_version"`
	Kind        string         `json:"kind"`
	ID          string         `json:"id"`
	Metadata    ObjectMeta     `json:"metadata"`
	Key         CloudKey       `json:"key"`
	DisplayName string         `json:"display_name,omitempty"`
	Provider    string         `json:"provider"`
	State       string         `json:"state"`
	Validation  BYOKValidation `json:"validation"`
}

// CloudKey is the oneOf AwsKey / AzureKey / GcpKey.
type CloudKey struct {
	Kind          string   `json:"kind"`
	KeyARN        string   `json:"key_arn,omitempty"`
	Roles         []string `json:"roles,omitempty"`
	KeyID         string   `json:"key_id,omitempty"`
	KeyVaultID    string   `json:"key_vault_id,omitempty"`
	TenantID      string   `json:"tenant_id,omitempty"`
	ApplicationID string   `json:"application_id,omitempty"`
	SecurityGroup string   `json:"security_group,omitempty"`
}

// BYOKValidation is a key's validation status. Since is a pointer: the real
// API sends null for some keys still INITIALIZING.
type BYOKValidation struct {
	Phase   string  `json:"phase"`
	Message string  `json:"message,omitempty"`
	Since   *string `json:"since"`
	Region  string  `json:"region,omitempty"`
}

// ObjectMeta is the metadata every resource has. Self and ResourceName are
// filled in per response (they name the server's own URL).
type ObjectMeta struct {
	Self         string `json:"self"`
	ResourceName string `json:"resource_name,omitempty"`
	CreatedAt    string `json:"created_at,omitempty"`
	UpdatedAt    string `json:"updated_at,omitempty"`
}

// APIKey is one IAM API key as the API lists it (never with its secret).
type APIKey struct {
	APIVersion string     `json:"api_version"`
	Kind       string     `json:"kind"`
	ID         string     `json:"id"`
	Metadata   ObjectMeta `json:"metadata"`
	Spec       APIKeySpec `json:"spec"`

	expires time.Time // the end of the Spec.ExpiresAt day; zero when it has none
}

// APIKeySpec is an API key's spec. Owner is nil for Confluent-internal keys;
// Resource is nil for keys not tied to a resource. A key that opens several
// resources lists them all in Resources, the first also in Resource.
type APIKeySpec struct {
	DisplayName string       `json:"display_name"`
	Description string       `json:"description"`
	Owner       *ObjectRef   `json:"owner,omitempty"`
	Resource    *ObjectRef   `json:"resource"`
	Resources   []*ObjectRef `json:"resources,omitempty"`
	ExpiresAt   string       `json:"expires_at,omitempty"`
	// CreatedBy is in newer versions of the API than the OpenAPI file's:
	// sent with Quirks only.
	CreatedBy string `json:"created_by,omitempty"`
}

// ObjectRef refers to an owner or a resource.
type ObjectRef struct {
	ID           string `json:"id"`
	Environment  string `json:"environment,omitempty"`
	Related      string `json:"related"`
	ResourceName string `json:"resource_name"`
	APIVersion   string `json:"api_version,omitempty"`
	Kind         string `json:"kind,omitempty"`
}

const orgID = "9bb441c4-edef-46ac-8a41-c49e44a3fd9a"

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// NewBYOKKeys generates n BYOK keys spread over the three providers, both
// states and the three validation phases, sorted by id.
func NewBYOKKeys(cfg OrgConfig) []BYOKKey {
	r := rand.New(rand.NewPCG(cfg.Seed, 0xb10c))
	regions := map[string][]string{
		"AWS":   {"us-east-1", "us-west-2", "eu-central-1"},
		"Azure": {"eastus", "westeurope"},
		"GCP":   {"us-central1", "europe-west1"},
	}
	now := cfg.now()
	keys := make([]BYOKKey, 0, cfg.BYOKKeys)
	for i := range cfg.BYOKKeys {
		provider := []string{"AWS", "Azure", "GCP"}[i%3]
		region := regions[provider][r.IntN(len(regions[provider]))]
		created := now.Add(-time.Duration(r.IntN(700*24)+24) * time.Hour)
		since := created.Add(time.Duration(r.IntN(24*30)) * time.Hour)
		if since.After(now) {
			since = now.Add(-time.Hour)
		}
		id := fmt.Sprintf("cck-%05x", r.IntN(1<<20))
		for slices.ContainsFunc(keys, func(k BYOKKey) bool { return k.ID == id }) {
			id = fmt.Sprintf("cck-%05x", r.IntN(1<<20))
		}
		k := BYOKKey{
			APIVersion:  "byok/v1",
			Kind:        "Key",
			ID:          id,
			DisplayName: fmt.Sprintf("%s key %d", provider, i),
			Provider:    provider,
			State:       "IN_USE",
			Metadata:    ObjectMeta{CreatedAt: ts(created), UpdatedAt: ts(since)},
			Validation:  BYOKValidation{Phase: "VALID", Region: region},
		}
		if i%9 == 4 || i%22 == 18 { // 18 is also INVALID: a broken key not in use yet
			k.State = "AVAILABLE"
		}
		switch i % 11 {
		case 7:
			k.Validation.Phase = "INVALID"
			k.Validation.Message = "Access to key denied."
		case 10:
			k.State = "AVAILABLE"
			k.Validation.Phase = "INITIALIZING"
			k.Validation.Region = ""
		}
		s := ts(since)
		k.Validation.Since = &s
		if cfg.Quirks && k.Validation.Phase == "INITIALIZING" && i%22 == 10 {
			k.Validation.Since = nil
		}
		switch provider {
		case "AWS":
			k.Key = CloudKey{
				Kind:   "AwsKey",
				KeyARN: fmt.Sprintf("arn:aws:kms:%s:111122223333:key/%08x-12ab-34cd-56ef-%012x", region, r.Uint32(), r.Uint64()&0xffffffffffff),
				Roles:  []string{"arn:aws:iam::123456789876:role/cc-kafka-" + id},
			}
		case "Azure":
			k.Key = CloudKey{
				Kind:          "AzureKey",
				KeyID:         fmt.Sprintf("https://vault-%d.vault.azure.net/keys/key-%d", i, i),
				KeyVaultID:    fmt.Sprintf("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/vault-%d", i),
				TenantID:      "00000000-0000-0000-0000-000000000000",
				ApplicationID: "11111111-1111-1111-1111-111111111111",
			}
		case "GCP":
			k.Key = CloudKey{
				Kind:          "GcpKey",
				KeyID:         fmt.Sprintf("projects/example/locations/%s/keyRings/ring/cryptoKeys/key-%d", region, i),
				SecurityGroup: fmt.Sprintf("byok-%d@example.com", i),
			}
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b BYOKKey) int { return cmpString(a.ID, b.ID) })
	return keys
}

// NewAPIKeys generates n API keys over users and service accounts and every
// resource kind the notes list, sorted by id.
func NewAPIKeys(cfg OrgConfig) []APIKey {
	r := rand.New(rand.NewPCG(cfg.Seed, 0xa91))
	// Multi-resource keys, created_by and the like draw from their own
	// stream, so that the rest of a seed's organisation stays as it was.
	more := rand.New(rand.NewPCG(cfg.Seed, 0x24))
	now := cfg.now()
	expired := 0
	owners := numOwners(cfg)
	keys := make([]APIKey, 0, cfg.APIKeys)
	seen := make(map[string]struct{}, cfg.APIKeys)
	for i := 0; len(keys) < cfg.APIKeys; i++ {
		id := apiKeyID(r)
		if _, dup := seen[id]; dup {
			continue
		}
		seen[id] = struct{}{}
		created := now.Add(-cfg.MinKeyAge - keyAge(r))
		k := APIKey{
			APIVersion: "iam/v2",
			Kind:       "ApiKey",
			ID:         id,
			Metadata:   ObjectMeta{CreatedAt: ts(created), UpdatedAt: ts(created)},
			Spec: APIKeySpec{
				DisplayName: fmt.Sprintf("key-%d", i),
				Description: fmt.Sprintf("simulated key %d", i),
			},
		}
		if i%3 == 0 {
			// Made with `confluent api-key create`: its only text flag is
			// --description, so display_name stays empty.
			k.Spec.DisplayName = ""
		}
		o := r.IntN(owners)
		if o%5 == 0 {
			k.Spec.Owner = &ObjectRef{
				ID: fmt.Sprintf("u-%05d", o), Kind: "User", APIVersion: "iam/v2",
				Related:      fmt.Sprintf("https://api.confluent.cloud/iam/v2/users/u-%05d", o),
				ResourceName: fmt.Sprintf("crn://confluent.cloud/organization=%s/user=u-%05d", orgID, o),
			}
		} else {
			k.Spec.Owner = &ObjectRef{
				ID: fmt.Sprintf("sa-%05d", o), Kind: "ServiceAccount", APIVersion: "iam/v2",
				Related:      fmt.Sprintf("https://api.confluent.cloud/iam/v2/service-accounts/sa-%05d", o),
				ResourceName: fmt.Sprintf("crn://confluent.cloud/organization=%s/service-account=sa-%05d", orgID, o),
			}
		}
		env := envID(r.IntN(numEnvironments))
		switch n := r.IntN(100); {
		case n < 55:
			c := r.IntN(numClusters)
			k.Spec.Resource = resource(clusterID(c), clusterEnv(c), "Cluster", "cmk/v2", "cloud-cluster")
			if more.IntN(12) == 0 {
				// A key on two or three clusters of one environment
				// (spec.resources; the first is also spec.resource), one
				// in three of them also on the environment's Schema
				// Registry.
				k.Spec.Resources = []*ObjectRef{k.Spec.Resource}
				for _, d := range []int{6, 12}[:1+more.IntN(2)] {
					other := c + d
					if other >= numClusters {
						other = c - d
					}
					k.Spec.Resources = append(k.Spec.Resources, resource(clusterID(other), clusterEnv(other), "Cluster", "cmk/v2", "cloud-cluster"))
				}
				if more.IntN(3) == 0 {
					env := clusterEnv(c)
					k.Spec.Resources = append(k.Spec.Resources, resource(fmt.Sprintf("lsrc-%04d", c%numEnvironments), env, "SchemaRegistry", "srcm/v3", "schema-registry"))
				}
			}
		case n < 72:
			kind := "SchemaRegistry"
			if cfg.Quirks && n < 60 {
				kind = "Cluster" // the API sometimes says Cluster for Schema Registry keys
			}
			sr := r.IntN(numEnvironments) // one Schema Registry per environment
			k.Spec.Resource = resource(fmt.Sprintf("lsrc-%04d", sr), envID(sr), kind, "srcm/v3", "schema-registry")
		case n < 78:
			q := r.IntN(8)
			k.Spec.Resource = resource(fmt.Sprintf("lksqlc-%04d", q), envID(q%numEnvironments), "ksqlDB", "ksqldbcm/v2", "ksql")
		case n < 84:
			// Flink keys: a region; older API versions prefixed the environment.
			id := []string{"aws.us-east-1", "gcp.europe-west1"}[n%2]
			if cfg.Quirks && n < 81 {
				id = env + "." + id
			}
			k.Spec.Resource = resource(id, env, "Region", "fcpm/v2", "flink-region")
		case n < 86:
			k.Spec.Resource = orgResource("tableflow", "Tableflow", "tableflow/v1")
		case n < 88:
			k.Spec.Resource = orgResource("global", "Global", "global/v1")
		case n < 96 || !cfg.Quirks:
			k.Spec.Resource = orgResource("cloud", "Cloud", "iam/v2")
		default:
			k.Spec.Resource = nil // Cloud API keys sometimes come back with a null resource
		}
		switch e := r.IntN(100); {
		case e < 2: // expires within 14 days (after today)
			k.Spec.ExpiresAt = now.AddDate(0, 0, 1+r.IntN(13)).Format(time.DateOnly)
		case e < 10:
			k.Spec.ExpiresAt = now.AddDate(0, 0, 15+r.IntN(350)).Format(time.DateOnly)
		}
		if expired < cfg.ExpiredKeys && k.Spec.ExpiresAt != "" {
			k.Spec.ExpiresAt = now.AddDate(0, 0, -1-r.IntN(30)).Format(time.DateOnly)
			expired++
		}
		if day, err := time.Parse(time.DateOnly, k.Spec.ExpiresAt); err == nil {
			k.expires = day.Add(24 * time.Hour)
		}
		if k.Spec.Resource != nil && k.Spec.Resource.Environment != "" && more.IntN(4) == 0 {
			// The environment is optional: the spec's own list example and
			// Terraform's fixtures leave it out. Only the CRN names it then.
			for _, res := range append([]*ObjectRef{k.Spec.Resource}, k.Spec.Resources...) {
				res.Environment = ""
			}
		}
		if cfg.Quirks {
			k.Spec.CreatedBy = "u-00000" // an administrator made most keys
			if k.Spec.Owner.Kind == "User" && more.IntN(2) == 0 {
				k.Spec.CreatedBy = k.Spec.Owner.ID // a user made their own
			}
		}
		if cfg.Quirks && i%500 == 250 {
			k.Spec.Owner = nil // a Confluent-internal key (health checks)
			k.Spec.DisplayName = "internal"
		}
		keys = append(keys, k)
	}
	if a := cfg.auditLog(); a.KeyID != "" {
		created := now.AddDate(0, 0, -200)
		res := resource(a.ClusterID, a.Environment, "Cluster", "cmk/v2", "cloud-cluster")
		keys = append(keys, APIKey{
			APIVersion: "iam/v2", Kind: "ApiKey", ID: a.KeyID,
			Metadata: ObjectMeta{CreatedAt: ts(created), UpdatedAt: ts(created)},
			Spec: APIKeySpec{
				Description: "Audit log key",
				Owner: &ObjectRef{
					ID: a.ServiceAccount, Kind: "ServiceAccount", APIVersion: "iam/v2",
					Related:      "https://api.confluent.cloud/iam/v2/service-accounts/" + a.ServiceAccount,
					ResourceName: fmt.Sprintf("crn://confluent.cloud/organization=%s/service-account=%s", orgID, a.ServiceAccount),
				},
				Resource: res,
			},
		})
	}
	slices.SortFunc(keys, func(a, b APIKey) int { return cmpString(a.ID, b.ID) })
	return keys
}

// keyAge is how old a generated API key is: seven in ten under 60 days,
// one in ten between 60 and 90 (soon due), two in ten past the 90-day
// rotation threshold (up to two years).
func keyAge(r *rand.Rand) time.Duration {
	day := 24 * time.Hour
	switch n := r.IntN(10); {
	case n < 7:
		return time.Hour + time.Duration(r.Int64N(int64(60*day)))
	case n < 8:
		return 60*day + time.Duration(r.Int64N(int64(30*day)))
	default:
		return 90*day + time.Duration(r.Int64N(int64(640*day)))
	}
}

func resource(id, env, kind, apiVersion, crnKind string) *ObjectRef {
	return &ObjectRef{
		ID: id, Environment: env, Kind: kind, APIVersion: apiVersion,
		Related:      fmt.Sprintf("https://api.confluent.cloud/%s/%s", apiVersion, id),
		ResourceName: fmt.Sprintf("crn://confluent.cloud/organization=%s/environment=%s/%s=%s", orgID, env, crnKind, id),
	}
}

// orgResource is a resource of the whole organisation: Cloud, Global and
// Tableflow keys have no environment, and their resource_name is the plain
// id (cloud, global, tableflow), no CRN, as Confluent's CLI and Terraform
// provider show them.
func orgResource(id, kind, apiVersion string) *ObjectRef {
	return &ObjectRef{
		ID: id, Kind: kind, APIVersion: apiVersion,
		Related:      fmt.Sprintf("https://api.confluent.cloud/%s/%s", apiVersion, id),
		ResourceName: id,
	}
}

func apiKeyID(r *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, 16)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
