package main

import (
	"errors"
	"io"

	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/lp/lpsim"
	"github.com/lpbench/lpbench/profiles"
)

// cmdSim serves a standalone simulator until SIGINT or SIGTERM.
func cmdSim(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim", "sim [-listen ADDR] [-config FILE] [-tls [-tls-ca-file FILE]] [-ledger-conversations N]", stderr)
	listen := fs.String("listen", lpsim.DefaultAddr, "address to listen on (loopback unless the config sets allow_remote)")
	config := fs.String("config", "", "simulator configuration (YAML): accounts, latency, capacity, rate limits, faults")
	useTLS := fs.Bool("tls", false, "speak HTTPS with a certificate signed by a CA generated at start, whose file the banner prints (config key tls)")
	caFile := fs.String("tls-ca-file", "", "with -tls: where to write the CA certificate, a file that does not exist or one an earlier lpbench sim wrote (default: a temporary file, removed at exit; config key tls_ca_file)")
	keep := fs.Int("ledger-conversations", 0, "how many of the most recent conversations the ledger keeps in detail, -1 for all (default: the config's, else 20000; config key ledger_conversations)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return flagError(fs, "unexpected argument %q", pos[0])
	}
	cfg, err := profiles.OpenSimConfig(*config)
	if err == nil {
		err = profiles.SimOverride{LedgerConversations: *keep, TLS: *useTLS, TLSCAFile: *caFile}.Apply(&cfg)
	}
	if err != nil {
		return usageErr(err)
	}
	ctx, stop := interrupt.Context()
	defer stop()
	err = lpsim.Serve(ctx, *listen, cfg, stdout)
	var exists *lpsim.CAFileError
	switch {
	case errors.As(err, &exists) && *caFile != "":
		return usageError("-tls-ca-file %v", err)
	case errors.As(err, &exists):
		return usageError("%s: tls_ca_file %v", *config, err)
	case err != nil:
		return usageError("%v", err)
	}
	return nil
}
