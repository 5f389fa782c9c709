package render

import (
	"fmt"
	"io"
	"strings"
)

// DoctorHeader begins the checklist of doctor's target number index (after a blank line but
// for the first target): its name, account and domain API. (render does not import doctor,
// which imports the engine: the engine's tests render.)
func DoctorHeader(index int, name, account, domain string) Reporter {
	return func(w io.Writer) error {
		if index > 0 {
			fmt.Fprintln(w)
		}
		_, err := fmt.Fprintf(w, "target %s: account %s, domain API %s\n", name, account, domain)
		return err
	}
}

// DoctorLine is one line of doctor's checklist, `STATUS check: seen`, then, when there is one,
// what to do and the block to paste, indented.
func DoctorLine(status, check, seen, fix, paste string) Reporter {
	return func(w io.Writer) error {
		fmt.Fprintf(w, "%s %s: %s\n", status, check, seen)
		if fix != "" {
			fmt.Fprintf(w, "     fix: %s\n", fix)
		}
		if paste != "" {
			for _, s := range strings.Split(strings.TrimRight(paste, "\n"), "\n") {
				fmt.Fprintf(w, "       %s\n", s)
			}
		}
		return nil
	}
}

// DoctorVerdict is doctor's last line: every check passed (ok), or one failed.
func DoctorVerdict(ok bool) Reporter {
	return func(w io.Writer) error {
		if !ok {
			_, err := fmt.Fprintln(w, "\ndoctor: a check failed (FAIL above, with what to do)")
			return err
		}
		_, err := fmt.Fprintln(w, "\ndoctor: every check passed")
		return err
	}
}
