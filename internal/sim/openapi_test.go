package sim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// loadRouter loads one of Confluent's OpenAPI files (testdata/openapi, see
// SOURCES.md there) with the test server as its only server.
func loadRouter(t *testing.T, file, serverURL string) routers.Router {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile("../../testdata/openapi/" + file)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: serverURL}}
	// A property the simulator sends that the spec does not name is a
	// mistake of the simulator (a misspelt field), not leniency: every
	// object of the spec is closed.
	closeObjects(doc)
	r, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// closeObjects sets additionalProperties false on every schema of doc that
// lists properties and says nothing of others, but for the parts of an
// allOf (each names only some of the properties).
func closeObjects(doc *openapi3.T) {
	var all []*openapi3.Schema
	parts := map[*openapi3.Schema]bool{}
	seen := map[*openapi3.Schema]bool{}
	var walk func(s *openapi3.Schema)
	walk = func(s *openapi3.Schema) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		all = append(all, s)
		for _, p := range s.Properties {
			walk(p.Value)
		}
		for _, r := range s.AllOf {
			parts[r.Value] = true
			walk(r.Value)
		}
		for _, list := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
			for _, r := range list {
				walk(r.Value)
			}
		}
		if s.Items != nil {
			walk(s.Items.Value)
		}
	}
	for _, ref := range doc.Components.Schemas {
		walk(ref.Value)
	}
	closed := false
	for _, s := range all {
		if !parts[s] && len(s.Properties) > 0 && s.AdditionalProperties.Has == nil && s.AdditionalProperties.Schema == nil {
			s.AdditionalProperties.Has = &closed
		}
	}
}

// TestResponsesMatchOpenAPI sends the requests the exporter sends, and the
// ones that fail, and validates every request and response against the spec.
func TestResponsesMatchOpenAPI(t *testing.T) {
	// Quirks off: two of them (null validation.since, keys without owner)
	// are what the real API does against its own description.
	s := New(Config{Org: OrgConfig{Seed: 9, BYOKKeys: 40, APIKeys: 250}, APIKey: "k", APISecret: "s"})
	ts := httptest.NewServer(s)
	defer ts.Close()
	specs := map[string]string{
		"byok-v1.openapi.yaml":                        "",
		"iam-v2.openapi.yaml":                         "",
		"iam-v2-users-service-accounts.openapi.yaml":  "",
		"org-v2.openapi.yaml":                         "",
		"cmk-v2.openapi.yaml":                         "",
		"service-quota-v1.openapi.yaml":               "",
		"iam-v2-certificate-authorities.openapi.yaml": "",
		"iam-v2-identity-providers.openapi.yaml":      "",
	}
	loaded := map[string]routers.Router{}
	for file := range specs {
		loaded[file] = loadRouter(t, file, ts.URL)
	}
	// Every list endpoint the exporter reads, its spec, and the query the
	// API requires of it.
	lists := []struct{ path, spec, query string }{
		{"/byok/v1/keys", "byok-v1.openapi.yaml", ""},
		{"/iam/v2/api-keys", "iam-v2.openapi.yaml", ""},
		{"/iam/v2/service-accounts", "iam-v2-users-service-accounts.openapi.yaml", ""},
		{"/iam/v2/users", "iam-v2-users-service-accounts.openapi.yaml", ""},
		{"/org/v2/environments", "org-v2.openapi.yaml", ""},
		{"/org/v2/organizations", "org-v2.openapi.yaml", ""},
		{"/cmk/v2/clusters", "cmk-v2.openapi.yaml", "environment=env-001"},
		{"/service-quota/v1/applied-quotas", "service-quota-v1.openapi.yaml", "scope=ORGANIZATION"},
		{"/iam/v2/certificate-authorities", "iam-v2-certificate-authorities.openapi.yaml", ""},
		{"/iam/v2/certificate-authorities/op-ca01/identity-pools", "iam-v2-certificate-authorities.openapi.yaml", ""},
		{"/iam/v2/identity-providers", "iam-v2-identity-providers.openapi.yaml", ""},
		{"/iam/v2/identity-providers/op-idp1/identity-pools", "iam-v2-identity-providers.openapi.yaml", ""},
	}
	routers := map[string]routers.Router{}
	for _, l := range lists {
		routers[l.path] = loaded[l.spec]
	}
	if len(lists) != len(endpoints)+len(parentEndpoints) {
		t.Fatalf("%d list endpoints checked, the simulator serves %d", len(lists), len(endpoints)+len(parentEndpoints))
	}

	type call struct {
		path   string
		faults Faults
		auth   bool
		status int
	}
	var calls []call
	for _, l := range lists {
		path := l.path + "?" + l.query
		if l.query != "" {
			path += "&"
		}
		calls = append(calls,
			call{path + "page_size=100", Faults{}, true, 200},
			call{path + "page_size=2", Faults{}, true, 200}, // with a next link
			call{path + "page_size=201", Faults{}, true, 400},
			call{path + "page_token=bogus", Faults{}, true, 400},
			call{path, Faults{}, false, 401},
			call{path, Faults{Status: 403}, true, 403},
			call{path, Faults{Status: 429, RetryAfter: 3}, true, 429},
			call{path, Faults{Status: 500}, true, 500},
		)
		if l.query != "" {
			calls = append(calls, call{l.path, Faults{}, true, 400}) // the required parameter missing
		}
	}
	calls = append(calls,
		call{"/byok/v1/keys?provider=AWS&state=IN_USE&validation_phase=VALID&page_size=5", Faults{}, true, 200},
		call{"/byok/v1/keys?display_name=key&key=vault&validation_region=eastus", Faults{}, true, 200},
		call{"/iam/v2/api-keys?spec.resource=lkc-0001&page_size=3", Faults{}, true, 200},
	)

	pages := map[string]int{}
	for _, c := range calls {
		s.SetFaults(c.faults)
		req, _ := http.NewRequest(http.MethodGet, ts.URL+c.path, nil)
		if c.auth {
			req.SetBasicAuth("k", "s")
		}
		route, params, err := routers[req.URL.Path].FindRoute(req)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		in := &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if c.status != 400 {
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				t.Fatalf("%s: request does not match the spec: %v", c.path, err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Fatalf("%s: status %d, want %d: %s", c.path, resp.StatusCode, c.status, body)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", c.path)
		}
		if c.status == 429 && resp.Header.Get("Retry-After") != "3" {
			t.Errorf("%s: 429 without Retry-After", c.path)
		}
		if c.status == 200 && strings.Contains(string(body), `"next"`) {
			pages[req.URL.Path]++
		}
		out := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: in, Status: resp.StatusCode,
			Header: resp.Header, Body: io.NopCloser(bytes.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			t.Errorf("%s (%d): response does not match the spec: %v\n%.400s", c.path, resp.StatusCode, err, body)
		}
	}
	for _, l := range lists {
		if pages[l.path] == 0 && l.path != "/org/v2/organizations" { // a list of one: no second page
			t.Errorf("%s: no response had a next link: pagination was not validated", l.path)
		}
	}
}
