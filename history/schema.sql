-- lpbench history, schema version 1: PRAGMA application_id = 1819304552 ('lpbh'),
-- PRAGMA user_version = 1. Times are RFC 3339 in UTC with nanoseconds.
CREATE TABLE runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, -- the run's number in this file, in the order appended
  kind TEXT NOT NULL,                    -- 'run' (lpbench run) or 'capacity' (lpbench capacity)
  run_id TEXT NOT NULL,                  -- the result's run id (shards of one run share it)
  profile TEXT NOT NULL,                 -- profile name
  profile_hash TEXT NOT NULL,            -- sha256 of the effective profile ('' for capacity)
  shard_index INTEGER NOT NULL,
  shard_count INTEGER NOT NULL,          -- 1: a whole run
  start_time TEXT NOT NULL,
  end_time TEXT NOT NULL,
  version TEXT NOT NULL,                 -- lpbench's version
  exit_code INTEGER NOT NULL,            -- the command's exit code (0, 1, 3, 4, 130)
  end_reason TEXT NOT NULL,              -- completed, interrupted, thresholds aborted, failed, partial
  checks_ok INTEGER NOT NULL,            -- 1: no measurement check failed unrelaxed (0: excluded from baselines)
  checks TEXT NOT NULL,                  -- the measurement checks, a JSON array as in result.json ("relaxed": true)
  result_path TEXT NOT NULL,             -- where result.json (capacity.json) was written
  result_sha256 TEXT NOT NULL,           -- sha256 (hex) of that file's bytes
  result_gz BLOB NOT NULL,               -- the whole file, gzip-compressed
  added_time TEXT NOT NULL               -- when the run was appended
);
CREATE TABLE labels (
  seq INTEGER NOT NULL REFERENCES runs (seq),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (seq, key)
) WITHOUT ROWID;
CREATE TABLE metrics (
  seq INTEGER NOT NULL REFERENCES runs (seq),
  target TEXT NOT NULL,                  -- target name ('*' for a capacity search's whole profile)
  metric TEXT NOT NULL,                  -- e.g. served, served.unverified, errors, gap.p99, step.create.p95
  unit TEXT NOT NULL,                    -- 'ns' (a duration), 'share' (0..1), 'per_s' (a rate) or 'count'
  value REAL NOT NULL,
  samples INTEGER NOT NULL,              -- the values behind it: histogram count, or the share's population
  PRIMARY KEY (seq, target, metric)
) WITHOUT ROWID;
CREATE INDEX runs_by_profile ON runs (profile, seq);
