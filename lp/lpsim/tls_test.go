package lpsim

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
