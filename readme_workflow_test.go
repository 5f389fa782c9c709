package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

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

// readmeWorkflow returns the nightly workflow of docs/nightly-ci.md: the yaml block that starts
// with its path.
func readmeWorkflow(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(nightlyPage)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "```yaml\n# .github/workflows/nightly.yml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("%s has no ```yaml block starting with # .github/workflows/nightly.yml", nightlyPage)
	}
	return block
}

const nightlyPage = "docs/nightly-ci.md"

// TestReadmeWorkflow: the nightly GitHub Actions example of docs/nightly-ci.md is valid YAML,
// runs on a schedule, restores and saves the history, uploads the results, runs the nightly
// profile with --history and gates on lpbench history check; every lpbench command it runs exists
// and every flag it gives is one of that command's (as TestDocsCommands checks every page's).
func TestReadmeWorkflow(t *testing.T) {
	var wf workflow
	dec := yaml.NewDecoder(strings.NewReader(readmeWorkflow(t)))
	dec.KnownFields(true)
	if err := dec.Decode(&wf); err != nil {
		t.Fatalf("the nightly workflow is not valid YAML (or has unexpected keys): %v", err)
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
	flags := &helpFlags{}
	for _, line := range lines {
		args := commandWords(line)[1:]
		for _, p := range flags.check(args) {
			t.Errorf("%s: %s: %s", nightlyPage, line, p)
		}
		sawRun = sawRun || (args[0] == "run" && args[1] == "nightly" && slices.Contains(args, "--history"))
		sawCheck = sawCheck || (len(args) > 1 && args[0] == "history" && args[1] == "check")
	}
	if !sawRun || !sawCheck {
		t.Errorf("the workflow lacks lpbench run nightly --history (%v) or lpbench history check (%v)", sawRun, sawCheck)
	}
}

// The pages' commands are checked unless they stand between these two markers (HTML comments, so
// they do not show): for commands that are documented before they exist. Use them sparingly.
const (
	uncheckedBegin = "<!-- commands: unchecked -->"
	uncheckedEnd   = "<!-- commands: checked -->"
)

// docPages are the pages whose commands are checked: the README and every page of docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, pages...)
}

// TestDocsCommands: every lpbench command the README and docs/*.md show — each line of a code
// block that starts with lpbench, ./lpbench or go run . (joined over trailing backslashes), and
// each inline code span that does — names a command lpbench has (and a history subcommand that
// exists), and its arguments parse with that command's flags as its -h lists them: every flag
// defined, a value where the flag takes one and of the flag's type (placeholders in capitals
// such as D or FILE aside), no flag after a positional argument (lpbench would take it for an
// argument), a shipped profile where run or capacity names one. Blocks fenced as ```text are
// output and not read. Synopsis notation is read as such: [optional] parts are checked as given,
// a|b alternatives of history's subcommand each. Relative links must lead to files that exist.
func TestDocsCommands(t *testing.T) {
	flags := &helpFlags{}
	total := 0
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := pageCommands(string(b))
		if err != nil {
			t.Errorf("%s: %v", page, err)
		}
		for _, c := range cmds {
			for _, p := range flags.check(c.args) {
				t.Errorf("%s:%d: %s: %s", page, c.line, c.text, p)
			}
		}
		total += len(cmds)
		checkLinks(t, page, string(b))
	}
	t.Logf("%d commands checked", total)
	if total < 40 {
		t.Errorf("only %d commands found in the pages: is the extraction broken?", total)
	}
}

// TestDocsCommandsCatches: the check refuses what it is there to refuse.
func TestDocsCommandsCatches(t *testing.T) {
	flags := &helpFlags{}
	for _, tc := range []struct{ line, want string }{
		{"lpbench fly", "no such command"},
		{"lpbench run --no-such-flag", "not defined"},
		{"lpbench run --out", "needs an argument"},
		{"lpbench run --rate fast", "not a float"},
		{"lpbench run --duration 10", "not a duration"},
		{"lpbench run nosuchprofile", "nosuchprofile"},
		{"lpbench compare a.json b.json --targets A,B extra --format html", "after a positional argument"},
		{"lpbench history nope h.db", "no history subcommand"},
		{"lpbench history list|nope h.db", "no history subcommand nope"},
	} {
		cmds, err := pageCommands("```sh\n" + tc.line + "\n```\n")
		if err != nil || len(cmds) != 1 {
			t.Fatalf("%q: %d commands, %v", tc.line, len(cmds), err)
		}
		if got := strings.Join(flags.check(cmds[0].args), "; "); !strings.Contains(got, tc.want) {
			t.Errorf("%q: problems %q, want one with %q", tc.line, got, tc.want)
		}
	}
	for _, ok := range []string{
		"lpbench run nightly --no-progress --out results --history h.db --label env=ci",
		"lpbench capacity FILE --from 50 --max R --step D",
		"lpbench history list|show|trend|check FILE [--profile NAME] [--label K=V]",
		"lpbench sim [--listen 127.0.0.1:PORT] [--config FILE] [--tls [--tls-ca-file FILE]]",
		"lpbench merge SHARD.json... -o MERGED.json [--allow-partial]",
		"go run . run --help",
	} {
		cmds, _ := pageCommands("`" + ok + "`")
		if len(cmds) != 1 {
			t.Fatalf("%q: %d commands", ok, len(cmds))
		}
		if p := flags.check(cmds[0].args); len(p) > 0 {
			t.Errorf("%q: %v", ok, p)
		}
	}
	cmds, err := pageCommands("a\n" + uncheckedBegin + "\n`lpbench fly`\n" + uncheckedEnd + "\n`lpbench run`\n")
	if err != nil || len(cmds) != 1 || cmds[0].line != 5 {
		t.Errorf("markers: %+v, %v; want only the line after them", cmds, err)
	}
	if _, err := pageCommands(uncheckedBegin + "\n"); err == nil {
		t.Error("an unchecked region that is never closed is accepted")
	}
}

// docCommand is one command shown on a page: its line, its text and its words after lpbench.
type docCommand struct {
	line int
	text string
	args []string
}

var (
	inlineCommand = regexp.MustCompile("`((?:\\./)?lpbench(?:\\s[^`]*)?|go run \\.\\s[^`]+)`")
	envAssign     = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=\S*\s+`)
)

// pageCommands returns the lpbench commands of a markdown page, outside the unchecked regions:
// the lines of its code blocks, and its inline code spans (which may break across lines). A block
// fenced as ```text holds output (a summary's "lpbench smoke: …" line), not commands.
func pageCommands(text string) ([]docCommand, error) {
	var cmds []docCommand
	lines := strings.Split(text, "\n")
	prose := make([]string, len(lines)) // the lines outside code blocks and unchecked regions
	inBlock, output, unchecked, begun := false, false, false, 0
	for i := 0; i < len(lines); i++ {
		switch trimmed := strings.TrimSpace(lines[i]); {
		case trimmed == uncheckedBegin:
			unchecked, begun = true, i+1
			continue
		case trimmed == uncheckedEnd:
			unchecked = false
			continue
		case strings.HasPrefix(trimmed, "```"):
			inBlock, output = !inBlock, trimmed == "```text"
			continue
		}
		if unchecked || output {
			continue
		}
		if !inBlock {
			prose[i] = lines[i]
			continue
		}
		start := i
		cmd, ok := blockCommand(lines[i])
		for ok && strings.HasSuffix(cmd, `\`) && i+1 < len(lines) {
			i++
			cmd = strings.TrimSuffix(cmd, `\`) + " " + strings.TrimSpace(lines[i])
		}
		if ok {
			cmd = cutComment(cmd)
			cmds = append(cmds, docCommand{line: start + 1, text: cmd, args: commandWords(cmd)[1:]})
		}
	}
	if unchecked {
		return cmds, fmt.Errorf("line %d: %s is not closed by %s", begun, uncheckedBegin, uncheckedEnd)
	}
	joined := strings.Join(prose, "\n")
	for _, m := range inlineCommand.FindAllStringSubmatchIndex(joined, -1) {
		span := strings.Join(strings.Fields(joined[m[2]:m[3]]), " ")
		line := strings.Count(joined[:m[0]], "\n") + 1
		cmds = append(cmds, docCommand{line: line, text: span, args: commandWords(span)[1:]})
	}
	return cmds, nil
}

// blockCommand returns the command of a code block's line when it runs lpbench: after a prompt,
// a workflow's run:, environment assignments.
func blockCommand(l string) (string, bool) {
	l = strings.TrimSpace(l)
	for _, p := range []string{"$ ", "- run: ", "run: "} {
		l = strings.TrimPrefix(l, p)
	}
	for envAssign.MatchString(l) {
		l = envAssign.ReplaceAllString(l, "")
	}
	for _, p := range []string{"lpbench ", "./lpbench ", "go run . "} {
		if strings.HasPrefix(l, p) {
			return l, true
		}
	}
	return l, l == "lpbench" || l == "./lpbench"
}

// cutComment cuts a code line at its comment (" #"), or at the description a synopsis gives
// after two spaces.
func cutComment(cmd string) string {
	if i := strings.Index(cmd, " #"); i >= 0 {
		cmd = cmd[:i]
	}
	if i := strings.Index(cmd, "  "); i >= 0 {
		cmd = cmd[:i]
	}
	return strings.TrimSpace(cmd)
}

// commandWords splits a command at spaces into words from lpbench on (go run . counts as
// lpbench): ${{ … }} expressions are one word, quotes and synopsis brackets are removed, "..."
// repetitions dropped, and the command ends at a shell operator.
func commandWords(line string) []string {
	line = regexp.MustCompile(`\$\{\{[^}]*\}\}`).ReplaceAllString(line, "EXPR")
	line = strings.Replace(line, "go run . ", "lpbench ", 1)
	var words []string
	for _, w := range strings.Fields(line) {
		if w == "|" || w == "&" || w == ";" || w == "&&" || w == "||" || strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>") {
			break
		}
		w = strings.Trim(w, `"'[]`)
		w = strings.TrimSuffix(strings.TrimSuffix(w, ";"), "&")
		if w == "" && len(words) > 0 && strings.HasPrefix(words[len(words)-1], "-") {
			words = append(words, w) // an empty value ('')
			continue
		}
		if w == "" || w == "..." || w == "…" {
			continue
		}
		words = append(words, w)
	}
	words[0] = "lpbench"
	return words
}

// helpFlags checks command lines against the flags each command's -h lists, read once per
// command.
type helpFlags struct {
	cache map[string]map[string]string // "history check" → flag name → type ("" for a boolean)
}

var helpFlag = regexp.MustCompile(`(?m)^  -([A-Za-z0-9][A-Za-z0-9-]*)(?: (\S+))?(?:\t|$)`)

// of returns the flags of the command (with its history subcommand), nil when it has none.
func (h *helpFlags) of(cmd string) map[string]string {
	if fl, ok := h.cache[cmd]; ok {
		return fl
	}
	code, stdout, stderr := runCLI(append(strings.Fields(cmd), "-h")...)
	var fl map[string]string
	if code == exitcode.OK {
		fl = map[string]string{}
		for _, m := range helpFlag.FindAllStringSubmatch(stdout+stderr, -1) {
			fl[m[1]] = m[2]
		}
	}
	if h.cache == nil {
		h.cache = map[string]map[string]string{}
	}
	h.cache[cmd] = fl
	return fl
}

// check returns what is wrong with args (the words after lpbench).
func (h *helpFlags) check(args []string) []string {
	if len(args) == 0 {
		return nil
	}
	if _, ok := commands[args[0]]; !ok {
		return []string{fmt.Sprintf("no such command %q", args[0])}
	}
	if args[0] != "history" {
		return h.checkArgs(args[0], args[1:])
	}
	if len(args) < 2 {
		return []string{"history without a subcommand"}
	}
	var problems []string
	for _, sub := range strings.Split(args[1], "|") {
		if h.of("history "+sub) == nil {
			problems = append(problems, "no history subcommand "+sub)
			continue
		}
		problems = append(problems, h.checkArgs("history "+sub, args[2:])...)
	}
	return problems
}

// checkArgs parses args as parseArgs does — positional arguments, then flags, then positional
// arguments — with a flag set of cmd's flags.
func (h *helpFlags) checkArgs(cmd string, args []string) []string {
	known := h.of(cmd)
	if known == nil {
		return []string{fmt.Sprintf("lpbench %s -h failed", cmd)}
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for name, typ := range known {
		if typ == "" {
			fs.Bool(name, false, "")
		} else {
			fs.String(name, "", "")
		}
	}
	var problems []string
	pos := 0
	for pos < len(args) && !strings.HasPrefix(args[pos], "-") {
		pos++
	}
	if err := fs.Parse(args[pos:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		return []string{fmt.Sprintf("lpbench %s: %v", cmd, err)}
	}
	for _, a := range fs.Args() {
		if strings.HasPrefix(a, "-") && a != "-" {
			problems = append(problems, fmt.Sprintf("%s comes after a positional argument: lpbench %s takes it for an argument, not a flag", a, cmd))
		}
	}
	fs.Visit(func(f *flag.Flag) {
		if err := valueOfType(f.Value.String(), known[f.Name]); err != nil {
			problems = append(problems, fmt.Sprintf("--%s %s: %v", f.Name, f.Value, err))
		}
	})
	if (cmd == "run" || cmd == "capacity") && len(args) > 0 && regexp.MustCompile(`^[a-z][a-z0-9-]*$`).MatchString(args[0]) {
		if _, err := profiles.Builtin(args[0]); err != nil {
			problems = append(problems, fmt.Sprintf("lpbench %s %s: %v", cmd, args[0], err))
		}
	}
	return problems
}

// placeholder matches a value that stands for one: D, FILE, $VAR, EXPR.
var placeholder = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$|\$|EXPR`)

// valueOfType checks a flag's value against the type -h gives it.
func valueOfType(v, typ string) error {
	if placeholder.MatchString(v) {
		return nil
	}
	var err error
	switch typ {
	case "int":
		_, err = strconv.Atoi(v)
	case "uint", "uint64", "int64":
		_, err = strconv.ParseInt(v, 10, 64)
	case "float":
		if _, err = strconv.ParseFloat(v, 64); err != nil {
			err = errors.New("not a float")
		}
	case "duration":
		if _, err = time.ParseDuration(v); err != nil {
			err = errors.New("not a duration")
		}
	}
	return err
}

var mdLink = regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)

// checkLinks: every relative link of a page leads to a file or directory that exists.
func checkLinks(t *testing.T, page, text string) {
	t.Helper()
	for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
		if strings.Contains(m[1], "://") || strings.HasPrefix(m[1], "mailto:") {
			continue
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(page), m[1])); err != nil {
			t.Errorf("%s: a link to %s, which does not exist", page, m[1])
		}
	}
}
