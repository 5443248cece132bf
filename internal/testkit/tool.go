package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// RequireToolsEnv is the variable that, set to 1, makes a missing tool fail the test that needs
// it instead of skipping it: make test (and so CI) sets it, after `make
// deps` installed them all.
const RequireToolsEnv = "CONFLUENT_KEYS_EXPORTER_REQUIRE_TOOLS"

// Tool returns the path of the program name, which the Debian package pkg
// provides. Without it the test is skipped, saying so (a machine with only
// Go runs `go test ./...` to the end), unless RequireToolsEnv is set: then
// it fails.
func Tool(t testing.TB, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := name + " is not installed (Debian package " + pkg + "; `make deps` installs it)"
	if os.Getenv(RequireToolsEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + ": skipped; `make test` runs it")
	return ""
}

// Slow skips a test of many seconds under `go test -short` (make check),
// saying so; make test runs it.
func Slow(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("slow: skipped under -short; `make test` runs it")
	}
}
