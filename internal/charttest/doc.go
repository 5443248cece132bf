// Package charttest checks the Helm chart in charts/confluent-keys-exporter:
// helm lint and helm template on each set of values, every rendered object
// decoded strictly into the Kubernetes and Prometheus Operator types, and the
// chart's promises. It is its own module, so that the exporter's go.mod does
// not carry the Kubernetes API types; `make chart-test` runs it.
package charttest
