// Command gen writes deploy/kubernetes/prometheusrule.yaml from
// alerts/confluent-keys.rules.yml, and copies the rules and the dashboard
// into the Helm chart's files/ (Helm reads no file outside its chart). Run
// it from the repository root (`make prometheusrule`).
package main

import (
	"fmt"
	"os"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/promrule"
)

const (
	rulesFile     = "alerts/confluent-keys.rules.yml"
	dashboardFile = "dashboards/confluent-keys.json"
	outFile       = "deploy/kubernetes/prometheusrule.yaml"
	chartFiles    = "charts/confluent-keys-exporter/files/"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		return err
	}
	out, err := promrule.Generate(rules)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outFile, out, 0o644); err != nil {
		return err
	}
	dashboard, err := os.ReadFile(dashboardFile)
	if err != nil {
		return err
	}
	for file, content := range map[string][]byte{
		chartFiles + "confluent-keys.rules.yml": rules,
		chartFiles + "confluent-keys.json":      dashboard,
	} {
		if err := os.WriteFile(file, content, 0o644); err != nil {
			return err
		}
	}
	fmt.Println("wrote", outFile, "and the chart's files/")
	return nil
}
