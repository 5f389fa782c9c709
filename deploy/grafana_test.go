package deploy

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	dashboardFile = "grafana/lpbench.json"
	// metricNames lists the metrics lpbench exports, name and type a line; the metrics package's
	// test keeps it equal to what a run serves.
	metricNames = "../prom/names.txt"
)

// dashboard is the part of a Grafana dashboard the test reads.
type dashboard struct {
	Title      string
	UID        string
	Templating struct {
		List []struct {
			Name, Type string
			Definition string
		}
	}
	Panels []struct {
		ID         int
		Title      string
		Datasource struct{ Type, UID string }
		Targets    []struct {
			RefID string
			Expr  string
		}
	}
}

// exported reads the metrics lpbench exports, by name, with their types.
func exported(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(metricNames)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, typ, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("%s: %q is not NAME TYPE", metricNames, line)
		}
		names[name] = typ
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("%s lists no metric", metricNames)
	}
	return names
}

// TestGrafanaDashboard: the dashboard is valid JSON; every panel queries the dashboard's
// Prometheus data source; every PromQL expression (and the target variable's query) reads only
// metrics lpbench exports (a histogram's _bucket, _sum and _count series included), at least one
// each; and every exported metric is shown somewhere.
func TestGrafanaDashboard(t *testing.T) {
	data, err := os.ReadFile(filepath.FromSlash(dashboardFile))
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(data) {
		t.Fatalf("%s is not valid JSON", dashboardFile)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	if d.Title == "" || d.UID == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: title %q, uid %q, %d panels: want all three", dashboardFile, d.Title, d.UID, len(d.Panels))
	}
	names := exported(t)
	used := map[string]bool{}
	check := func(where, expr string) {
		ms := metricsIn(expr)
		if len(ms) == 0 {
			t.Errorf("%s: %q reads no metric", where, expr)
		}
		for _, m := range ms {
			base := exportedAs(m, names)
			if base == "" {
				t.Errorf("%s: %q reads %s, which lpbench does not export (%s)", where, expr, m, metricNames)
			}
			used[base] = true
		}
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		where := dashboardFile + ": panel " + p.Title
		if ids[p.ID] {
			t.Errorf("%s: duplicate panel id %d", where, p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: data source %+v, want the dashboard's Prometheus (${datasource})", where, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no query", where)
		}
		for _, tg := range p.Targets {
			check(where+" query "+tg.RefID, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			// label_values(SELECTOR, LABEL): the selector reads the metric.
			expr := v.Definition
			if inner, ok := strings.CutPrefix(expr, "label_values("); ok {
				expr, _, _ = strings.Cut(inner, ",")
			}
			check(dashboardFile+": variable "+v.Name, expr)
		}
	}
	for n := range names {
		if !used[n] {
			t.Errorf("%s shows no panel of %s", dashboardFile, n)
		}
	}
}

// exportedAs returns the exported metric that series name m belongs to (m itself, or the
// histogram whose _bucket, _sum or _count series it is), or "".
func exportedAs(m string, names map[string]string) string {
	if _, ok := names[m]; ok {
		return m
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(m, suffix); ok && names[base] == "histogram" {
			return base
		}
	}
	return ""
}

// keywords are PromQL's words that are not metric names: operators, modifiers and aggregations
// (which "by (…)" may separate from their parenthesis). Function names are told by the
// parenthesis that follows them.
var keywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "atan2", "inf", "nan",
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"}

// metricsIn returns the metric names a PromQL expression (or a Grafana label_values query)
// selects: its identifiers outside label matchers ({…}), ranges ([…]), strings, Grafana
// variables ($name) and the label lists of by, without, on, ignoring, group_left and group_right,
// that are neither keywords nor followed by "(" (functions and aggregations).
func metricsIn(expr string) []string {
	var out []string
	isIdent := func(c byte, first bool) bool {
		return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
	}
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipTo(expr, i, '}')
		case c == '[':
			i = skipTo(expr, i, ']')
		case c == '$' || c >= '0' && c <= '9' || c == '.':
			for i++; i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.' || expr[i] == '{' || expr[i] == '}'); i++ {
			}
		case isIdent(c, true):
			j := i + 1
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			paren := k < len(expr) && expr[k] == '('
			switch {
			case paren && slices.Contains([]string{"by", "without", "on", "ignoring", "group_left", "group_right"}, word):
				j = skipTo(expr, k, ')') // a list of label names
			case paren, slices.Contains(keywords, strings.ToLower(word)):
			default:
				out = append(out, word)
			}
			i = j
		default:
			i++
		}
	}
	return out
}

// skipString returns the index after the quoted string that starts at i.
func skipString(s string, i int) int {
	q := s[i]
	for i++; i < len(s); i++ {
		if s[i] == '\\' && q != '`' {
			i++
		} else if s[i] == q {
			return i + 1
		}
	}
	return i
}

// skipTo returns the index after the close that ends the bracket at i, skipping strings.
func skipTo(s string, i int, close byte) int {
	for i++; i < len(s); {
		switch s[i] {
		case '"', '\'', '`':
			i = skipString(s, i)
		case close:
			return i + 1
		default:
			i++
		}
	}
	return i
}

// TestMetricsIn: the names a PromQL expression selects, and only those.
func TestMetricsIn(t *testing.T) {
	for expr, want := range map[string][]string{
		`histogram_quantile(0.99, sum by (step, le) (rate(lpbench_step_seconds_bucket{target=~"$target", step!="x{y}"}[$__rate_interval])))`: {"lpbench_step_seconds_bucket"},
		`sum(rate(a_total[5m])) by (le) / on(target) group_left(region) b offset 1h or up`:                                                   {"a_total", "b", "up"},
		`1 - sum(x{a="}"}) and bool 2e3`: {"x"},
	} {
		if got := metricsIn(expr); !slices.Equal(got, want) {
			t.Errorf("metricsIn(%q) = %q, want %q", expr, got, want)
		}
	}
}
