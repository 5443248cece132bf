package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadFile: no file crashes the loader; its error is one line of at
// most maxErrors mistakes, bounded in size, and never quotes what a secret
// file holds (the file names one whose content the fuzzer does not know).
func FuzzLoadFile(f *testing.F) {
	const secret = "FuzzSecretContent-9f8e7d6c"
	dir := f.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte(secret), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Add("organizations:\n  - name: a\n    api_key: K\n    api_secret_file: " + secretFile + "\n")
	f.Add("organizations:\n  - name: a\n    api_key: K\n    api_secret_file: " + secretFile + "\n    audit_log: {bootstrap_servers: [h:1], api_key: A, api_secret_file: " + secretFile + "}\n")
	f.Add("organizations:\n  - {name: a, bad: 1, worse: [2]}\n  - name: b\n---\nx: 1\n")
	f.Add("organizations: [\n")
	f.Add("organizations:\n  - name: a\n    url: \"https://u:p@h%zz/?t=1\"\n")
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "orgs.yml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFile(path, flagDefaults())
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.ContainsAny(msg, "\n\r") {
			t.Errorf("an error of more than one line: %q", msg)
		}
		if strings.Count(msg, path) > maxErrors || len(msg) > 64<<10 {
			t.Errorf("an error of %d bytes, %d mistakes: %.200q", len(msg), strings.Count(msg, path), msg)
		}
		if strings.Contains(msg, secret) && !strings.Contains(content, secret) {
			t.Errorf("the error quotes the secret file: %q", msg)
		}
	})
}
