package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
