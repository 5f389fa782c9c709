package lpsim

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServerTLS: with tls, every host speaks HTTPS with a certificate the written CA verifies,
// for 127.0.0.1 and localhost alike; CSDS gives the service hosts, a client that trusts another
// CA is refused at the handshake with an unknown-authority error, and Close removes the CA file
// it generated.
func TestServerTLS(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TLS = true
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") || srv.CAFile == "" {
		t.Fatalf("URL %q, CA file %q", srv.URL, srv.CAFile)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(readFile(t, srv.CAFile)) {
		t.Fatalf("%s holds no certificate", srv.CAFile)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	rm := newRemoteClient(srv.URL, client)
	for _, svc := range []string{"sentinel", "idp", "asyncMessagingEnt"} {
		if h := rm.hosts[svc]; h != srv.ServiceURL(svc) || !strings.HasPrefix(h, "https://127.0.0.1:") {
			t.Errorf("%s at %q, want %q", svc, h, srv.ServiceURL(svc))
		}
	}
	c := newConsumer(t, rm, accA, "tls")
	if st, b, _ := c.create(t, true); st != 200 {
		t.Errorf("create over TLS: %d %s", st, b)
	}
	// localhost is in the certificate too.
	local := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if resp, err := client.Get(local + csdsAllPath(accA)); err != nil {
		t.Errorf("CSDS at localhost: %v", err)
	} else {
		resp.Body.Close()
	}
	// Another CA's trust: refused, with a certificate error.
	other := x509.NewCertPool()
	otherTLS, err := newServerTLS("", filepath.Join(t.TempDir(), "other-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	other.AppendCertsFromPEM(otherTLS.caPEM)
	wrong := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: other}}}
	_, err = wrong.Get(srv.URL + csdsAllPath(accA))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("with another CA: %v, want an unknown authority error", err)
	}
	srv.Close()
	if _, err := os.Stat(srv.CAFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the generated CA file is still there after Close: %v", err)
	}
}

// TestServerTLSCAFile: tls_ca_file names where the CA certificate goes; it stays after Close.
func TestServerTLSCAFile(t *testing.T) {
	t.Parallel()
	cfg := testConfig()
	cfg.TLS = true
	cfg.TLSCAFile = filepath.Join(t.TempDir(), "ca.pem")
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	if srv.CAFile != cfg.TLSCAFile {
		t.Errorf("CA file %q, want %q", srv.CAFile, cfg.TLSCAFile)
	}
	if b := readFile(t, cfg.TLSCAFile); !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Errorf("%s: %q", cfg.TLSCAFile, b)
	}
}

// TestServerTLSCAFileExists: a tls_ca_file that exists is overwritten only when it is a CA
// certificate a simulator wrote (a restarted simulator); a CA bundle, a bundle holding the
// simulator's CA beside others, or any other file is refused (CAFileError) and left as it was.
func TestServerTLSCAFileExists(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig()
	cfg.TLS = true
	cfg.TLSCAFile = filepath.Join(dir, "ca.pem")
	first, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()
	firstCA := readFile(t, cfg.TLSCAFile)
	// The simulator's own earlier CA: replaced by the new one.
	second, err := NewServer(cfg)
	if err != nil {
		t.Fatalf("over the simulator's earlier CA file: %v", err)
	}
	second.Close()
	if b := readFile(t, cfg.TLSCAFile); string(b) == string(firstCA) || string(b) != string(second.CA) {
		t.Errorf("the earlier CA file was not replaced by the new CA")
	}
	for name, content := range map[string][]byte{
		"bundle.pem":      foreignCA(t),
		"with-others.pem": append(append([]byte{}, second.CA...), firstCA...),
		"notes.txt":       []byte("not a certificate\n"),
		"empty.pem":       nil,
	} {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, content, 0o600); err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.TLSCAFile = file
		srv, err := NewServer(c)
		var exists *CAFileError
		if err == nil {
			srv.Close()
		}
		if !errors.As(err, &exists) || exists.File != file || !strings.Contains(err.Error(), file+" exists") {
			t.Errorf("%s: %v, want a CAFileError naming it", name, err)
		}
		if b := readFile(t, file); string(b) != string(content) {
			t.Errorf("%s was changed: %q", name, b)
		}
	}
}

// foreignCA returns the PEM certificate of a CA that is not the simulator's.
func foreignCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Example Corp Root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, ca, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
