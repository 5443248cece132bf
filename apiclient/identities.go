package apiclient

import (
	"context"
	"net/url"
	"time"

	"github.com/valyala/fastjson"
)

// The workload identities other than API keys: mTLS certificate
// authorities and OAuth identity providers (iam/v2), each with its
// identity pools.

// CertificateAuthority is one mTLS certificate authority
// (iam/v2 CertificateAuthority).
type CertificateAuthority struct {
	ID          string // op-...
	DisplayName string
	Description string
	State       string // ENABLED, or a value added later
	CRLSource   string // LOCAL, URL, or ""
	// RequireCRL is require_crl_on_client_certificate: "true", "false",
	// or "" where the API does not say (before 2026).
	RequireCRL   string
	CRLUpdatedAt time.Time
	Certificates []Certificate // the chain, in the API's order
}

// Certificate is one certificate of an authority's chain: the API sends
// its serial numbers, fingerprints and expiry dates as three lists, one
// entry per certificate.
type Certificate struct {
	SerialNumber string
	Fingerprint  string
	ExpiresAt    time.Time // zero when the API gave none or an unreadable one
}

// IdentityProvider is one OAuth/OIDC identity provider
// (iam/v2 IdentityProvider).
type IdentityProvider struct {
	ID          string // op-...
	DisplayName string
	Issuer      string
	State       string
}

// IdentityPool is one identity pool, of an identity provider (OAuth) or of
// a certificate authority (mTLS). Its CEL filter is policy text, not read.
type IdentityPool struct {
	ID            string // pool-...
	DisplayName   string
	ProviderID    string // the provider's or authority's id, as listed under it
	IdentityClaim string // identity_claim; a certificate pool's external_identifier
	State         string
}

func readCertificateAuthority(it *fastjson.Value, f *fields) (a CertificateAuthority, key, skip string) {
	if a.ID = f.id(it); a.ID == "" {
		return a, "", ""
	}
	a.DisplayName = f.text(it.Get("display_name"), "display_name", false)
	a.Description = f.text(it.Get("description"), "description", false)
	a.State = f.text(it.Get("state"), "state", false)
	a.CRLSource = f.text(it.Get("crl_source"), "crl_source", false)
	a.RequireCRL = f.flag(it.Get("require_crl_on_client_certificate"), "require_crl_on_client_certificate")
	a.CRLUpdatedAt = f.time(it.Get("crl_updated_at"), "crl_updated_at")
	serials := f.array(it.Get("serial_numbers"), "serial_numbers")
	prints := f.array(it.Get("fingerprints"), "fingerprints")
	dates := f.array(it.Get("expiration_dates"), "expiration_dates")
	f.count(max(len(serials), len(prints), len(dates)))
	for i := range max(len(serials), len(prints), len(dates)) {
		var c Certificate
		if i < len(serials) {
			c.SerialNumber = f.ref(serials[i], "serial_numbers[]", false)
		}
		if i < len(prints) {
			c.Fingerprint = f.ref(prints[i], "fingerprints[]", false)
		}
		if i < len(dates) {
			c.ExpiresAt = f.time(dates[i], "expiration_dates[]")
		}
		a.Certificates = append(a.Certificates, c)
	}
	return a, a.ID, ""
}

func readIdentityProvider(it *fastjson.Value, f *fields) (p IdentityProvider, key, skip string) {
	if p.ID = f.id(it); p.ID == "" {
		return p, "", ""
	}
	p.DisplayName = f.text(it.Get("display_name"), "display_name", false)
	p.Issuer = f.text(it.Get("issuer"), "issuer", false)
	p.State = f.text(it.Get("state"), "state", false)
	return p, p.ID, ""
}

// readPool returns the reader of the pools listed under provider; claim is
// the field that names the identity (identity_claim, external_identifier).
func readPool(provider, claim string) reader[IdentityPool] {
	return func(it *fastjson.Value, f *fields) (p IdentityPool, key, skip string) {
		if p.ID = f.id(it); p.ID == "" {
			return p, "", ""
		}
		p.ProviderID = provider
		p.DisplayName = f.text(it.Get("display_name"), "display_name", false)
		p.IdentityClaim = f.text(it.Get(claim), claim, false)
		p.State = f.text(it.Get("state"), "state", false)
		return p, p.ID, ""
	}
}

// ListCertificateAuthorities reads every page of GET
// /iam/v2/certificate-authorities.
func (c *Client) ListCertificateAuthorities(ctx context.Context) ([]CertificateAuthority, ListStats, error) {
	return list(ctx, c, EndpointCertificateAuthorities, "/iam/v2/certificate-authorities", nil, readCertificateAuthority)
}

// ListCertificateIdentityPools reads every page of GET
// /iam/v2/certificate-authorities/{id}/identity-pools.
func (c *Client) ListCertificateIdentityPools(ctx context.Context, authority string) ([]IdentityPool, ListStats, error) {
	return list(ctx, c, EndpointCertificateIdentityPools, "/iam/v2/certificate-authorities/"+url.PathEscape(authority)+"/identity-pools",
		nil, readPool(authority, "external_identifier"))
}

// ListIdentityProviders reads every page of GET /iam/v2/identity-providers.
func (c *Client) ListIdentityProviders(ctx context.Context) ([]IdentityProvider, ListStats, error) {
	return list(ctx, c, EndpointIdentityProviders, "/iam/v2/identity-providers", nil, readIdentityProvider)
}

// ListIdentityPools reads every page of GET
// /iam/v2/identity-providers/{id}/identity-pools.
func (c *Client) ListIdentityPools(ctx context.Context, provider string) ([]IdentityPool, ListStats, error) {
	return list(ctx, c, EndpointIdentityPools, "/iam/v2/identity-providers/"+url.PathEscape(provider)+"/identity-pools",
		nil, readPool(provider, "identity_claim"))
}
