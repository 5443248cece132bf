// Package secret reads the secrets the exporter is given: from a file,
// read again each time it is needed (a rotated secret needs no restart), or
// once from the environment. What it reads is checked to be a secret, and
// no error ever says what a file holds.
package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"
)

// Source yields a secret each time it is needed (a request, a connection),
// so that a rotated secret is used without a restart.
type Source interface {
	Secret(ctx context.Context) (string, error)
}

// Static is a secret given once, e.g. from an environment variable.
type Static string

// Secret returns the secret.
func (s Static) Secret(context.Context) (string, error) {
	if s == "" {
		return "", errors.New("is empty")
	}
	return string(s), check(string(s))
}

// maxSecretFileSize bounds a secret file: Confluent's secrets are 64
// characters; a file of more is not a secret file.
const maxSecretFileSize = 4 << 10

// File reads the secret from a file each time. A Kubernetes Secret
// volume or a vault agent can replace the file at any time.
//
// The file must be a regular file of at most 4 KiB holding one line: a
// FIFO, a device, /etc/shadow or /proc/self/environ is refused, never
// read into a password. It is opened without blocking, and a read that
// hangs (a stale network mount) gives up when the context ends; reads of
// one file never pile up. No error says what the file holds, nor names a
// path whose directory does not exist (the secret pasted for its path).
type File string

// Secret reads the file and returns its line, without the trailing newline
// or a leading byte-order mark (Windows editors write one).
func (f File) Secret(ctx context.Context) (string, error) {
	return files.secret(ctx, string(f))
}

// fileReader reads secret files: a read that hangs is waited for by every
// request that needs the file, never started again meanwhile.
type fileReader struct {
	read  func(path string) (string, error)
	reads singleflight.Group
}

var files = &fileReader{read: readSecretFile}

func (fr *fileReader) secret(ctx context.Context, path string) (string, error) {
	c := fr.reads.DoChan(path, func() (any, error) { return fr.read(path) })
	select {
	case r := <-c:
		s, _ := r.Val.(string)
		return s, r.Err
	case <-ctx.Done():
		return "", fmt.Errorf("%s: reading the secret file: %w", describePath(path), context.Cause(ctx))
	}
}

// Watch calls changed each time the file is seen to change, until ctx
// ends: it looks every `every` at what stat says (the file's identity,
// size and modification time, through symlinks: a Kubernetes Secret volume
// swaps a symlink; a file that comes or goes counts too). It never reads
// the file: the next request does.
func (f File) Watch(ctx context.Context, every time.Duration, changed func()) {
	last := statOf(string(f))
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if now := statOf(string(f)); !now.same(last) {
			last = now
			changed()
		}
	}
}

// fileStat is what Watch compares; info is nil when stat failed.
type fileStat struct{ info fs.FileInfo }

func statOf(path string) fileStat {
	info, err := os.Stat(path)
	if err != nil {
		return fileStat{}
	}
	return fileStat{info}
}

func (a fileStat) same(b fileStat) bool {
	if a.info == nil || b.info == nil {
		return a.info == nil && b.info == nil
	}
	return os.SameFile(a.info, b.info) && a.info.Size() == b.info.Size() && a.info.ModTime().Equal(b.info.ModTime())
}

// readSecretFile opens path without blocking (a FIFO would block an open
// for reading until a writer comes), checks that it is a regular file of
// at most maxSecretFileSize bytes, and returns its one line.
func readSecretFile(path string) (string, error) {
	name := describePath(path)
	fh, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path, as os writes it, might be a pasted secret
		}
		if errors.Is(err, fs.ErrPermission) {
			return "", fmt.Errorf("%s: %w: the exporter runs as uid %d, gid %d, which may not read it; "+
				"make the file readable by that user (chown it, or mode 0440 with that group; "+
				"in Kubernetes the pod's securityContext.fsGroup)", name, err, os.Getuid(), os.Getgid())
		}
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file (%s): a secret file is a plain file", name, fileKind(info.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxSecretFileSize+1))
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, errors.Unwrap(err))
	}
	if len(b) > maxSecretFileSize {
		return "", fmt.Errorf("%s: larger than %d bytes, not a secret file", name, maxSecretFileSize)
	}
	s := strings.TrimPrefix(string(b), "\ufeff")
	s = strings.TrimSuffix(strings.TrimSuffix(s, "\n"), "\r")
	s = strings.Trim(s, " ")
	if s == "" {
		return "", fmt.Errorf("%s: file is empty", name)
	}
	if err := check(s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// minSecretLength is the shortest secret taken. Confluent's are 64
// characters; every form of a secret of one or two is in every response
// (a two-character secret is a letter pair; its base64 is three letters),
// and redacting it there would rewrite the data itself.
const minSecretLength = 8

// check refuses what no secret holds: more than one line, control
// characters, bytes that are not UTF-8, fewer than minSecretLength
// characters. The error never quotes it, nor says its length.
func check(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("holds more than one line: a secret is one line")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return errors.New("holds a control character: not a secret")
		}
	}
	if !utf8.ValidString(s) {
		return errors.New("is not UTF-8 text: not a secret")
	}
	if utf8.RuneCountInString(s) < minSecretLength {
		return fmt.Errorf("is shorter than %d characters: not a Confluent secret (they are 64)", minSecretLength)
	}
	return nil
}

// describePath is how errors name a secret file: its path, unless the
// file does not exist and the path names no directory that does (a bare
// word, or a directory that does not exist either): what a secret pasted
// where its path belongs looks like.
func describePath(path string) string {
	if _, err := os.Lstat(path); err == nil {
		return path
	}
	if dir := filepath.Dir(path); strings.ContainsRune(path, '/') && dir != "." {
		if _, err := os.Stat(dir); err == nil {
			return path
		}
	}
	return "the secret file (it does not exist; its path is not shown, in case it is the secret itself)"
}

// fileKind names what a file that is not a regular file is.
func fileKind(m os.FileMode) string {
	for _, k := range fileKinds {
		if m&k.mode != 0 {
			return k.name
		}
	}
	return m.Type().String()
}

var fileKinds = []struct {
	mode os.FileMode
	name string
}{
	{os.ModeDir, "a directory"}, {os.ModeNamedPipe, "a named pipe"}, {os.ModeSocket, "a socket"}, {os.ModeDevice, "a device"},
}
