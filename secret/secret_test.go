package secret

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestSecretFileSize(t *testing.T) {
	dir := t.TempDir()
	for size, ok := range map[int]bool{maxSecretFileSize: true, maxSecretFileSize + 1: false} {
		path := filepath.Join(dir, strconv.Itoa(size))
		if err := os.WriteFile(path, []byte(strings.Repeat("s", size)), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := File(path).Secret(context.Background())
		if (err == nil) != ok || ok && len(s) != size {
			t.Errorf("a %d-byte secret file: %d bytes, %v; want accepted %v", size, len(s), err, ok)
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("the error does not name the file: %v", err)
		}
	}
}

// TestSecretFileRefusesWhatIsNoSecret: a secret file is a regular file of
// one line; a FIFO (which would block an open for ever), a directory, a
// file of several lines (/etc/shadow) or with control characters
// (/proc/self/environ) is refused at once, and no error quotes what the
// file holds, nor a path that looks like the secret pasted for it.
func TestSecretFileRefusesWhatIsNoSecret(t *testing.T) {
	dir := t.TempDir()
	const secret = "s3cr3t-Value+with/slash"
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"a FIFO", fifo, "not a regular file (a named pipe)"},
		{"a directory", dir, "not a regular file (a directory)"},
		{"a shadow file", write("shadow", "root:$6$"+secret+":19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n"), "holds more than one line"},
		{"an environment", write("environ", "HOME=/root\x00SECRET="+secret+"\x00"), "holds a control character"},
		{"a tab", write("tab", secret+"\tmore"), "holds a control character"},
		{"blank", write("blank", " \n"), "file is empty"},
		{"seven characters", write("short", "abcdefg\n"), "is shorter than 8 characters"},
		{"the secret for its path", secret, "the secret file (it does not exist; its path is not shown"},
		{"in a missing directory", "/nonexistent/" + secret, "the secret file (it does not exist"},
		{"/proc/self/environ", "/proc/self/environ", "holds a control character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			s, err := File(c.path).Secret(ctx)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("read %q, %v; want an error saying %q", s, err, c.want)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "root:") {
				t.Errorf("the error quotes the file or the secret: %v", err)
			}
		})
	}
	for content, want := range map[string]string{
		secret + "\n":           secret,
		secret + "\r\n":         secret,
		"\ufeff" + secret + " ": secret,
		"abcdefgh":              "abcdefgh",
		"ééééééé€\n":            "ééééééé€", // characters, not bytes
	} {
		if s, err := File(write("ok", content)).Secret(context.Background()); err != nil || s != want {
			t.Errorf("%q: read %q, %v", content, s, err)
		}
	}
	if _, err := File(filepath.Join(dir, "missing")).Secret(context.Background()); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "missing")) {
		t.Errorf("a missing file in an existing directory is not named: %v", err)
	}
}

// TestStatic: a secret from the environment is checked as a file's
// line is, and a short one is refused: redacting a secret of a character
// or two from every response would rewrite the data itself.
func TestStatic(t *testing.T) {
	for secret, want := range map[string]string{
		"":                "is empty",
		"abcdefg":         "is shorter than 8 characters",
		"éééé":            "is shorter than 8 characters", // 8 bytes
		"abcdefgh\nijk":   "holds more than one line",
		"abcdefgh\x1bijk": "holds a control character",
		"abcdefgh\xffijk": "is not UTF-8 text",
		"abcdefgh":        "",
	} {
		got, err := Static(secret).Secret(context.Background())
		switch {
		case want == "" && (err != nil || got != secret):
			t.Errorf("a good secret: %v", err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("secret of %d bytes: %v, want %q", len(secret), err, want)
		case err != nil && secret != "" && strings.Contains(err.Error(), secret):
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}

// TestSecretFileReadGivesUp: a read that hangs (a stale network mount)
// gives up when the context ends, and requests meanwhile wait for the one
// read instead of starting more.
func TestSecretFileReadGivesUp(t *testing.T) {
	release := make(chan struct{})
	var started atomic.Int32
	hung := &fileReader{read: func(string) (string, error) { started.Add(1); <-release; return "late", nil }}
	defer close(release)
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			if _, err := hung.secret(ctx, "/hung/mount/secret"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a hung read: %v, want the deadline", err)
			}
		})
	}
	wg.Wait()
	if n := started.Load(); n != 1 {
		t.Errorf("%d reads of the file started, want 1", n)
	}
}

// TestWatchSeesAChange: Watch calls back when the file is written, swapped
// (as a Secret volume swaps a symlink), removed or made again, and not
// while it stays as it is.
func TestWatchSeesAChange(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("first-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); File(path).Watch(ctx, 5*time.Millisecond, func() { calls.Add(1) }) }()
	defer func() { cancel(); <-done }()
	waitCalls := func(what string, want int32) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); calls.Load() < want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d calls, want %d", what, calls.Load(), want)
			}
		}
	}
	// Swapped in, as a Secret volume does, until Watch (started meanwhile)
	// has seen a swap.
	for i, deadline := 0, time.Now().Add(5*time.Second); calls.Load() == 0; i++ {
		if time.Now().After(deadline) {
			t.Fatal("swapped: no call")
		}
		tmp := filepath.Join(dir, "new")
		if err := os.WriteFile(tmp, []byte("second-secret-"+strconv.Itoa(i)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
		for d := time.Now().Add(50 * time.Millisecond); calls.Load() == 0 && time.Now().Before(d); {
			time.Sleep(time.Millisecond)
		}
	}
	calls.Store(1)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitCalls("removed", 2)
	if err := os.WriteFile(path, []byte("third-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	waitCalls("made again", 3)
	// Unchanged for many looks: no call.
	before := calls.Load()
	for range 20 {
		if _, err := File(path).Secret(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := calls.Load(); n != before {
		t.Fatalf("%d calls while the file stayed as it was", n-before)
	}
}

// TestFileKind: what is not a regular file is named for what it is.
func TestFileKind(t *testing.T) {
	for m, want := range map[os.FileMode]string{
		os.ModeDir | 0o755:                        "a directory",
		os.ModeNamedPipe | 0o600:                  "a named pipe",
		os.ModeSocket | 0o600:                     "a socket",
		os.ModeDevice | os.ModeCharDevice | 0o666: "a device",
		os.ModeSymlink | 0o777:                    "L---------",
	} {
		if got := fileKind(m); got != want {
			t.Errorf("fileKind(%v) = %q, want %q", m, got, want)
		}
	}
}

// TestStaticKeepsInnerSpaces: a space is a printable character, not a
// control one: a secret holding one is taken as it is.
func TestStaticKeepsInnerSpaces(t *testing.T) {
	const s = "abcd efgh ijkl"
	src, err := Static(s), check(s)
	if err != nil {
		t.Fatalf("a secret with inner spaces refused: %v", err)
	}
	if got, _ := src.Secret(context.Background()); got != s {
		t.Errorf("Secret() changed the secret")
	}
}
