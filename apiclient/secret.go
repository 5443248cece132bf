package apiclient

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// SecretSource yields the Cloud API secret each time a request is made, so a
// rotated secret is used without a restart.
type SecretSource interface {
	Secret() (string, error)
}

// StaticSecret is a secret given once, e.g. from an environment variable.
type StaticSecret string

// Secret returns the secret.
func (s StaticSecret) Secret() (string, error) {
	if s == "" {
		return "", errors.New("the secret is empty")
	}
	return string(s), nil
}

// maxSecretFileSize bounds what is read from a secret file.
const maxSecretFileSize = 64 << 10

// SecretFile reads the secret from a file on every request. A Kubernetes
// Secret volume or a vault agent can replace the file at any time.
type SecretFile string

// Secret reads the file and returns its content without surrounding white
// space or a leading byte-order mark. Its errors name the file.
func (f SecretFile) Secret() (string, error) {
	fh, err := os.Open(string(f))
	if err != nil {
		return "", err
	}
	defer fh.Close()
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", f, err)
	}
	if len(b) > maxSecretFileSize {
		return "", fmt.Errorf("%s: larger than %d bytes, not a secret", f, maxSecretFileSize)
	}
	// Windows editors start a UTF-8 file with a byte-order mark: not part of the secret.
	s := strings.TrimSpace(strings.TrimPrefix(string(b), "\ufeff"))
	if s == "" {
		return "", fmt.Errorf("%s: file is empty", f)
	}
	return s, nil
}
