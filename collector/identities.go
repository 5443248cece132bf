package collector

import (
	"context"
	"fmt"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/apiclient"
	"github.com/confluent-keys-exporter/confluent_keys_exporter/series"
)

// The workload identities other than API keys: mTLS certificate
// authorities and OAuth identity providers, each with its identity pools.
var (
	certificateAuthorityInfoDesc = series.NewGauge("iam", "certificate_authority_info",
		"An mTLS certificate authority: its name, state, where its certificate revocation list comes from (crl_source LOCAL or URL), and whether every client certificate must be vouched for by it (require_crl_on_client_certificate true or false; empty where the API does not say). Always 1.",
		"certificate_authority_id", "display_name", "description", "state", "crl_source", "require_crl_on_client_certificate")
	certificateExpiresDesc = series.NewGauge("iam", "certificate_authority_certificate_expires_timestamp_seconds",
		"When a certificate of a certificate authority's chain expires: then every client of every identity pool under the authority stops authenticating.",
		"certificate_authority_id", "serial_number", "fingerprint")
	crlUpdatedDesc = series.NewGauge("iam", "certificate_authority_crl_updated_timestamp_seconds",
		"When a certificate authority's revocation list was last updated, where the API says.",
		"certificate_authority_id")
	identityProviderInfoDesc = series.NewGauge("iam", "identity_provider_info",
		"An OAuth/OIDC identity provider: its name, issuer and state. Always 1.",
		"provider_id", "display_name", "issuer", "state")
	identityPoolInfoDesc = series.NewGauge("iam", "identity_pool_info",
		`An identity pool: of an OAuth identity provider (kind="oauth") or of a certificate authority (kind="certificate", provider_id the authority's id); identity_claim is the claim, or the certificate field, that names an identity. Its filter is not exported. Always 1.`,
		"pool_id", "display_name", "provider_id", "kind", "identity_claim", "state")
)

func init() {
	register("certificate_authorities", true, "Collect the mTLS certificate authorities and the expiry of every certificate of their chains.", func(e env) reader {
		return listOf(e.lister.ListCertificateAuthorities, addAuthority)
	})
	register("certificate_identity_pools", true, "Collect the identity pools of every certificate authority.", func(e env) reader {
		return certificatePools(e.lister)
	})
	register("identity_providers", true, "Collect the OAuth identity providers.", func(e env) reader {
		return listOf(e.lister.ListIdentityProviders, func(s *series.Builder, p apiclient.IdentityProvider) {
			s.Add(identityProviderInfoDesc, 1, p.ID, p.DisplayName, p.Issuer, p.State)
		})
	})
	register("identity_pools", true, "Collect the identity pools of every OAuth identity provider.", func(e env) reader {
		return oauthPools(e.lister)
	})
}

// addAuthority adds a certificate authority, its revocation list's age and
// the expiry of each certificate of its chain (each once).
func addAuthority(s *series.Builder, a apiclient.CertificateAuthority) {
	s.Add(certificateAuthorityInfoDesc, 1, a.ID, a.DisplayName, a.Description, a.State, a.CRLSource, a.RequireCRL)
	s.AddTimestamp(crlUpdatedDesc, a.CRLUpdatedAt, a.ID)
	seen := map[[2]string]bool{}
	for _, cert := range a.Certificates {
		if k := [2]string{cert.SerialNumber, cert.Fingerprint}; !seen[k] {
			seen[k] = true
			s.AddTimestamp(certificateExpiresDesc, cert.ExpiresAt, a.ID, cert.SerialNumber, cert.Fingerprint)
		}
	}
}

// poolsCollector serves the identity pools of every certificate authority
// or identity provider: their list, then the pools of each. It reads the
// parents itself, as the Kafka clusters collector reads the environments,
// so that it depends on no other collector.
type poolsCollector struct {
	kind    string // the kind label: certificate, oauth
	parent  string // what a parent is called in errors
	parents func(context.Context) ([]string, apiclient.ListStats, error)
	list    func(context.Context, string) ([]apiclient.IdentityPool, apiclient.ListStats, error)
}

func certificatePools(l Lister) *poolsCollector {
	return &poolsCollector{
		kind: "certificate", parent: "certificate authority",
		parents: func(ctx context.Context) ([]string, apiclient.ListStats, error) {
			cas, st, err := l.ListCertificateAuthorities(ctx)
			ids := make([]string, len(cas))
			for i, a := range cas {
				ids[i] = a.ID
			}
			return ids, st, err
		},
		list: l.ListCertificateIdentityPools,
	}
}

func oauthPools(l Lister) *poolsCollector {
	return &poolsCollector{
		kind: "oauth", parent: "identity provider",
		parents: func(ctx context.Context) ([]string, apiclient.ListStats, error) {
			ps, st, err := l.ListIdentityProviders(ctx)
			ids := make([]string, len(ps))
			for i, p := range ps {
				ids[i] = p.ID
			}
			return ids, st, err
		},
		list: l.ListIdentityPools,
	}
}

// update adds the pools of every parent. One parent's list failing fails
// them all: the refresh keeps the last complete one.
func (c *poolsCollector) update(ctx context.Context, s *series.Builder) (int, apiclient.ListStats, error) {
	parents, stats, err := c.parents(ctx)
	if err != nil {
		return 0, stats, err
	}
	stats.Invalid = nil // the parents' values are the other collector's
	seen := map[string]bool{}
	for _, id := range parents {
		ps, st, err := c.list(ctx, id)
		stats = addStats(stats, st)
		if err != nil {
			return 0, stats, fmt.Errorf("%s %s: %w", c.parent, id, err)
		}
		for _, p := range ps {
			if seen[p.ID] {
				continue // a list that shifted while it was read
			}
			seen[p.ID] = true
			s.Add(identityPoolInfoDesc, 1, p.ID, p.DisplayName, p.ProviderID, c.kind, p.IdentityClaim, p.State)
		}
	}
	return len(seen), stats, nil
}
