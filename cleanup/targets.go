package cleanup

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
)

// clientFor builds the client of target t of a journal at path: LivePerson with the credentials
// its environment variables name (only with Options.Live), a standalone simulator with the
// credentials it generated, or a simulator URL with the environment's. Every refusal is a
// *UsageError naming the journal, the target and what to do.
func clientFor(ctx context.Context, path string, t journal.Target, o *Options) (*lp.Client, error) {
	lt := lp.Target{Name: t.Name, Account: t.Account, MaxRequestRate: t.MaxRequestRate, InsecureSkipVerify: t.Insecure, Scheme: "https"}
	where := fmt.Sprintf("%s: target %s (account %s)", path, t.Name, t.Account)
	switch {
	case t.SimURL != "" || (t.Kind == profiles.KindSim && o.SimURL != ""):
		if err := simTarget(ctx, &lt, t, o, where); err != nil {
			return nil, err
		}
	case t.Kind == profiles.KindLive && !o.Live:
		return nil, usage("%s is on LivePerson itself (%s); add --live to confirm. Nothing was sent.", where, t.CSDS)
	case t.CSDS == "":
		return nil, usage("%s has no CSDS host in the journal", where)
	default:
		lt.CSDS = t.CSDS
		if strings.HasPrefix(t.CSDS, "http://") {
			lt.Scheme = "http"
		}
		for _, name := range []string{t.ClientIDEnv, t.ClientSecretEnv} {
			if name == "" || o.Getenv(name) == "" {
				return nil, usage("%s: the credential variable %q is not set (the journal names the variables the run used)", where, name)
			}
		}
		lt.ClientID, lt.ClientSecret = o.Getenv(t.ClientIDEnv), o.Getenv(t.ClientSecretEnv)
		if err := caFile(&lt, t.CAFile, where); err != nil {
			return nil, err
		}
	}
	c, err := lp.NewClient(lt)
	if err != nil {
		return nil, usage("%s: %v", where, err)
	}
	return c, nil
}

// simTarget points lt at the standalone simulator (--sim-url, else the journal's) with the
// credentials it generated for the account.
func simTarget(ctx context.Context, lt *lp.Target, t journal.Target, o *Options, where string) error {
	base, ca := t.SimURL, t.CAFile
	if o.SimURL != "" {
		base, ca = o.SimURL, o.SimCA
	}
	base = strings.TrimRight(base, "/")
	lt.CSDS, lt.Scheme = base, "http"
	if strings.HasPrefix(base, "https://") {
		lt.Scheme = "https"
		if err := caFile(lt, ca, where); err != nil {
			return err
		}
	} else if !strings.HasPrefix(base, "http://") {
		return usage("%s: the simulator URL %q is not http:// or https://", where, base)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: lp.TLSConfig(*lt)}}
	defer hc.CloseIdleConnections()
	apps, err := lpsim.Apps(ctx, hc, base)
	if err != nil {
		return usage("%s: %v (is the simulator of the run still up? name it with --sim-url)", where, err)
	}
	i := slices.IndexFunc(apps, func(a lpsim.App) bool { return a.Account == t.Account })
	if i < 0 || apps[i].ClientSecret == "" {
		return usage("%s: the simulator at %s has no generated credentials for the account", where, base)
	}
	lt.ClientID, lt.ClientSecret = apps[i].ClientID, apps[i].ClientSecret
	return nil
}

// caFile makes lt verify certificates against the CA file, if one is named.
func caFile(lt *lp.Target, file, where string) error {
	if file == "" {
		return nil
	}
	pool, err := profiles.LoadCAFile(file)
	if err != nil {
		return usage("%s: ca_file: %v", where, err)
	}
	lt.RootCAs, lt.CAFile = pool, file
	return nil
}
