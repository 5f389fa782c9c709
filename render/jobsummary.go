package render

// StepSummaryEnv names the file a GitHub Actions job step may append markdown to.
const StepSummaryEnv = "GITHUB_STEP_SUMMARY"

// AppendJobSummary appends what write renders to the job summary that $GITHUB_STEP_SUMMARY
// names (read with getenv), when it is set (AppendStepSummary). It returns the file, "" when
// none is named, and the error of appending to it.
func AppendJobSummary(getenv func(string) string, write Reporter) (string, error) {
	path := getenv(StepSummaryEnv)
	if path == "" {
		return "", nil
	}
	return path, AppendStepSummary(path, write)
}
