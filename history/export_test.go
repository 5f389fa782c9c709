package history

// SeriesForTest is series, for the tests of the renderers' text of a trend (package history_test).
var SeriesForTest = series
