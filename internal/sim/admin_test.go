package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAdminChangesTheOrganisation: the demo's and the tests' switches change
// what the list endpoints answer, and refuse what they cannot do.
func TestAdminChangesTheOrganisation(t *testing.T) {
	s := New(Config{Org: OrgConfig{Seed: 2, BYOKKeys: 12, APIKeys: 40, Quirks: true}, APIKey: "k", APISecret: "s"})
	ts := httptest.NewServer(s)
	defer ts.Close()
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	quota := func(code string) AppliedQuota {
		for _, q := range s.Quotas() {
			if q.ID == code {
				return q
			}
		}
		t.Fatalf("no quota %s", code)
		return AppliedQuota{}
	}

	if got := do(http.MethodPut, "/_sim/quotas/"+QuotaCloudAPIKeys, `{"applied_limit":7}`); got != http.StatusNoContent {
		t.Fatalf("set quota: %d", got)
	}
	if q := quota(QuotaCloudAPIKeys); q.AppliedLimit != 7 {
		t.Errorf("applied limit %d, want 7", q.AppliedLimit)
	}
	for path, body := range map[string]string{"/_sim/quotas/no.such.quota": `{"applied_limit":7}`, "/_sim/quotas/" + QuotaCloudAPIKeys: `{}`} {
		if got := do(http.MethodPut, path, body); got != http.StatusNotFound && got != http.StatusBadRequest {
			t.Errorf("PUT %s %s: %d, want a refusal", path, body, got)
		}
	}

	cluster := s.KafkaClusters()[0]
	clusters := quota(QuotaKafkaClusters).Usage
	if got := do(http.MethodDelete, "/_sim/clusters/"+cluster.ID, ""); got != http.StatusNoContent {
		t.Fatalf("delete cluster: %d", got)
	}
	if len(s.KafkaClusters()) != *clusters-1 || *quota(QuotaKafkaClusters).Usage != *clusters-1 {
		t.Errorf("after deleting %s: %d clusters, usage %d", cluster.ID, len(s.KafkaClusters()), *quota(QuotaKafkaClusters).Usage)
	}
	sa := s.ServiceAccounts()[0]
	if got := do(http.MethodDelete, "/_sim/service-accounts/"+sa.ID, ""); got != http.StatusNoContent {
		t.Fatalf("delete service account: %d", got)
	}
	if got := do(http.MethodDelete, "/_sim/service-accounts/"+sa.ID, ""); got != http.StatusNotFound {
		t.Errorf("deleting it again: %d, want 404", got)
	}

	// Usage follows the lists: a deleted Cloud key frees its place.
	cloud := *quota(QuotaCloudAPIKeys).Usage
	for _, k := range s.APIKeys() {
		if k.Spec.Owner != nil && k.Spec.Resource != nil && k.Spec.Resource.ID == "cloud" {
			s.DeleteAPIKey(k.ID)
			break
		}
	}
	if got := *quota(QuotaCloudAPIKeys).Usage; got != cloud-1 {
		t.Errorf("Cloud key usage %d after a delete, want %d", got, cloud-1)
	}
}

// TestOrganisationDatedFromNow: an organisation generated at a time is dated
// from it, in a realistic spread, the same again for the same seed and time;
// expired keys exist only when asked for and are listed only with
// show_expired=true, as the API does.
func TestOrganisationDatedFromNow(t *testing.T) {
	at := time.Date(2027, 3, 14, 15, 9, 26, 0, time.UTC)
	cfg := OrgConfig{Seed: 7, APIKeys: 2000, Now: at}
	keys := NewAPIKeys(cfg)
	if again := NewAPIKeys(cfg); !slices.EqualFunc(keys, again, func(a, b APIKey) bool { return a.ID == b.ID && a.Metadata.CreatedAt == b.Metadata.CreatedAt }) {
		t.Fatal("the same seed and time gave another organisation")
	}
	var young, due, old, soon, expiring, expired int
	for _, k := range keys {
		created, err := time.Parse(time.RFC3339, k.Metadata.CreatedAt)
		if err != nil || created.After(at) {
			t.Fatalf("key %s created %q, after %s", k.ID, k.Metadata.CreatedAt, at)
		}
		switch age := at.Sub(created); {
		case age < 60*24*time.Hour:
			young++
		case age < 90*24*time.Hour:
			due++
		default:
			old++
		}
		if k.Spec.ExpiresAt != "" {
			expiring++
			switch left := k.expires.Sub(at); {
			case left <= 0:
				expired++
			case left < 14*24*time.Hour:
				soon++
			}
		}
	}
	n := len(keys)
	if young < n*6/10 || due < n/20 || old < n/10 || old > n*3/10 || soon == 0 || soon > n/20 || expiring < n/20 || expired != 0 {
		t.Errorf("%d keys: %d under 60 days, %d 60-90, %d past 90; %d expire, %d within 14 days, %d expired",
			n, young, due, old, expiring, soon, expired)
	}

	cfg.ExpiredKeys = 5
	s := New(Config{Org: cfg, APIKey: "KEY", APISecret: "secret-for-the-test"})
	ts := httptest.NewServer(s)
	defer ts.Close()
	count := func(query string) int {
		total := 0
		next := ts.URL + "/iam/v2/api-keys?page_size=100" + query
		for next != "" {
			req, _ := http.NewRequest(http.MethodGet, next, nil)
			req.SetBasicAuth("KEY", "secret-for-the-test")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Data     []json.RawMessage     `json:"data"`
				Metadata struct{ Next string } `json:"metadata"`
			}
			err = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			total += len(page.Data)
			next = page.Metadata.Next
		}
		return total
	}
	if all, listed := count("&show_expired=true"), count(""); all != n || listed != n-5 {
		t.Errorf("%d keys listed with show_expired=true (want %d), %d without (want %d)", all, n, listed, n-5)
	}
}

// TestOrganizationsAreToldApartByKey: one listener, two organisations, each
// answering its own key with its own data; admin requests name theirs.
func TestOrganizationsAreToldApartByKey(t *testing.T) {
	a := New(Config{Org: OrgConfig{Seed: 1, BYOKKeys: 2, APIKeys: 2, DisplayName: "A"}, APIKey: "A", APISecret: "s"})
	b := New(Config{Org: OrgConfig{Seed: 2, BYOKKeys: 2, APIKeys: 2, DisplayName: "B"}, APIKey: "B", APISecret: "s"})
	ts := httptest.NewServer(Organizations{a, b})
	defer ts.Close()
	for key, want := range map[string]string{"A": `"display_name":"A"`, "B": `"display_name":"B"`} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/org/v2/organizations", nil)
		req.SetBasicAuth(key, "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("key %s: %d %s", key, resp.StatusCode, body)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/byok/v1/keys", nil)
	req.SetBasicAuth("C", "s")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unknown key: %d", resp.StatusCode)
	}
	id := b.BYOKKeys()[0].ID
	resp, err = http.Post(ts.URL+"/_sim/byok/"+id+"/validation?api_key=B", "application/json", strings.NewReader(`{"phase":"INVALID","message":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("admin request: %d", resp.StatusCode)
	}
	if b.BYOKKeys()[0].Validation.Phase != "INVALID" || a.BYOKKeys()[0].Validation.Phase == "INVALID" {
		t.Error("the admin request changed the wrong organisation")
	}
}

// TestListsFollowChanges: what a list answers follows every change at once,
// though the simulator keeps the items it has encoded.
func TestListsFollowChanges(t *testing.T) {
	s := New(Config{Org: OrgConfig{Seed: 3, BYOKKeys: 3, APIKeys: 5}, APIKey: "k", APISecret: "s"})
	ts := httptest.NewServer(s)
	defer ts.Close()
	list := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
		req.SetBasicAuth("k", "s")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !json.Valid(b) {
			t.Fatalf("GET %s: not JSON: %s", path, b)
		}
		return string(b)
	}
	key := s.BYOKKeys()[0].ID
	if strings.Contains(list("/byok/v1/keys?page_size=100"), "Access to key denied.") {
		t.Fatal("a fresh key is already denied")
	}
	s.SetValidation(key, "INVALID", "Access to key denied.", time.Now())
	if !strings.Contains(list("/byok/v1/keys?page_size=100"), "Access to key denied.") {
		t.Error("the list did not follow a validation change")
	}
	apiKey := s.APIKeys()[0].ID
	list("/iam/v2/api-keys?page_size=100")
	s.DeleteAPIKey(apiKey)
	if strings.Contains(list("/iam/v2/api-keys?page_size=100"), `"id":"`+apiKey+`"`) {
		t.Error("a deleted API key is still listed")
	}
	before := list("/service-quota/v1/applied-quotas?scope=organization&page_size=100")
	s.SetQuotaLimit(QuotaCloudAPIKeys, 12345)
	if after := list("/service-quota/v1/applied-quotas?scope=organization&page_size=100"); after == before || !strings.Contains(after, "12345") {
		t.Error("the quota list did not follow a new limit")
	}
}
