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
		}
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
		if k.ResourceKind == "Cluster" && strings.HasPrefix(k.ResourceID, "lkc-") && clusterEnv[k.ResourceID] != k.Environment {
			t.Errorf("API key %s: cluster %s in %q, listed in %q", k.ID, k.ResourceID, k.Environment, clusterEnv[k.ResourceID])
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
		if k.ResourceKind == "Cloud" || k.ResourceID == "" {
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
