package lp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/sample"
)

// TestTLSVerification: against a server with a self-signed certificate, a client verifies and
// fails the handshake (class network, "certificate" in the error) unless its target is marked
// insecure, in which case the whole journey succeeds.
func TestTLSVerification(t *testing.T) {
	h := newHostileLP(t, true, "", nil)
	defer h.close()

	// Verified: the very first request fails, before any credential is sent.
	c := h.client(t, false)
	defer c.http.CloseIdleConnections()
	rec, _, errs := runHostile(t, c, 5*time.Second)
	checkRecord(t, &rec, false, sample.Lookup, sample.ClassNetwork, 0, 0, 0)
	if len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Error(), "certificate") {
		t.Errorf("errors = %v, want one naming the certificate", errs)
	}
	if n := h.hitCount("csds"); n != 0 {
		t.Errorf("the server answered %d requests over an unverified connection", n)
	}

	// Marked insecure: verification is skipped, and everything else works.
	c = h.client(t, true)
	defer c.http.CloseIdleConnections()
	rec, _, errs = runHostile(t, c, 5*time.Second)
	checkRecord(t, &rec, true, 0, 0, 0, 0, 0)
	if len(errs) != 0 {
		t.Errorf("errors = %v, want none", errs)
	}
}

// TestTLSConfig: both the default client and an insecure target's client require TLS 1.2, and
// only the latter skips verification.
func TestTLSConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		client   func() *http.Client
		insecure bool
	}{
		// What NewClient uses without Target.HTTP, and what callers may share.
		{"default", DefaultHTTPClient, false},
		// A target marked local/insecure.
		{"insecure target", func() *http.Client {
			c, err := NewClient(Target{Account: testAccount, CSDS: "https://127.0.0.1:1", InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			return c.http
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.client().Transport.(*http.Transport).TLSClientConfig
			if cfg == nil {
				t.Fatal("no TLS config")
			}
			if got, want := cfg.MinVersion, uint16(tls.VersionTLS12); got != want {
				t.Errorf("MinVersion = %#x, want %#x", got, want)
			}
			if got, want := cfg.InsecureSkipVerify, tc.insecure; got != want {
				t.Errorf("InsecureSkipVerify = %v, want %v", got, want)
			}
		})
	}

	// A server that offers at most TLS 1.1 is refused, even by an insecure target.
	old := httptest.NewUnstartedServer(http.NotFoundHandler())
	old.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	old.Config.ErrorLog = log.New(io.Discard, "", 0)
	old.StartTLS()
	defer old.Close()
	c, err := NewClient(Target{Account: testAccount, CSDS: old.URL, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.http.CloseIdleConnections()
	_, err = c.LookupDomains(context.Background())
	if got, want := ClassOf(err), sample.ClassNetwork; got != want {
		t.Errorf("TLS 1.1 server: class %v (%v), want %v", got, err, want)
	}
}

// TestInsecureRefused: skipping verification is refused for LivePerson's hosts and for a
// caller-supplied HTTP client (whose TLS settings NewClient does not own).
func TestInsecureRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Target
	}{
		// The documented CSDS host.
		{"liveperson CSDS", Target{Account: testAccount, CSDS: "https://api.liveperson.net", InsecureSkipVerify: true}},
		// Case and a trailing dot do not get around it.
		{"liveperson CSDS, odd spelling", Target{Account: testAccount, CSDS: "https://AdminLogin.LivePerson.NET.:443", InsecureSkipVerify: true}},
		// A client of the caller's own.
		{"own HTTP client", Target{Account: testAccount, CSDS: "https://127.0.0.1:1", HTTP: &http.Client{}, InsecureSkipVerify: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewClient(tc.t); err == nil {
				t.Error("NewClient accepted InsecureSkipVerify")
			}
		})
	}
	// Without the flag, LivePerson's hosts are fine.
	if _, err := NewClient(Target{Account: testAccount, CSDS: "https://api.liveperson.net"}); err != nil {
		t.Error(err)
	}
}

// TestJourneyOverTLS: against the simulator over TLS (a host per service), a target trusting the
// simulator's CA file runs the whole journey with certificates verified; one trusting another CA
// fails its first request, class network, with an error naming its CA file, before any
// credential is sent.
func TestJourneyOverTLS(t *testing.T) {
	t.Parallel()
	cfg := lpsim.DefaultConfig()
	cfg.Accounts = cfg.Accounts[:1]
	cfg.Latency, cfg.RegionLatency, cfg.Capacity, cfg.RateLimits = nil, nil, nil, nil
	cfg.TLS = true
	srv, err := lpsim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	other := cfg
	other.TLSCAFile = filepath.Join(t.TempDir(), "other-ca.pem")
	otherSrv, err := lpsim.NewServer(other) // only its CA is used
	if err != nil {
		t.Fatal(err)
	}
	otherSrv.Close()
	acct := srv.Config().Accounts[0]
	pool := func(file string) *x509.CertPool {
		p := x509.NewCertPool()
		b, err := os.ReadFile(file)
		if err != nil || !p.AppendCertsFromPEM(b) {
			t.Fatalf("CA file %s: %v", file, err)
		}
		return p
	}
	for _, tc := range []struct {
		name   string
		caFile string
		ok     bool
	}{
		{"the simulator's CA", srv.CAFile, true},
		{"another CA", other.TLSCAFile, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := NewClient(Target{Name: "tls", Account: acct.ID, CSDS: srv.URL, ClientID: acct.ClientID, ClientSecret: acct.ClientSecret,
				RootCAs: pool(tc.caFile), CAFile: tc.caFile})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdleConnections()
			j := &Journey{Client: c, Epoch: time.Now(), Opts: JourneyOptions{Window: 10 * time.Second, AutoMessages: true,
				Message: "hello", Close: true, RequestTimeout: 5 * time.Second, ConsumerPrefix: "tls-"}}
			var rec sample.Record
			j.Run(context.Background(), &rec)
			if tc.ok {
				if rec.Outcome != sample.OutcomeOK {
					t.Errorf("outcome %v at %v (%v), want ok", rec.Outcome, rec.Failed, rec.Class)
				}
				return
			}
			if rec.Outcome != sample.OutcomeFailed || rec.Failed != sample.Lookup || rec.Class != sample.ClassNetwork {
				t.Fatalf("outcome %v at %v (%v), want failed at the lookup, class network", rec.Outcome, rec.Failed, rec.Class)
			}
			_, err = c.LookupDomains(context.Background())
			if msg := fmt.Sprint(err); !strings.Contains(msg, "certificate not trusted by the CA file "+tc.caFile) || !strings.Contains(msg, "x509") {
				t.Errorf("error %q: want one naming the CA file and the certificate check", msg)
			}
		})
	}
	if n := srv.Ledger().AppJWTsIssued; n != 1 {
		t.Errorf("%d AppJWTs issued, want 1: the failing client sent no credential", n)
	}
}

// TestRootCAsExclusive: RootCAs need the default client and verification.
func TestRootCAsExclusive(t *testing.T) {
	t.Parallel()
	for _, tg := range []Target{
		{Account: testAccount, CSDS: "https://127.0.0.1:1", RootCAs: x509.NewCertPool(), InsecureSkipVerify: true},
		{Account: testAccount, CSDS: "https://127.0.0.1:1", RootCAs: x509.NewCertPool(), HTTP: http.DefaultClient},
	} {
		if _, err := NewClient(tg); err == nil {
			t.Errorf("NewClient(%+v) accepted RootCAs", tg)
		}
	}
}

// TestCertificateError: a failed certificate check says what it was checked against — the CA
// file, or the system's CAs — once, however often it is wrapped; other errors pass unchanged.
func TestCertificateError(t *testing.T) {
	t.Parallel()
	unknown := fmt.Errorf("tls: %w", x509.UnknownAuthorityError{})
	other := errors.New("connection refused")
	for _, tc := range []struct {
		name, caFile string
		err          error
		want         string
	}{
		{"CA file", "ca.pem", unknown, "certificate not trusted by the CA file ca.pem: tls: x509: "},
		{"system's CAs", "", unknown, "certificate not trusted by the system's CAs: tls: x509: "},
		{"said already", "other.pem", CertificateError(unknown, "ca.pem"), "certificate not trusted by the CA file ca.pem: "},
		{"host name", "ca.pem", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "lpsim"}, "certificate not trusted by the CA file ca.pem: x509: "},
		{"not a certificate error", "ca.pem", other, "connection refused"},
	} {
		got := CertificateError(tc.err, tc.caFile)
		if msg := got.Error(); !strings.HasPrefix(msg, tc.want) || strings.Count(msg, "not trusted") > 1 {
			t.Errorf("%s: %q, want it to start with %q, once", tc.name, msg, tc.want)
		}
		if !errors.Is(got, tc.err) || IsCertificateError(got) != IsCertificateError(tc.err) {
			t.Errorf("%s: %v does not wrap %v as it was", tc.name, got, tc.err)
		}
	}
	if CertificateError(nil, "ca.pem") != nil {
		t.Error("CertificateError(nil) is not nil")
	}
}
