package history

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// sqlite3Path returns the sqlite3 command-line tool: the second, independent reader of a history
// file. It is skipped where none is installed, except in CI (CI is set), where it fails.
func sqlite3Path(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("sqlite3"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no sqlite3 found, and CI must read the history with it: apt-get install -y sqlite3")
	}
	t.Skip("no sqlite3 found (apt-get install -y sqlite3); CI does not skip this test")
	return ""
}

func sqlite3(t *testing.T, bin, path, q string) string {
	t.Helper()
	out, err := exec.Command(bin, "-batch", "-noheader", path, q).CombinedOutput()
	if err != nil {
		t.Fatalf("sqlite3 %q: %v\n%s", q, err, out)
	}
	return string(out)
}

// schemaStatements returns the statements of schema.sql as SQLite keeps them (sqlite_schema.sql:
// from CREATE to before the semicolon), each followed by ";\n".
func schemaStatements() string {
	var b strings.Builder
	for _, st := range strings.Split(Schema, ";\n") {
		st = strings.TrimSpace(st)
		if i := strings.Index(st, "CREATE "); i >= 0 {
			b.WriteString(st[i:] + ";\n")
		}
	}
	return b.String()
}

// TestSQLite3ReadsTheHistory: the sqlite3 tool of the distribution opens a history lpbench
// wrote, finds the documented schema (SCHEMA.md holds schema.sql verbatim) and its identity, and
// reads the runs and metrics lpbench appended.
func TestSQLite3ReadsTheHistory(t *testing.T) {
	bin := sqlite3Path(t)
	db, path := openNew(t)
	ctx := context.Background()
	for i := range 3 {
		r := newRun("nightly", map[string]string{"env": "ci"}, map[string]float64{"served": 0.998, "step.create.p95": 100 + float64(i)})
		if err := db.Append(ctx, r, []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	got := sqlite3(t, bin, path, "SELECT sql || ';' FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
	if want := schemaStatements(); got != want {
		t.Errorf("sqlite3 finds the schema\n%s\nwant (history/schema.sql)\n%s", got, want)
	}
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```sql\n"+Schema+"```") {
		t.Error("SCHEMA.md does not hold history/schema.sql verbatim")
	}
	for q, want := range map[string]string{
		"PRAGMA application_id":                               strconv.Itoa(ApplicationID),
		"PRAGMA user_version":                                 strconv.Itoa(SchemaVersion),
		"PRAGMA journal_mode":                                 "wal",
		"SELECT count(*) FROM runs WHERE profile = 'nightly'": "3",
		"SELECT group_concat(key || '=' || value) FROM labels WHERE seq = 2":             "env=ci",
		"SELECT value / 1e6 FROM metrics WHERE seq = 3 AND metric = 'step.create.p95'":   "102.0",
		"SELECT unit || ' ' || samples FROM metrics WHERE seq = 1 AND metric = 'served'": "share 1000",
		"SELECT json_extract(checks, '$[0].name') FROM runs WHERE seq = 1":               "generator_lag",
		"SELECT count(*) FROM runs WHERE length(result_gz) > 0 AND checks_ok = 1":        "3",
		"SELECT substr(start_time, 1, 20) FROM runs WHERE seq = 1":                       "2026-12-01T02:00:00.",
		"PRAGMA integrity_check": "ok",
		"SELECT count(*) FROM metrics m LEFT JOIN runs r ON r.seq = m.seq WHERE r.seq IS NULL": "0",
	} {
		if got := strings.TrimSpace(sqlite3(t, bin, path, q)); got != want {
			t.Errorf("sqlite3 %q: %q, want %q", q, got, want)
		}
	}
}
