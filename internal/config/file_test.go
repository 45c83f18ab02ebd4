package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFileLimits checks that --config reads at most MaxFileSize bytes,
// whatever the file is, and still reads small pipes.
func TestReadFileLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	// A sparse file just over the limit.
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	fifo := func(t *testing.T, content []byte) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
		go func() {
			w, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			defer w.Close()
			w.Write(content)
		}()
		return p
	}
	const limit = "larger than the 16 MiB limit for a configuration file"
	tests := []struct {
		name    string
		path    func(t *testing.T) string
		wantErr string // substring; "" = success
	}{
		{"regular file over the limit", func(*testing.T) string { return big }, limit},
		{"pipe over the limit", func(t *testing.T) string { return fifo(t, make([]byte, MaxFileSize+4096)) }, limit},
		{"endless device", func(*testing.T) string { return "/dev/zero" }, limit},
		{"small pipe", func(t *testing.T) string { return fifo(t, []byte(head+tapMock)) }, ""},
		{"directory", func(*testing.T) string { return dir }, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFile(tt.path(t))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Taps) != 1 {
				t.Fatalf("got %#v", got)
			}
		})
	}
}

// TestOneDocument checks that a second YAML document is an error, for the
// file and for API documents alike, and that trailing empty documents are
// not.
func TestOneDocument(t *testing.T) {
	two := head + tapMock + "---\n" + head + "  taps:\n    other:\n      input_type: mock\n"
	const want = "line 8: a second YAML document starts here; a configuration is one document"
	parsers := map[string]func([]byte) error{
		"Parse":         func(b []byte) error { _, err := Parse(b); return err },
		"ParseTaps":     func(b []byte) error { _, err := ParseTaps(b); return err },
		"ParsePolicies": func(b []byte) error { _, err := ParsePolicies(b, nil); return err },
	}
	for name, parse := range parsers {
		t.Run(name, func(t *testing.T) {
			err := parse([]byte(two))
			if err == nil || err.Error() != want || !errors.Is(err, ErrMultipleDocuments) {
				t.Errorf("got %v, want %q wrapping ErrMultipleDocuments", err, want)
			}
		})
	}
	for _, tail := range []string{"---\n", "--- ~\n", "...\n", "---\n# nothing\n---\n"} {
		if _, err := Parse([]byte(head + tapMock + tail)); err != nil {
			t.Errorf("trailing %q: %v", tail, err)
		}
	}
	// A syntax error in a later document is still an error.
	if _, err := Parse([]byte(head + tapMock + "---\n[\n")); err == nil {
		t.Error("syntax error in the second document accepted")
	}
}
