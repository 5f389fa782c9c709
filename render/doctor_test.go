package render

import (
	"strings"
	"testing"
)

// TestDoctorChecklist: a header (a blank line before all but the first), a PASS line, a FAIL
// with its fix and an indented block to paste, the last line.
func TestDoctorChecklist(t *testing.T) {
	var b strings.Builder
	for _, r := range []Reporter{
		DoctorHeader(0, "a", "1", "https://csds"),
		DoctorLine("PASS", "csds", "idp at x", "", ""),
		DoctorHeader(1, "b", "2", "https://csds"),
		DoctorLine("FAIL", "webhooks", "none", "add them", "{\n  \"a\": 1\n}\n"),
		DoctorVerdict(false),
	} {
		if err := r(&b); err != nil {
			t.Fatal(err)
		}
	}
	want := "target a: account 1, domain API https://csds\nPASS csds: idp at x\n\ntarget b: account 2, domain API https://csds\n" +
		"FAIL webhooks: none\n     fix: add them\n       {\n         \"a\": 1\n       }\n\ndoctor: a check failed (FAIL above, with what to do)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
