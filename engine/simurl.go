package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
)

// useSimURL points the profile's simulator targets at the standalone simulator at o.SimURL, with
// the credentials it generated (GET /_lpsim/apps).
func useSimURL(p *profiles.Profile, o *Options) error {
	raw := o.SimURL
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("-sim-url wants the simulator's http://HOST:PORT, got %q", raw)
	}
	base := strings.TrimRight(raw, "/")
	apps, err := simApps(base)
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
		t.CSDS = base
		o.credentials[t.Name] = apps[i]
	}
	return nil
}

// simApps reads the apps (accounts and generated credentials) of the simulator at base.
func simApps(base string) ([]lpsim.App, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/_lpsim/apps")
	if err != nil {
		return nil, fmt.Errorf("-sim-url: %w", err)
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
