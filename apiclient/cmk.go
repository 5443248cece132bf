package apiclient

import (
	"context"
	"net/url"

	"github.com/valyala/fastjson"
)

// KafkaCluster is one Kafka cluster (cmk/v2 Cluster).
type KafkaCluster struct {
	ID           string // lkc-...
	DisplayName  string
	Environment  string // env-...
	Cloud        string // AWS, GCP, AZURE, ...
	Region       string
	Availability string // SINGLE_ZONE, MULTI_ZONE, ...
	BYOKKeyID    string // spec.byok.id, the BYOK key (cck-...) that encrypts it; "" for Confluent-managed keys
	Kind         string // spec.config.kind: Basic, Standard, Enterprise, Dedicated, Freight, ...
	// Encryption says whose key encrypts the cluster: EncryptionBYOK (a
	// key of the BYOK API, BYOKKeyID), EncryptionBYOKLegacy (a Dedicated
	// cluster given a self-managed key before the BYOK API, in the
	// deprecated spec.config.encryption_key: not in the BYOK list) or
	// EncryptionConfluent.
	Encryption string
}

// How a Kafka cluster is encrypted (KafkaCluster.Encryption).
const (
	EncryptionBYOK       = "byok"
	EncryptionBYOKLegacy = "byok_legacy"
	EncryptionConfluent  = "confluent"
)

func readKafkaCluster(it *fastjson.Value, f *fields) (k KafkaCluster, key, skip string) {
	if k.ID = f.id(it); k.ID == "" {
		return k, "", ""
	}
	spec := f.object(it.Get("spec"), "spec", true)
	if spec == nil {
		return k, k.ID, ""
	}
	k.DisplayName = f.text(spec.Get("display_name"), "spec.display_name", true)
	k.Availability = f.text(spec.Get("availability"), "spec.availability", true)
	k.Cloud = f.text(spec.Get("cloud"), "spec.cloud", true)
	k.Region = f.text(spec.Get("region"), "spec.region", true)
	if env := f.object(spec.Get("environment"), "spec.environment", true); env != nil {
		k.Environment = f.ref(env.Get("id"), "spec.environment.id", true)
	}
	if byok := f.object(spec.Get("byok"), "spec.byok", false); byok != nil {
		k.BYOKKeyID = f.ref(byok.Get("id"), "spec.byok.id", false)
	}
	legacyKey := ""
	if cfg := f.object(spec.Get("config"), "spec.config", false); cfg != nil {
		k.Kind = f.text(cfg.Get("kind"), "spec.config.kind", false)
		legacyKey = f.text(cfg.Get("encryption_key"), "spec.config.encryption_key", false)
	}
	switch {
	case k.BYOKKeyID != "":
		k.Encryption = EncryptionBYOK
	case legacyKey != "":
		k.Encryption = EncryptionBYOKLegacy
	default:
		k.Encryption = EncryptionConfluent
	}
	return k, k.ID, ""
}

// ListKafkaClusters reads every page of GET /cmk/v2/clusters in one
// environment (the API requires one). A cluster that does not name its
// environment is given the one asked for.
func (c *Client) ListKafkaClusters(ctx context.Context, environment string) ([]KafkaCluster, ListStats, error) {
	clusters, stats, err := list(ctx, c, EndpointKafkaClusters, "/cmk/v2/clusters",
		url.Values{"environment": {environment}}, readKafkaCluster)
	for i := range clusters {
		if clusters[i].Environment == "" {
			clusters[i].Environment = environment
		}
	}
	return clusters, stats, err
}
