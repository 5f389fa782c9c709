// Package history keeps runs in an SQLite file, one row per run with its labels and per-target
// headline metrics, and judges a run against the previous comparable ones.
//
//   - db.go, schema.sql: the file, its identity (application_id, user_version) and schema, opened
//     or refused, never overwritten; WAL and one transaction per append for concurrent writers;
//   - record.go: Run and Metric, made from a result (or a capacity search) and appended;
//   - query.go: runs read back and filtered, a run found by number or run id;
//   - check.go: the regression check (the baseline band, the minimum effect, what is judged);
//   - checkrun.go: the run a check judges, chosen in the file, its options checked, the file of a run;
//   - trend.go, trend_model.go: the trend of comparable runs (Trend), which render draws as
//     text and as trend.html.
//
// SCHEMA.md documents the file for other SQLite readers.
package history
