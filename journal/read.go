package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Log is a journal as read back.
type Log struct {
	Path    string
	Header  Header
	Entries []Entry
	// Torn reports that the last line was cut short (the run died in the middle of a write, or
	// the disk filled): it was skipped.
	Torn bool
}

// maxLine bounds a journal line (a header with many targets is the longest).
const maxLine = 64 << 10

// Read reads the journal at path. A last line without its newline that does not parse is a torn
// write and is skipped; any other line that does not parse is an error naming the file and line.
func Read(path string) (*Log, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(path, f)
}

func parse(path string, r io.Reader) (*Log, error) {
	l := &Log{Path: path}
	br := bufio.NewReaderSize(r, maxLine)
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes: not a journal", path, n, maxLine)
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		last := err != nil // io.EOF: no newline after this one
		if len(bytes.TrimSpace(line)) > 0 {
			if perr := l.add(line, n); perr != nil {
				if last {
					l.Torn = true
					return l.check()
				}
				return nil, fmt.Errorf("%s:%d: %v: not a journal line (lpbench cleanup reads journal.jsonl files as runs write them)", path, n, perr)
			}
		}
		if last {
			return l.check()
		}
	}
}

// add parses one line: the header first, entries after it.
func (l *Log) add(line []byte, n int) error {
	if n == 1 {
		if err := json.Unmarshal(line, &l.Header); err != nil {
			return err
		}
		if l.Header.Kind != KindHeader {
			return fmt.Errorf("the first line is a %q entry, not the header", l.Header.Kind)
		}
		return nil
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return err
	}
	switch e.Kind {
	case KindOpening, KindOpened, KindRefused, KindClosed:
	default:
		return fmt.Errorf("unknown kind %q", e.Kind)
	}
	if e.Target < 0 || e.Target >= len(l.Header.Targets) {
		return fmt.Errorf("target %d: the header names %d targets", e.Target, len(l.Header.Targets))
	}
	l.Entries = append(l.Entries, e)
	return nil
}

func (l *Log) check() (*Log, error) {
	if l.Header.Kind != KindHeader {
		return nil, fmt.Errorf("%s: no header: the run ended before it started sending (nothing to clean up)", l.Path)
	}
	if l.Header.Version != Version {
		return nil, fmt.Errorf("%s: journal version %d, this lpbench reads version %d", l.Path, l.Header.Version, Version)
	}
	return l, nil
}

// Consumer is what a journal says of one consumer of one target.
type Consumer struct {
	Target   int
	Consumer string
	// Conversation is the id of its last opened conversation ("" when none is known: its
	// CONVERSATION was in flight, or refused).
	Conversation string
	Refused      bool // its CONVERSATION was refused: it opened nothing
	Closed       bool // its last opened conversation was closed
}

// Open reports whether the consumer may hold an open conversation: one opened and not closed,
// or a CONVERSATION whose answer never came (its id is unknown).
func (c Consumer) Open() bool { return !c.Closed && !c.Refused }

// Consumers returns every consumer of the journal, in the order of their first entry, with
// what its entries say.
func (l *Log) Consumers() []Consumer {
	type key struct {
		target   int
		consumer string
	}
	index := map[key]int{}
	var out []Consumer
	for _, e := range l.Entries {
		k := key{e.Target, e.Consumer}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, Consumer{Target: e.Target, Consumer: e.Consumer})
		}
		c := &out[i]
		switch e.Kind {
		case KindOpening:
			// A new attempt: whatever came before was closed or refused.
			c.Conversation, c.Refused, c.Closed = "", false, false
		case KindOpened:
			c.Conversation, c.Refused, c.Closed = e.Conversation, false, false
		case KindRefused:
			c.Refused = c.Conversation == ""
		case KindClosed:
			if e.Conversation == c.Conversation || c.Conversation == "" {
				c.Conversation, c.Closed = e.Conversation, true
			}
		}
	}
	return out
}
