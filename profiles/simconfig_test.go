package profiles

import (
	"strings"
	"testing"
)

// TestSimOverride: the ledger's count and the CA file replace the configuration's, -tls adds
// TLS; a count below -1 and a CA file without TLS are refused, naming the flag.
func TestSimOverride(t *testing.T) {
	cfg := SimDefaults()
	if err := (SimOverride{LedgerConversations: -1, TLS: true, TLSCAFile: "ca.pem"}).Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.LedgerConversations != -1 || !cfg.TLS || cfg.TLSCAFile != "ca.pem" {
		t.Errorf("config %d %v %q", cfg.LedgerConversations, cfg.TLS, cfg.TLSCAFile)
	}
	for o, want := range map[SimOverride]string{{LedgerConversations: -2}: "-ledger-conversations -2", {TLSCAFile: "ca.pem"}: "goes with -tls"} {
		cfg := SimDefaults()
		if err := o.Apply(&cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%+v: %v, want %q", o, err, want)
		}
	}
}
