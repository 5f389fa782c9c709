package history

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver: no C toolchain needed
)

// Schema is the DDL of a history file, version SchemaVersion: what SCHEMA.md documents and
// what any SQLite client finds in the file.
//
//go:embed schema.sql
var Schema string

// The identity of a history file, in the SQLite header: application_id 'lpbh' and the schema
// version as user_version.
const (
	ApplicationID = 0x6c706268 // "lpbh"
	SchemaVersion = 1
)

// busyTimeout is how long a writer waits for another one's transaction (several shards or two
// nightly jobs appending at once) before it gives up.
const busyTimeoutMS = 30_000

// DB is an open history file.
type DB struct {
	db   *sql.DB
	path string
}

// Open opens the history file at path. With create, a file that does not exist (or is empty) is
// made a new history; without, it must exist. A file that is not an lpbench history (another
// application's SQLite database, a newer schema, anything that is not SQLite, a damaged
// database) is refused with an error naming it, and never written to.
func Open(path string, create bool) (*DB, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && !create:
		return nil, fmt.Errorf("history %s: no such file", path)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("history %s: %w", path, err)
	case err == nil && st.IsDir():
		return nil, fmt.Errorf("history %s: is a directory", path)
	case err == nil && st.Size() > 0:
		if err := sniff(path); err != nil {
			return nil, err
		}
	}
	if dir, err := os.Stat(filepath.Dir(path)); err != nil || !dir.IsDir() {
		return nil, fmt.Errorf("history %s: no directory %s", path, filepath.Dir(path))
	}
	// An SQLite URI, the name escaped (a '%', '?' or '#' in it is the file's own). _txlock=immediate:
	// every transaction takes the write lock at BEGIN, so two appenders queue on busy_timeout
	// instead of failing on a lock upgrade.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_txlock=immediate", busyTimeoutMS)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	h := &DB{db: db, path: path}
	if err := h.init(create); err != nil {
		db.Close()
		return nil, err
	}
	return h, nil
}

// sqliteMagic opens every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// sniff refuses a file that is not an SQLite database before the driver sees it (the driver
// would take an empty journal for a new database and write).
func sniff(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("history %s: %w", path, err)
	}
	defer f.Close()
	head := make([]byte, 100)
	n, _ := f.Read(head)
	if n < 100 || string(head[:16]) != sqliteMagic {
		return fmt.Errorf("history %s: not an lpbench history: not an SQLite database (refused, left as it is)", path)
	}
	return nil
}

// init checks the file's identity, creates the schema in a new file, and turns on WAL (readers
// never block the appender, nor it them).
func (h *DB) init(create bool) error {
	ctx := context.Background()
	app, ver, objects, err := h.identity(ctx)
	if err != nil {
		return err
	}
	switch {
	case app == ApplicationID && ver == SchemaVersion:
	case app == ApplicationID && ver > SchemaVersion:
		return fmt.Errorf("history %s: schema version %d, this lpbench reads version %d: use a newer lpbench (refused, left as it is)", h.path, ver, SchemaVersion)
	case app == ApplicationID:
		return fmt.Errorf("history %s: unknown schema version %d (refused, left as it is)", h.path, ver)
	case objects > 0 || app != 0:
		return fmt.Errorf("history %s: not an lpbench history: an SQLite database of another application (application_id %#x, %d schema objects; refused, left as it is)", h.path, app, objects)
	case !create:
		return fmt.Errorf("history %s: an empty database, no runs", h.path)
	default:
		if err := h.create(ctx); err != nil {
			return err
		}
	}
	if _, err := h.db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return fmt.Errorf("history %s: %w", h.path, err)
	}
	return nil
}

// identity reads the application id, the user version and the number of schema objects, and
// runs SQLite's quick check: a damaged file is refused here.
func (h *DB) identity(ctx context.Context) (app, ver, objects int64, err error) {
	wrap := func(err error) error {
		return fmt.Errorf("history %s: not a readable lpbench history: %w (refused, left as it is)", h.path, err)
	}
	row := h.db.QueryRowContext(ctx, "SELECT (SELECT application_id FROM pragma_application_id), (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_schema)")
	if err := row.Scan(&app, &ver, &objects); err != nil {
		return 0, 0, 0, wrap(err)
	}
	if objects > 0 {
		var check string
		if err := h.db.QueryRowContext(ctx, "PRAGMA quick_check").Scan(&check); err != nil {
			return 0, 0, 0, wrap(err)
		}
		if check != "ok" {
			return 0, 0, 0, wrap(errors.New("damaged database: " + check))
		}
	}
	return app, ver, objects, nil
}

// create makes a new history in one transaction; a concurrent creator that got there first
// wins and this one finds its schema.
func (h *DB) create(ctx context.Context) error {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("history %s: %w", h.path, err)
	}
	defer tx.Rollback()
	var app int64
	if err := tx.QueryRowContext(ctx, "SELECT application_id FROM pragma_application_id").Scan(&app); err != nil {
		return fmt.Errorf("history %s: %w", h.path, err)
	}
	if app == ApplicationID {
		return nil // created meanwhile by another process
	}
	stmts := []string{fmt.Sprintf("PRAGMA application_id = %d", ApplicationID), fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion), Schema}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("history %s: creating the schema: %w", h.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history %s: creating the schema: %w", h.path, err)
	}
	return nil
}

// Path returns the file's path.
func (h *DB) Path() string { return h.path }

// Close closes the file (nil: a no-op).
func (h *DB) Close() error {
	if h == nil {
		return nil
	}
	return h.db.Close()
}
