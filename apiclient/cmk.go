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
}

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
		k.Environment = f.text(env.Get("id"), "spec.environment.id", true)
	}
	if byok := f.object(spec.Get("byok"), "spec.byok", false); byok != nil {
		k.BYOKKeyID = f.text(byok.Get("id"), "spec.byok.id", false)
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
