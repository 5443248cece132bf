// Package promrule wraps the Prometheus rule file alerts/ ships into a
// Prometheus Operator PrometheusRule, so that deploy/kubernetes carries the
// same rules. `make prometheusrule` writes it; a test keeps the two in sync.
package promrule

import (
	"bytes"
	"errors"
	"strings"

	"gopkg.in/yaml.v3"
)

// header comes before the rule file's text, which is indented under spec.
const header = `# Generated from alerts/confluent-keys.rules.yml by ` + "`make prometheusrule`" + `. Do not edit.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: confluent-keys-exporter
  labels:
    app.kubernetes.io/name: confluent-keys-exporter
spec:
`

// Generate returns the PrometheusRule for a rule file. The rule file's text,
// comments included (they mark the thresholds), becomes the spec.
func Generate(rules []byte) ([]byte, error) {
	var check struct {
		Groups []yaml.Node `yaml:"groups"`
	}
	if err := yaml.Unmarshal(rules, &check); err != nil {
		return nil, err
	}
	if len(check.Groups) == 0 {
		return nil, errors.New("the rule file has no groups")
	}
	var b bytes.Buffer
	b.WriteString(header)
	for _, line := range strings.SplitAfter(string(rules), "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString(strings.TrimLeft(line, " \t"))
			continue
		}
		b.WriteString("  " + line)
	}
	return b.Bytes(), nil
}
