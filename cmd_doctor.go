package main

import (
	"errors"
	"io"
	"os"

	"github.com/lpbench/lpbench/doctor"
	"github.com/lpbench/lpbench/engine"
	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/interrupt"
	"github.com/lpbench/lpbench/profiles"
	"github.com/lpbench/lpbench/render"
)

// cmdDoctor checks each target of a profile before a run: exit 0 when every check passed (WARN
// allowed), 1 when one failed, 2 on usage.
func cmdDoctor(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("doctor", "doctor [PROFILE|FILE] [--live] [--sim-url URL] [--sim-ca FILE]\n\n"+
		"Checks each target of the profile (default smoke) before a run: CSDS, AppJWT, ConsumerJWS, the clock,\n"+
		"then one conversation (opened and closed) whose notifications tell whether auto messages reach lpbench.\n", stderr)
	live := fs.Bool("live", false, "allow targets on LivePerson itself (required for them): one conversation per target is opened and closed")
	var simURL, simCA string
	registerSim(fs, &simURL, &simCA, "check the profile's simulator targets on this standalone simulator (lpbench sim) instead of an embedded one")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	name, err := profileArg(fs, pos)
	if err != nil {
		return err
	}
	if simCA != "" && simURL == "" {
		return flagError(fs, "--sim-ca goes with --sim-url")
	}
	p, err := profiles.Open(name)
	if err != nil {
		return usageErr(err)
	}
	if p.HasLive() && !*live {
		return usageError("profile %s drives LivePerson itself (targets: %s); add --live to confirm (doctor opens and closes one conversation per target). Nothing was sent.", p.Name, p.LiveNames())
	}
	if err := p.CheckLive(os.Getenv); err != nil {
		return usageErr(err)
	}
	ctx, stop := interrupt.Context()
	defer stop()
	emit := func(e doctor.Event) {
		if h := e.Header; h != nil {
			_ = render.DoctorHeader(h.Index, h.Name, h.Account, h.Domain)(stdout)
		} else if l := e.Line; l != nil {
			_ = render.DoctorLine(string(l.Status), l.Check, l.Seen, l.Fix, l.Paste)(stdout)
		}
	}
	o := doctor.Options{Engine: engine.Options{SimURL: simURL, SimCA: simCA, Getenv: os.Getenv}, Skill: doctor.RoutedSkill, Emit: emit}
	ok, err := doctor.Run(ctx, p, o)
	var in *engine.InputError
	switch {
	case errors.As(err, &in):
		return usageErr(err)
	case err != nil:
		return err
	}
	_ = render.DoctorVerdict(ok)(stdout)
	if !ok {
		return exitCode(exitcode.RunFailed)
	}
	return nil
}
