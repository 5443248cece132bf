// Command gen writes deploy/kubernetes/prometheusrule.yaml from
// alerts/confluent-keys.rules.yml. Run it from the repository root
// (`make prometheusrule`).
package main

import (
	"fmt"
	"os"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/internal/promrule"
)

const (
	rulesFile = "alerts/confluent-keys.rules.yml"
	outFile   = "deploy/kubernetes/prometheusrule.yaml"
)

func main() {
	rules, err := os.ReadFile(rulesFile)
	if err == nil {
		var out []byte
		if out, err = promrule.Generate(rules); err == nil {
			err = os.WriteFile(outFile, out, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", outFile)
}
