package profiles

import (
	"fmt"
	"os"

	"github.com/lpbench/lpbench/lp/lpsim"
)

// OpenSimConfig reads a standalone simulator's configuration file (ParseSimConfig); "" is the
// defaults (SimDefaults).
func OpenSimConfig(path string) (lpsim.Config, error) {
	if path == "" {
		return SimDefaults(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return lpsim.Config{}, err
	}
	return ParseSimConfig(path, data)
}

// SimOverride is what lpbench sim's command line changes in the configuration: the
// conversations the ledger keeps (0: the configuration's, -1: all), TLS, and the CA file.
type SimOverride struct {
	LedgerConversations int
	TLS                 bool
	TLSCAFile           string
}

// Apply puts o into cfg, refusing what cannot be (each named as the flag, and the key).
func (o SimOverride) Apply(cfg *lpsim.Config) error {
	switch {
	case o.LedgerConversations < -1:
		return fmt.Errorf("-ledger-conversations %d: give a count of conversations, or -1 to keep them all", o.LedgerConversations)
	case o.LedgerConversations != 0:
		cfg.LedgerConversations = o.LedgerConversations
	}
	cfg.TLS = cfg.TLS || o.TLS
	if o.TLSCAFile != "" {
		cfg.TLSCAFile = o.TLSCAFile
	}
	if cfg.TLSCAFile != "" && !cfg.TLS {
		return fmt.Errorf("-tls-ca-file (tls_ca_file) goes with -tls (tls: true)")
	}
	return nil
}
