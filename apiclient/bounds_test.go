package apiclient

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/sim"
)

// serveEvery answers every request with body.
func serveEvery(t *testing.T, body func(r *http.Request) string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, body(r))
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// TestArraysCountTowardMaxItems: the arrays that become series count with
// the items: an authority of 3,000 certificates, a key of 300 resources, a
// BYOK key of 300 roles fail a list capped at 1,000, as 1,001 items do;
// under the cap they are read.
func TestArraysCountTowardMaxItems(t *testing.T) {
	certs := func(n int) string {
		var serials, prints, dates []string
		for i := range n {
			serials = append(serials, fmt.Sprintf(`"S%d"`, i))
			prints = append(prints, fmt.Sprintf(`"F%d"`, i))
			dates = append(dates, `"2030-01-01T00:00:00Z"`)
		}
		return fmt.Sprintf(`{"id":"op-1","serial_numbers":[%s],"fingerprints":[%s],"expiration_dates":[%s]}`,
			strings.Join(serials, ","), strings.Join(prints, ","), strings.Join(dates, ","))
	}
	resources := func(n int) string {
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf(`{"id":"lkc-%d","kind":"Cluster"}`, i))
		}
		return `{"id":"K1","spec":{"owner":{"id":"sa-1","kind":"ServiceAccount"},"resources":[` + strings.Join(rs, ",") + `]}}`
	}
	roles := func(n int) string {
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf(`"arn:aws:iam::1:role/r%d"`, i))
		}
		return `{"id":"cck-1","provider":"AWS","state":"IN_USE","validation":{"phase":"VALID"},"key":{"kind":"AwsKey","key_arn":"arn","roles":[` + strings.Join(rs, ",") + `]}}`
	}
	for _, c := range []struct {
		name       string
		item       func(int) string
		list       func(*Client) error
		over, fits int
	}{
		{"certificates", certs, func(c *Client) error { _, _, err := c.ListCertificateAuthorities(context.Background()); return err }, 3000, 900},
		{"resources", resources, func(c *Client) error { _, _, err := c.ListAPIKeys(context.Background()); return err }, 1000, 900},
		{"roles", roles, func(c *Client) error { _, _, err := c.ListBYOKKeys(context.Background()); return err }, 1000, 900},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := c.over
			url := serveEvery(t, func(*http.Request) string { return `{"data":[` + c.item(n) + `],"metadata":{}}` })
			cl := newClient(t, url, func(cfg *Config) { cfg.MaxItems = 1000 })
			if err := c.list(cl); ReasonOf(err) != ReasonPagination || !strings.Contains(err.Error(), "more than 1000 items and entries of their arrays") {
				t.Errorf("%d %s: %v, want pagination naming the cap", n, c.name, err)
			}
			n = c.fits
			if err := c.list(cl); err != nil {
				t.Errorf("%d %s, under the cap: %v", n, c.name, err)
			}
		})
	}
}

// TestLabelValuesAreBounded: a text over 1,024 bytes is cut on a UTF-8
// boundary with an ellipsis, and counted; a reference over it is left out,
// and counted; an item whose own id is over it is skipped (long_id).
func TestLabelValuesAreBounded(t *testing.T) {
	long := strings.Repeat("é", 600) // 1,200 bytes, two per rune
	longID := strings.Repeat("K", MaxLabelValue+1)
	url := serveEvery(t, func(*http.Request) string {
		return `{"data":[` +
			`{"id":"K1","spec":{"display_name":"` + strings.Repeat("x", 100<<10) + `","description":"` + long + `",` +
			`"owner":{"id":"sa-1","kind":"ServiceAccount"},"resource":{"id":"` + longID + `","kind":"Cluster","environment":"env-1"}}},` +
			`{"id":"` + longID + `","spec":{"owner":{"id":"sa-1"}}},` +
			`{"id":"K2","spec":{"description":"` + strings.Repeat("d", 1<<20) + `","owner":{"id":"` + longID + `"}}}` +
			`],"metadata":{}}`
	})
	keys, st, err := newClient(t, url).ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || st.Skipped[SkipLongID].Count != 1 {
		t.Fatalf("%d keys, %d skipped for a long id; want 2 and 1", len(keys), st.Skipped[SkipLongID].Count)
	}
	k1, k2 := keys[0], keys[1]
	for _, v := range []string{k1.DisplayName, k1.Description, k2.Description} {
		if len(v) > MaxLabelValue || !utf8.ValidString(v) || !strings.HasSuffix(v, "\u2026") {
			t.Errorf("a value of %d bytes (valid UTF-8 %v), want at most %d ending in an ellipsis", len(v), utf8.ValidString(v), MaxLabelValue)
		}
	}
	if len(k1.Description) < MaxLabelValue-4 {
		t.Errorf("cut to %d bytes: more than the last rune and the ellipsis went", len(k1.Description))
	}
	if len(k1.Resources) != 0 || k2.OwnerID != "" {
		t.Errorf("a reference over the bound was kept (cut?): resources %v, owner %q", k1.Resources, k2.OwnerID)
	}
	for field, want := range map[string]int{"spec.display_name": 1, "spec.description": 2, "spec.resource.id": 1, "spec.owner.id": 1} {
		if got := st.Invalid[field].Count; got != want {
			t.Errorf("invalid %s counted %d, want %d", field, got, want)
		}
	}
}

// TestWhatConfluentSends: shapes Confluent's own sources show, read as
// they are: a Global key's resource of api_version global/v1 and plain
// resource names (cloud, global, tableflow); a flink-region= CRN; keys
// whose resources mix Kafka clusters and Schema Registry; a certificate
// authority's require_crl_on_client_certificate.
func TestWhatConfluentSends(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 11, APIKeys: 400, Quirks: true})
	c := newClient(t, ts.URL)
	keys, st, err := c.ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]APIKey{}
	for _, k := range keys {
		byID[k.ID] = k
	}
	var global, flink, mixed int
	for _, k := range s.APIKeys() {
		got, ok := byID[k.ID]
		if !ok || k.Spec.Resource == nil {
			continue
		}
		switch r := k.Spec.Resource; {
		case r.APIVersion == "global/v1":
			global++
			if got.Resource().Kind != "Global" || got.Resource().Environment != "" {
				t.Errorf("%s: a Global key read as %+v", k.ID, got.Resource())
			}
		case strings.Contains(r.ResourceName, "/flink-region="):
			flink++
			if got.Resource().Environment != r.Environment && r.Environment != "" || got.Resource().Environment == "" {
				t.Errorf("%s: the environment of a Flink region's CRN %q read as %q", k.ID, r.ResourceName, got.Resource().Environment)
			}
		}
		kinds := map[string]bool{}
		for _, r := range got.Resources {
			kinds[r.Kind] = true
		}
		if kinds["Cluster"] && kinds["SchemaRegistry"] {
			mixed++
		}
	}
	if global == 0 || flink == 0 || mixed == 0 {
		t.Errorf("the simulator sent %d Global keys, %d Flink keys with a flink-region CRN, %d keys on clusters and Schema Registry", global, flink, mixed)
	}
	if len(st.Invalid) != 0 && st.Invalid["spec.resource.resource_name"].Count > 0 {
		t.Errorf("plain resource names counted as unreadable: %v", st.Invalid)
	}
	cas, _, err := c.ListCertificateAuthorities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range cas {
		got[a.ID] = a.RequireCRL
	}
	if want := map[string]string{"op-ca01": "true", "op-ca02": "", "op-ca03": "true", "op-ca04": "false"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("require_crl_on_client_certificate %v, want %v", got, want)
	}
}

// TestEmptyRateLimitAnswer: a 429 with its headers and no body is a rate
// limit, waited for, and the list read.
func TestEmptyRateLimitAnswer(t *testing.T) {
	s, ts := newSim(t, sim.OrgConfig{Seed: 1, BYOKKeys: 30})
	s.SetFaults(sim.Faults{Status: 429, RetryAfter: 1, ErrorShape: "empty", Count: 1})
	keys, _, err := newClient(t, ts.URL).ListBYOKKeys(context.Background())
	if err != nil || len(keys) != 30 {
		t.Fatalf("%d keys, %v: want the list read after the wait", len(keys), err)
	}
	if n := len(s.Requests()); n < 2 {
		t.Errorf("%d requests: the 429 was not retried", n)
	}
}
