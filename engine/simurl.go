package engine

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
)

// controlClient returns a client for the simulator control calls of target t (its TLS settings).
func controlClient(t lp.Target) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: lp.TLSConfig(t)}}
}

// certificateError is lp.CertificateError for a call outside the journeys (the simulator's
// control calls): it adds the failure class a journey would record, network, and, when no CA file
// was named, where to name one. Other errors are returned as they are.
func certificateError(err error, caFile string) error {
	if !lp.IsCertificateError(err) {
		return err
	}
	err = lp.CertificateError(err, caFile)
	if caFile == "" {
		return fmt.Errorf("class network: %w (name a CA file: ca_file, or -sim-ca)", err)
	}
	return fmt.Errorf("class network: %w", err)
}

// checkCertificates makes one domain lookup for each target that names a CA file, before the
// run: a certificate its CA file does not vouch for fails the run at once (class network, the
// CA file named) instead of every journey. Other failures are left to the journeys.
func checkCertificates(ctx context.Context, targets []*targetRun) error {
	for _, tr := range targets {
		t := tr.client.Target()
		if t.CAFile == "" {
			continue
		}
		lookup, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := tr.client.LookupDomains(lookup)
		cancel()
		if lp.IsCertificateError(err) {
			return fmt.Errorf("target %s: %w", t.Name, err)
		}
	}
	return nil
}

// useSimURL points the profile's simulator targets at the standalone simulator at o.SimURL, if
// set, with the credentials it generated (GET /_lpsim/apps). Its errors are InputErrors, but a
// failed certificate check: the simulator is there, only not the one the CA file vouches for.
func useSimURL(p *profiles.Profile, o *Options) error {
	if o.SimURL == "" {
		return nil
	}
	if err := moveToSimURL(p, o); err != nil && !lp.IsCertificateError(err) {
		return &InputError{err}
	} else if err != nil {
		return err
	}
	return nil
}

// moveToSimURL is useSimURL for a set o.SimURL.
func moveToSimURL(p *profiles.Profile, o *Options) error {
	raw := o.SimURL
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("-sim-url wants the simulator's http://HOST:PORT (https:// over TLS), got %q", raw)
	}
	switch {
	case u.Scheme == "http" && o.SimCA != "":
		return fmt.Errorf("-sim-ca is for a simulator over TLS: -sim-url %s is plain http", raw)
	case u.Scheme == "https" && o.SimCA == "":
		return fmt.Errorf("-sim-url %s is over TLS: name the CA file its banner prints with -sim-ca FILE", raw)
	}
	var roots *x509.CertPool
	if o.SimCA != "" {
		if roots, err = profiles.LoadCAFile(o.SimCA); err != nil {
			return fmt.Errorf("-sim-ca: %w", err)
		}
	}
	base := strings.TrimRight(raw, "/")
	apps, err := simApps(base, lp.Target{RootCAs: roots, CAFile: o.SimCA})
	if err != nil {
		return err
	}
	o.credentials = map[string]lpsim.App{}
	for i := range p.Targets {
		t := &p.Targets[i]
		if t.Kind() != profiles.KindSim {
			continue
		}
		i := slices.IndexFunc(apps, func(a lpsim.App) bool { return a.Account == t.Account })
		if i < 0 {
			return fmt.Errorf("-sim-url: the simulator at %s has no account %q (target %s)", base, t.Account, t.Name)
		}
		if apps[i].ClientSecret == "" {
			return fmt.Errorf("-sim-url: the simulator at %s does not share account %s's client secret (it was configured, not generated); name it with client_id_env/client_secret_env and csds: %s instead", base, t.Account, base)
		}
		t.CSDS, t.CAFile = base, o.SimCA
		o.credentials[t.Name] = apps[i]
	}
	return nil
}

// simApps reads the apps (accounts and generated credentials) of the simulator at base, with
// t's TLS settings. A failed certificate check names t's CA file.
func simApps(base string, t lp.Target) ([]lpsim.App, error) {
	client := controlClient(t)
	defer client.CloseIdleConnections()
	resp, err := client.Get(base + "/_lpsim/apps")
	if err != nil {
		return nil, fmt.Errorf("-sim-url: %w", certificateError(err, t.CAFile))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("-sim-url: %s answered %s to GET /_lpsim/apps: is it an lpbench simulator?", base, resp.Status)
	}
	var apps []lpsim.App
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&apps); err != nil {
		return nil, fmt.Errorf("-sim-url: GET /_lpsim/apps: %w", err)
	}
	return apps, nil
}
