package apiclient

import (
	"context"
	"net/url"
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

type idRef struct {
	ID text `json:"id"`
}

type clusterSpec struct {
	DisplayName  text          `json:"display_name"`
	Availability text          `json:"availability"`
	Cloud        text          `json:"cloud"`
	Region       text          `json:"region"`
	Environment  object[idRef] `json:"environment"`
	BYOK         object[idRef] `json:"byok"`
}

type clusterItem struct {
	ID   text                `json:"id"`
	Spec object[clusterSpec] `json:"spec"`
}

func (it *clusterItem) itemID() text { return it.ID }

func (it *clusterItem) convert(f *fields) (KafkaCluster, string) {
	k := KafkaCluster{ID: it.ID.s}
	spec := objectValue(f, it.Spec, "spec", true)
	if spec == nil {
		return k, ""
	}
	k.DisplayName = f.text(spec.DisplayName, "spec.display_name", true)
	k.Availability = f.text(spec.Availability, "spec.availability", true)
	k.Cloud = f.text(spec.Cloud, "spec.cloud", true)
	k.Region = f.text(spec.Region, "spec.region", true)
	if env := objectValue(f, spec.Environment, "spec.environment", true); env != nil {
		k.Environment = f.text(env.ID, "spec.environment.id", true)
	}
	if byok := objectValue(f, spec.BYOK, "spec.byok", false); byok != nil {
		k.BYOKKeyID = f.text(byok.ID, "spec.byok.id", false)
	}
	return k, ""
}

// ListKafkaClusters reads every page of GET /cmk/v2/clusters in one
// environment (the API requires one). A cluster that does not name its
// environment is given the one asked for.
func (c *Client) ListKafkaClusters(ctx context.Context, environment string) ([]KafkaCluster, ListStats, error) {
	clusters, stats, err := list[clusterItem, KafkaCluster](ctx, c, EndpointKafkaClusters, "/cmk/v2/clusters",
		url.Values{"environment": {environment}})
	for i := range clusters {
		if clusters[i].Environment == "" {
			clusters[i].Environment = environment
		}
	}
	return clusters, stats, err
}
