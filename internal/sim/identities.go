package sim

import (
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// The workload identities other than API keys: mTLS certificate
// authorities and OAuth identity providers, with their identity pools
// (iam/v2, testdata/openapi/iam-v2-certificate-authorities.openapi.yaml
// and iam-v2-identity-providers.openapi.yaml).

// CertificateAuthority is one certificate authority as the API sends it.
type CertificateAuthority struct {
	APIVersion      string     `json:"api_version"`
	Kind            string     `json:"kind"`
	ID              string     `json:"id"`
	Metadata        ObjectMeta `json:"metadata"`
	DisplayName     string     `json:"display_name"`
	Description     string     `json:"description"`
	Fingerprints    []string   `json:"fingerprints"`
	ExpirationDates []string   `json:"expiration_dates"`
	SerialNumbers   []string   `json:"serial_numbers"`
	ChainFilename   string     `json:"certificate_chain_filename"`
	CRLSource       string     `json:"crl_source,omitempty"`
	CRLURL          string     `json:"crl_url,omitempty"`
	CRLUpdatedAt    string     `json:"crl_updated_at,omitempty"`
	// RequireCRL is require_crl_on_client_certificate (SDK
	// certificate-authority v0.0.3): clients are refused unless the CRL
	// vouches for them. Absent from older answers.
	RequireCRL *bool  `json:"require_crl_on_client_certificate,omitempty"`
	State      string `json:"state"`
	pools      []IdentityPool
}

// IdentityProvider is one OAuth identity provider as the API sends it.
type IdentityProvider struct {
	APIVersion    string     `json:"api_version"`
	Kind          string     `json:"kind"`
	ID            string     `json:"id"`
	Metadata      ObjectMeta `json:"metadata"`
	DisplayName   string     `json:"display_name"`
	Description   string     `json:"description"`
	IdentityClaim string     `json:"identity_claim"`
	State         string     `json:"state"`
	Issuer        string     `json:"issuer"`
	JWKSURI       string     `json:"jwks_uri"`
	// Keys are the JWKS keys Confluent fetched from the provider (read-only).
	Keys  []JWK `json:"keys"`
	pools []IdentityPool
}

// JWK is one key of a provider's JWKS, as the API shows it: its kind,
// id and algorithm (its required fields).
type JWK struct {
	Kty string `json:"kty"`
	KID string `json:"kid"`
	Alg string `json:"alg"`
}

// IdentityPool is one identity pool: IdentityClaim for a provider's,
// ExternalIdentifier for a certificate authority's.
type IdentityPool struct {
	APIVersion         string     `json:"api_version"`
	Kind               string     `json:"kind"`
	ID                 string     `json:"id"`
	Metadata           ObjectMeta `json:"metadata"`
	DisplayName        string     `json:"display_name"`
	Description        string     `json:"description"`
	IdentityClaim      string     `json:"identity_claim,omitempty"`
	ExternalIdentifier string     `json:"external_identifier,omitempty"`
	Filter             string     `json:"filter"`
	Principal          string     `json:"principal"`
	State              string     `json:"state"`
}

// newIdentities makes the organisation's certificate authorities and
// identity providers, dated from its Now: a corporate CA whose chain of two
// is years from expiring; a partner CA of one certificate expiring within a
// week; a legacy CA of three, one expired, whose URL revocation list has not
// been updated for three weeks; a staging CA no pool uses; and three
// providers, one without pools.
func newIdentities(cfg OrgConfig) ([]CertificateAuthority, []IdentityProvider) {
	now := cfg.now()
	day := 24 * time.Hour
	created := ts(now.AddDate(-1, 0, 0))
	ca := func(id, name string, expiries []time.Duration, crlSource string, crlAge time.Duration, pools ...string) CertificateAuthority {
		a := CertificateAuthority{
			APIVersion: "iam/v2", Kind: "CertificateAuthority", ID: id, DisplayName: name,
			Description: name + " for mTLS clients", ChainFilename: strings.ToLower(strings.ReplaceAll(name, " ", "-")) + ".pem",
			CRLSource: crlSource, State: "ENABLED",
			Metadata: ObjectMeta{CreatedAt: created, UpdatedAt: created},
		}
		if crlSource == "URL" {
			a.CRLURL = "https://pki.example.com/" + id + ".crl"
		}
		if crlSource != "" {
			a.CRLUpdatedAt = ts(now.Add(-crlAge))
		}
		r := mrand.New(mrand.NewPCG(cfg.Seed, uint64(fnv32(id))))
		for _, e := range expiries {
			a.SerialNumbers = append(a.SerialNumbers, fmt.Sprintf("%016X%016X", r.Uint64(), r.Uint64()))
			a.Fingerprints = append(a.Fingerprints, fmt.Sprintf("%016X%016X%08X", r.Uint64(), r.Uint64(), r.Uint32()))
			a.ExpirationDates = append(a.ExpirationDates, ts(now.Add(e)))
		}
		for i, p := range pools {
			a.pools = append(a.pools, IdentityPool{
				APIVersion: "iam/v2", Kind: "CertificateIdentityPool", ID: fmt.Sprintf("pool-%s%d", id[len(id)-2:], i+1),
				DisplayName: p, Description: p + " clients", ExternalIdentifier: "CN",
				Filter: "O=='Example' && OU=='" + p + "'", Principal: fmt.Sprintf("pool-%s%d", id[len(id)-2:], i+1), State: "ENABLED",
			})
		}
		return a
	}
	cas := []CertificateAuthority{
		ca("op-ca01", "Corporate Root CA", []time.Duration{200 * day, 5 * 365 * day}, "LOCAL", 2*day, "payments", "orders", "analytics"),
		ca("op-ca02", "Partner CA", []time.Duration{5 * day}, "URL", day, "partner-gateway"),
		ca("op-ca03", "Legacy CA", []time.Duration{90 * day, -10 * day, 3 * 365 * day}, "URL", 21*day, "batch", "reporting"),
		ca("op-ca04", "Staging CA", []time.Duration{400 * day}, "", 0),
	}
	// The corporate and legacy authorities require a CRL of every client
	// certificate, the staging one says it does not, the partner's answer
	// predates the field.
	yes, no := true, false
	cas[0].RequireCRL, cas[2].RequireCRL, cas[3].RequireCRL = &yes, &yes, &no
	idp := func(id, name, issuer string, pools ...string) IdentityProvider {
		p := IdentityProvider{
			APIVersion: "iam/v2", Kind: "IdentityProvider", ID: id, DisplayName: name, Description: name + " tenant",
			IdentityClaim: "claims.sub", State: "ENABLED", Issuer: issuer, JWKSURI: strings.TrimSuffix(issuer, "/") + "/keys",
			Metadata: ObjectMeta{CreatedAt: created, UpdatedAt: created},
			Keys:     []JWK{{Kty: "RSA", KID: id + "-2026", Alg: "RS256"}, {Kty: "RSA", KID: id + "-2025", Alg: "RS256"}},
		}
		for i, name := range pools {
			pid := fmt.Sprintf("pool-%s%d", id[len(id)-2:], i+1)
			p.pools = append(p.pools, IdentityPool{
				APIVersion: "iam/v2", Kind: "IdentityPool", ID: pid, DisplayName: name, Description: name + " workloads",
				IdentityClaim: "claims.sub", Filter: "claims.aud=='confluent' && claims.group=='" + name + "'", Principal: pid, State: "ENABLED",
			})
		}
		return p
	}
	providers := []IdentityProvider{
		idp("op-idp1", "Azure AD", "https://login.microsoftonline.com/7f6c1a2b-0000-4000-8000-000000000001/v2.0", "stream-processing", "connectors", "ci"),
		idp("op-idp2", "Okta", "https://example.okta.com/oauth2/default", "data-science", "support-tools"),
		idp("op-idp3", "Keycloak", "https://sso.example.com/realms/kafka"),
	}
	return cas, providers
}

// CertificateAuthorities returns a copy of the certificate authorities.
func (s *Server) CertificateAuthorities() []CertificateAuthority {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneCAs(s.cas)
}

// IdentityPoolsOf returns the names of the identity pools of a certificate
// authority or an identity provider.
func (s *Server) IdentityPoolsOf(parent string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pools []IdentityPool
	for _, a := range s.cas {
		if a.ID == parent {
			pools = a.pools
		}
	}
	for _, p := range s.providers {
		if p.ID == parent {
			pools = p.pools
		}
	}
	var names []string
	for _, p := range pools {
		names = append(names, p.DisplayName)
	}
	return names
}

// SetCertificateExpiry changes when certificate i of an authority's chain
// expires, as uploading a renewed chain does.
func (s *Server) SetCertificateExpiry(authority string, i int, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for j := range s.cas {
		if s.cas[j].ID == authority && i >= 0 && i < len(s.cas[j].ExpirationDates) {
			s.cas[j].ExpirationDates = append([]string(nil), s.cas[j].ExpirationDates...)
			s.cas[j].ExpirationDates[i] = ts(at)
			s.changed()
			return true
		}
	}
	return false
}

func cloneCAs(cas []CertificateAuthority) []CertificateAuthority {
	out := make([]CertificateAuthority, len(cas))
	copy(out, cas)
	return out
}

// poolsOf are the pools listed under parent of the endpoint, nil for an
// authority or provider that does not exist.
func (s *Server) poolsOf(endpoint, parent string) ([]IdentityPool, bool) {
	if endpoint == "iam_certificate_identity_pools" {
		for _, a := range s.cas {
			if a.ID == parent {
				return a.pools, true
			}
		}
		return nil, false
	}
	for _, p := range s.providers {
		if p.ID == parent {
			return p.pools, true
		}
	}
	return nil, false
}
