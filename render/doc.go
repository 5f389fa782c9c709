// Package render writes every human-readable output of lpbench from the models of report,
// compare and history: the terminal summary, markdown (a CI job's summary), JUnit, the HTML
// pages of a run, a comparison, a capacity search and a history's trend, and the text of
// compare, capacity and trend. It decides nothing (exit codes come from exitcode, verdicts from
// the models) and reads no file: each Write function renders a model to an io.Writer.
//
//   - summary.go: the terminal summary, the threshold table, the interval-log summary;
//   - markdown.go: the run's and the capacity search's markdown;
//   - junit.go: junit.xml;
//   - html.go, html_table.go, html_chart.go, html_svg.go, html.tmpl: report.html and the charts
//     and tables the other pages share;
//   - compare_render.go: compare as text and HTML;
//   - capacity_text.go, capacity_html.go, capacity_html.tmpl: a capacity search;
//   - trend_text.go, trend_html.go, trend_html.tmpl: a history's trend;
//   - outputs.go, capacity_outputs.go: the files a run and a capacity search write into their
//     directories;
//   - stepsummary.go, jobsummary.go: the CI job summary appended to, and where it is;
//   - compare_gates.go: the regression gates a comparison failed;
//   - doctor.go, cleanup.go: doctor's checklist and cleanup's lines as they come, and cleanup's
//     summary;
//   - format.go: the renderers' own value formats (shares, signed differences, wrapped text).
package render
