package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/confluent-keys-exporter/confluent_keys_exporter/collector"
)

// TestACollectorIsNamedInAtMostTwoFiles: adding a list is one collector
// file (and the apiclient method that reads it). Outside apiclient/ and
// the simulator, no production file but the collector's own and one other
// (a check that needs it, such as config's dependency between collectors)
// spells a collector's name: the flags, the configuration file's keys and
// the registry come from collector.Collectors.
func TestACollectorIsNamedInAtMostTwoFiles(t *testing.T) {
	var files []string
	for _, f := range repoFiles(t, "*.go") {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "apiclient/") ||
			strings.HasPrefix(f, "internal/") || strings.HasPrefix(f, "cmd/") || strings.HasPrefix(f, "bench/") {
			continue
		}
		files = append(files, f)
	}
	srcs := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // deleted in the work tree
		}
		srcs[f] = string(b)
	}
	collectors := collector.Collectors()
	if len(collectors) < 10 {
		t.Fatalf("%d collectors registered, want every list's", len(collectors))
	}
	for _, c := range collectors {
		if c.Name == "organization" {
			continue // also the label every series carries, and a log key
		}
		var in []string
		for f, src := range srcs {
			if strings.Contains(src, `"`+c.Name+`"`) {
				in = append(in, f)
			}
		}
		if len(in) > 2 {
			t.Errorf("collector %s is named in %d production files, want at most 2: %v", c.Name, len(in), in)
		}
		if len(in) == 0 {
			t.Errorf("collector %s is named in no production file: the registry's name is read from elsewhere", c.Name)
		}
	}
}

// TestEveryMetricIsDocumented: each confluent_* family of the golden
// expositions (the collectors' fixtures and the binary's end-to-end
// scrape) has its row in docs/metrics.md; a new metric comes with it.
func TestEveryMetricIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	goldens, _ := filepath.Glob("collector/testdata/*.prom")
	goldens = append(goldens, "testdata/e2e-output.txt")
	seen := 0
	for _, g := range goldens {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(string(b)) {
			f := strings.Fields(line)
			if len(f) < 3 || f[0] != "#" || f[1] != "HELP" || !strings.HasPrefix(f[2], "confluent_") {
				continue
			}
			seen++
			if !strings.Contains(string(doc), "`"+f[2]+"`") && !strings.Contains(string(doc), f[2]+"{") {
				t.Errorf("%s (in %s) is not in docs/metrics.md", f[2], g)
			}
		}
	}
	if seen < 30 {
		t.Fatalf("%d metric families in the goldens, want every one", seen)
	}
}
