package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/exitcode"
)

// TestSimRefusesExistingCAFile: `lpbench sim -tls -tls-ca-file FILE` over a file the simulator
// did not write (a CA bundle) exits 2 naming the flag and the file, and leaves the file as it
// was; so does tls_ca_file of a -config file, naming the config and the key.
func TestSimRefusesExistingCAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := filepath.Join(dir, "bundle.pem")
	const content = "-----BEGIN CERTIFICATE-----\nnot ours\n-----END CERTIFICATE-----\n"
	if err := os.WriteFile(bundle, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "sim.yaml")
	if err := os.WriteFile(config, []byte("tls: true\ntls_ca_file: "+bundle+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "-tls", "-tls-ca-file", bundle}, "lpbench sim: -tls-ca-file " + bundle + " exists and is not a CA certificate of the simulator"},
		{[]string{"sim", "-config", config}, "lpbench sim: " + config + ": tls_ca_file " + bundle + " exists"},
	} {
		type result struct {
			code           exitcode.Code
			stdout, stderr string
		}
		done := make(chan result, 1)
		go func() {
			code, stdout, stderr := runCLI(tc.args...)
			done <- result{code, stdout, stderr}
		}()
		select {
		case r := <-done:
			if r.code != exitcode.Usage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%v: exit %d, want %d saying %q\nstdout:\n%s\nstderr:\n%s", tc.args, r.code, exitcode.Usage, tc.want, r.stdout, r.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%v: still serving after 10s: the CA file was not refused", tc.args)
		}
		if b, err := os.ReadFile(bundle); err != nil || string(b) != content {
			t.Errorf("%v: the bundle was changed (%v): %q", tc.args, err, b)
		}
	}
}
