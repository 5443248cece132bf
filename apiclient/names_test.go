package apiclient

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// TestNameListsContents: the lists of names and quotas, read page by page,
// are what the simulator holds, and agree with the keys: every owner of an
// API key exists, every cluster an API key points at is listed in the
// environment the key names, and every IN_USE BYOK key encrypts a cluster.
func TestNameListsContents(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 5, BYOKKeys: 30, APIKeys: 300})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 7 })
	ctx := context.Background()

	sas, st, err := c.ListServiceAccounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantSAs := s.ServiceAccounts()
	if len(sas) != len(wantSAs) || st.Pages != (len(wantSAs)+6)/7 {
		t.Fatalf("%d service accounts in %d pages, want %d", len(sas), st.Pages, len(wantSAs))
	}
	for i, a := range sas {
		w := wantSAs[i]
		if a != (ServiceAccount{ID: w.ID, DisplayName: w.DisplayName, Description: w.Description}) {
			t.Fatalf("service account %d: %+v, want %+v", i, a, w)
		}
	}
	users, _, err := c.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantUsers := s.Users()
	if len(users) != len(wantUsers) || len(users) == 0 {
		t.Fatalf("%d users, want %d", len(users), len(wantUsers))
	}
	for i, u := range users {
		if u != (User{ID: wantUsers[i].ID, FullName: wantUsers[i].FullName}) {
			t.Fatalf("user %d: %+v, want %+v", i, u, wantUsers[i])
		}
	}
	owners := map[string]bool{}
	for _, a := range sas {
		owners[a.ID] = true
	}
	for _, u := range users {
		owners[u.ID] = true
	}

	envs, _, err := c.ListEnvironments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != len(s.Environments()) || envs[0].DisplayName == "" {
		t.Fatalf("environments %+v", envs)
	}
	clusterEnv := map[string]string{}
	byokClusters := map[string]int{}
	simClusters := map[string]sim.KafkaCluster{}
	for _, k := range s.KafkaClusters() {
		simClusters[k.ID] = k
	}
	encryptions := map[string]int{}
	for _, e := range envs {
		clusters, _, err := c.ListKafkaClusters(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range clusters {
			if k.Environment != e.ID || k.DisplayName == "" || k.Cloud == "" || k.Region == "" || k.Availability == "" {
				t.Fatalf("cluster of %s: %+v", e.ID, k)
			}
			clusterEnv[k.ID] = k.Environment
			if k.BYOKKeyID != "" {
				byokClusters[k.BYOKKeyID]++
			}
			w := simClusters[k.ID]
			want := EncryptionConfluent
			if w.Spec.BYOK != nil {
				want = EncryptionBYOK
			} else if w.Spec.Config.EncryptionKey != "" {
				want = EncryptionBYOKLegacy
			}
			if k.Kind != w.Spec.Config.Kind || k.Encryption != want {
				t.Errorf("cluster %s: kind %q, encryption %q; want %q, %q", k.ID, k.Kind, k.Encryption, w.Spec.Config.Kind, want)
			}
			encryptions[k.Encryption]++
		}
	}
	if len(encryptions) != 3 {
		t.Errorf("clusters by encryption %v: the simulator should have each kind", encryptions)
	}
	if len(clusterEnv) != len(s.KafkaClusters()) {
		t.Fatalf("%d clusters over every environment, the simulator has %d", len(clusterEnv), len(s.KafkaClusters()))
	}

	keys, _, err := c.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !owners[k.OwnerID] {
			t.Errorf("API key %s: owner %s is in neither owner list", k.ID, k.OwnerID)
		}
		for _, r := range k.Resources {
			if r.Kind == "Cluster" && strings.HasPrefix(r.ID, "lkc-") && clusterEnv[r.ID] != r.Environment {
				t.Errorf("API key %s: cluster %s in %q, listed in %q", k.ID, r.ID, r.Environment, clusterEnv[r.ID])
			}
		}
	}
	byok, _, err := c.ListBYOKKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range byok {
		if (k.State == "IN_USE") != (byokClusters[k.ID] > 0) {
			t.Errorf("BYOK key %s is %s and encrypts %d clusters", k.ID, k.State, byokClusters[k.ID])
		}
	}

	quotas, _, err := c.ListAppliedQuotas(ctx, ScopeOrganization)
	if err != nil {
		t.Fatal(err)
	}
	usage := map[string]float64{}
	for _, q := range quotas {
		if q.Scope != ScopeOrganization || !q.HasLimit || q.Limit <= 0 {
			t.Errorf("quota %+v", q)
		}
		if q.HasUsage {
			usage[q.Code] = q.Usage
		}
	}
	cloudKeys := 0
	for _, k := range keys {
		if r := k.Resource(); r.Kind == "Cloud" || r.ID == "" {
			cloudKeys++
		}
	}
	// The codes Confluent documents for API keys, service accounts and BYOK
	// keys, with usage equal to the lists.
	for code, want := range map[string]int{
		"iam.max_cloud_api_keys.per_org":   cloudKeys,
		"iam.max_service_accounts.per_org": len(sas),
		"iam.max_users.per_org":            len(users),
		"byok.max_keys.per_org":            len(byok),
		"iam.max_environments.per_org":     len(envs),
		"iam.max_kafka_clusters.per_org":   len(clusterEnv),
	} {
		if got, ok := usage[code]; !ok || got != float64(want) {
			t.Errorf("quota %s: usage %v (reported %v), want %d", code, got, ok, want)
		}
	}
	if !slices.ContainsFunc(quotas, func(q AppliedQuota) bool { return !q.HasUsage }) {
		t.Error("no quota without usage: the API reports usage only for some")
	}
}

// TestQuotasPerOwnerAndCluster: the scopes that stop key creation list one
// item per service account, user or cluster, all with the same code: each
// is read (none collapsed by its id), named by resource_id, with the keys
// it counts as usage (none reported for 0); the scope in lower case, as
// Confluent's CLI sends it, reads the same.
func TestQuotasPerOwnerAndCluster(t *testing.T) {
	// 60 BYOK keys: more clusters than the API keys point at.
	s, ts := newSim(t, sim.OrgConfig{Seed: 5, BYOKKeys: 60, APIKeys: 300})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 50 })
	ctx := context.Background()
	keys, _, err := c.ListAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cloudOf, clusterOf, onCluster := map[string]float64{}, map[string]float64{}, map[string]float64{}
	for _, k := range keys {
		if r := k.Resource(); r.ID == "" || r.ID == "cloud" {
			cloudOf[k.OwnerID]++
			continue
		}
		for _, r := range k.Resources {
			if strings.HasPrefix(r.ID, "lkc-") {
				clusterOf[k.OwnerID]++
				onCluster[r.ID]++
			}
		}
	}
	for _, tc := range []struct {
		scope    string
		code     string
		items    int
		usage    map[string]float64
		prefixes string
	}{
		{"service_account", "iam.max_cloud_api_keys.per_service_account", len(s.ServiceAccounts()), cloudOf, "sa-"},
		{"SERVICE_ACCOUNT", "iam.max_cluster_api_keys.per_service_account", len(s.ServiceAccounts()), clusterOf, "sa-"},
		{"user_account", "iam.max_cloud_api_keys.per_user", len(s.Users()), cloudOf, "u-"},
		{"kafka_cluster", "kafka.max_api_keys.per_cluster", len(s.KafkaClusters()), onCluster, "lkc-"},
	} {
		quotas, _, err := c.ListAppliedQuotas(ctx, tc.scope)
		if err != nil {
			t.Fatal(err)
		}
		n, zeros := 0, 0
		for _, q := range quotas {
			if q.Code != tc.code {
				continue
			}
			n++
			if q.Scope != strings.ToUpper(tc.scope) || !strings.HasPrefix(q.ResourceID, tc.prefixes) || !q.HasLimit {
				t.Errorf("%s: %+v", tc.scope, q)
			}
			if want := tc.usage[q.ResourceID]; q.HasUsage != (want > 0) || q.Usage != want {
				t.Errorf("%s %s of %s: usage %v (reported %v), want %v", tc.scope, q.Code, q.ResourceID, q.Usage, q.HasUsage, want)
			}
			if !q.HasUsage {
				zeros++
			}
		}
		if n != tc.items || zeros == 0 {
			t.Errorf("%s %s: %d items (%d without usage), want %d, some without usage", tc.scope, tc.code, n, zeros, tc.items)
		}
	}
}

// TestRequiredParameters: the cluster and quota lists send the parameter
// the API requires with every page, and page through with it.
func TestRequiredParameters(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 30, APIKeys: 40})
	c := newClient(t, ts.URL, func(c *Config) { c.PageSize = 2 })
	if _, st, err := c.ListKafkaClusters(context.Background(), "env-001"); err != nil || st.Pages < 2 {
		t.Fatalf("clusters: %d pages, %v", st.Pages, err)
	}
	if _, st, err := c.ListAppliedQuotas(context.Background(), ScopeOrganization); err != nil || st.Pages < 2 {
		t.Fatalf("quotas: %d pages, %v", st.Pages, err)
	}
	for _, r := range s.Requests() {
		q, _ := url.ParseQuery(r.Query)
		if r.Endpoint == EndpointKafkaClusters && q.Get("environment") != "env-001" ||
			r.Endpoint == EndpointAppliedQuotas && q.Get("scope") != ScopeOrganization {
			t.Errorf("%s requested with %s", r.Endpoint, r.Query)
		}
	}
}

// TestOddNameItems: items of every odd shape in the lists of names and
// quotas never fail a list; they are skipped or left with what they have,
// and counted.
func TestOddNameItems(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3, APIKeys: 8})
	c := newClient(t, ts.URL)
	ctx := context.Background()
	for _, tc := range []struct {
		endpoint string
		list     func() (int, ListStats, error)
		invalid  []string
	}{
		{EndpointServiceAccounts, func() (int, ListStats, error) { l, st, err := c.ListServiceAccounts(ctx); return len(l), st, err }, []string{"display_name", "description"}},
		{EndpointUsers, func() (int, ListStats, error) { l, st, err := c.ListUsers(ctx); return len(l), st, err }, []string{"full_name"}},
		{EndpointEnvironments, func() (int, ListStats, error) { l, st, err := c.ListEnvironments(ctx); return len(l), st, err }, []string{"display_name"}},
		{EndpointKafkaClusters, func() (int, ListStats, error) {
			l, st, err := c.ListKafkaClusters(ctx, "env-000")
			return len(l), st, err
		}, []string{"spec", "spec.environment", "spec.byok.id"}},
		{EndpointAppliedQuotas, func() (int, ListStats, error) {
			l, st, err := c.ListAppliedQuotas(ctx, ScopeOrganization)
			return len(l), st, err
		}, []string{"applied_limit", "usage"}},
	} {
		t.Run(tc.endpoint, func(t *testing.T) {
			s.SetFaults(sim.Faults{})
			clean, _, err := tc.list()
			if err != nil {
				t.Fatal(err)
			}
			s.SetFaults(sim.Faults{Endpoint: tc.endpoint, Body: "odd-items"})
			n, st, err := tc.list()
			if err != nil {
				t.Fatalf("odd items failed the list: %v", err)
			}
			// Three items without a usable id, the others exported.
			if st.Skipped[SkipNoID].Count != 3 || n <= clean {
				t.Errorf("%d items (%d without the odd ones), skipped %+v", n, clean, st.Skipped)
			}
			for _, field := range tc.invalid {
				if st.Invalid[field].Count == 0 {
					t.Errorf("%s not counted as invalid: %+v", field, st.Invalid)
				}
			}
		})
	}
}

// TestClusterWithoutEnvironment: a cluster whose spec names no readable
// environment is given the one its list was asked for; the others keep theirs.
func TestClusterWithoutEnvironment(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 3, APIKeys: 8})
	c := newClient(t, ts.URL)
	s.SetFaults(sim.Faults{Endpoint: EndpointKafkaClusters, Body: "odd-items"})
	clusters, _, err := c.ListKafkaClusters(context.Background(), "env-003")
	if err != nil {
		t.Fatal(err)
	}
	envs := map[string]string{}
	for _, k := range clusters {
		envs[k.ID] = k.Environment
	}
	// lkc-odd02 sends "environment" as a string, not an object.
	if envs["lkc-odd02"] != "env-003" || envs["lkc-odd01"] != "env-003" {
		t.Errorf("clusters without a readable environment: %v", envs)
	}
	for _, want := range s.KafkaClusters() {
		if got, listed := envs[want.ID]; listed && got != want.Spec.Environment.ID {
			t.Errorf("cluster %s in %s, the simulator says %s", want.ID, got, want.Spec.Environment.ID)
		}
	}
}
