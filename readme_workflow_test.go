package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/lpbench/lpbench/exitcode"
	"github.com/lpbench/lpbench/profiles"
)

// workflow is the part of a GitHub Actions workflow the README's example is checked for.
type workflow struct {
	Name string `yaml:"name"`
	On   struct {
		Schedule []struct {
			Cron string `yaml:"cron"`
		} `yaml:"schedule"`
		WorkflowDispatch any `yaml:"workflow_dispatch"`
	} `yaml:"on"`
	Jobs map[string]struct {
		RunsOn  string `yaml:"runs-on"`
		Timeout int    `yaml:"timeout-minutes"`
		Steps   []struct {
			Name string            `yaml:"name"`
			Uses string            `yaml:"uses"`
			Run  string            `yaml:"run"`
			If   string            `yaml:"if"`
			With map[string]string `yaml:"with"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// readmeWorkflow returns the README's nightly workflow: the yaml block that starts with its path.
func readmeWorkflow(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n# .github/workflows/nightly.yml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatal("README.md has no ```yaml block starting with # .github/workflows/nightly.yml")
	}
	return block
}

// TestReadmeWorkflow: the README's nightly GitHub Actions example is valid YAML, runs on a
// schedule, restores and saves the history, uploads the results, runs the nightly profile with
// --history and gates on lpbench history check; every lpbench command it runs exists and every
// flag it gives is one of that command's (as its -h lists them).
func TestReadmeWorkflow(t *testing.T) {
	var wf workflow
	dec := yaml.NewDecoder(strings.NewReader(readmeWorkflow(t)))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("the README's workflow is not valid YAML (or has unexpected keys): %v", err)
	}
	if len(wf.On.Schedule) == 0 || len(strings.Fields(wf.On.Schedule[0].Cron)) != 5 {
		t.Errorf("no cron schedule of 5 fields: %+v", wf.On.Schedule)
	}
	var uses, lines []string
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			uses = append(uses, strings.Split(st.Uses, "@")[0])
			for line := range strings.SplitSeq(st.Run, "\n") {
				if strings.HasPrefix(strings.TrimSpace(line), "./lpbench ") {
					lines = append(lines, strings.TrimSpace(line))
				}
			}
		}
	}
	for _, want := range []string{"actions/cache/restore", "actions/cache/save", "actions/upload-artifact"} {
		if !slices.Contains(uses, want) {
			t.Errorf("the workflow does not use %s", want)
		}
	}
	var sawRun, sawCheck bool
	for _, line := range lines {
		args := shellWords(line)[1:]
		checkCommandLine(t, args)
		sawRun = sawRun || (args[0] == "run" && args[1] == "nightly" && slices.Contains(args, "--history"))
		sawCheck = sawCheck || (len(args) > 1 && args[0] == "history" && args[1] == "check")
	}
	if !sawRun || !sawCheck {
		t.Errorf("the workflow lacks lpbench run nightly --history (%v) or lpbench history check (%v)", sawRun, sawCheck)
	}
}

// shellWords splits a command line at spaces, each ${{ … }} expression taken as one word.
func shellWords(line string) []string {
	return strings.Fields(regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(line, "EXPR"))
}

// checkCommandLine checks args (after "lpbench") against the command table and the flags the
// command's -h lists; a shipped profile named as the argument of run must exist.
func checkCommandLine(t *testing.T, args []string) {
	t.Helper()
	if _, ok := commands[args[0]]; !ok {
		t.Errorf("lpbench %s: no such command", args[0])
		return
	}
	help := []string{args[0]}
	if args[0] == "history" {
		help = append(help, args[1])
	}
	code, stdout, stderr := runCLI(append(help, "-h")...)
	if code != exitcode.OK {
		t.Errorf("lpbench %s -h: exit %d", strings.Join(help, " "), code)
		return
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)`).FindAllStringSubmatch(stdout+stderr, -1) {
		known[m[1]] = true
	}
	for _, a := range args[len(help):] {
		if !strings.HasPrefix(a, "-") {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !known[name] {
			t.Errorf("lpbench %s: no flag -%s (it has %v)", strings.Join(help, " "), name, keys(known))
		}
	}
	if args[0] == "run" && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		if _, err := profiles.Builtin(args[1]); err != nil {
			t.Errorf("lpbench run %s: %v", args[1], err)
		}
	}
}

func keys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
