// Package cleanup closes the conversations a killed run left open: it reads the run's journals
// (package journal) under a directory, and for each consumer whose conversation is not recorded
// as closed it gets a ConsumerJWS for the same consumer id and closes that conversation. A
// consumer whose CONVERSATION was in flight at the kill has no conversation id in the journal:
// one consumer holds at most one open conversation, so a new CONVERSATION for it is refused with
// a 400 naming the open one (lp.OpenConversationOf), which is then closed; when it is accepted
// instead, nothing was open, and the conversation it opened is closed at once.
//
// The package owns that procedure and its counts. It knows the journal's entries and the Send
// API through package lp; it knows nothing of profiles' loading, the engine or the command line,
// and prints nothing: it tells its caller what it reads and what it could not close as events
// (Options.Events), none of which holds a credential.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/lpbench/lpbench/journal"
	"github.com/lpbench/lpbench/lp"
	"github.com/lpbench/lpbench/profiles"
)

// Options configure a cleanup.
type Options struct {
	// Live allows closing conversations on LivePerson itself (--live).
	Live bool
	// SimURL and SimCA, when set, replace the standalone simulator the journals name.
	SimURL, SimCA string
	// Getenv reads the credentials of the variables the journals name (default os.Getenv).
	Getenv func(string) string
	// Events, when set, receives an Event per journal read and per consumer left open; it is
	// called from one goroutine at a time.
	Events func(Event)
	// Workers is how many consumers are cleaned up at once (default 8).
	Workers int
	// RequestTimeout bounds each request (default 30 s).
	RequestTimeout time.Duration
}

// Event is one thing a cleanup tells as it goes: a journal read, or a consumer left open.
type Event struct {
	Journal  *JournalRead
	Consumer *ConsumerLeft
}

// JournalRead is a journal read: its run, its consumers, how many may be open, how many of those
// had their CONVERSATION in flight, and how many were on an embedded simulator, gone with the run.
type JournalRead struct {
	Path, RunID                     string
	Consumers, Open, InFlight, Gone int
	Torn                            bool // its last line was torn by the kill and skipped
}

// ConsumerLeft is a consumer the cleanup could not close or resolve: Problem says what went wrong
// (lp errors carry no credential).
type ConsumerLeft struct {
	Target, Consumer, Problem string
}

// Counts are the outcomes of a cleanup, per consumer that the journal left possibly open.
type Counts struct {
	Closed        int // closed by this cleanup
	AlreadyClosed int // found closed already (or nothing was open)
	CouldNotClose int // the conversation is known and still open
	Unresolved    int // the consumer's conversation could not be found
}

// Left returns how many may still be open.
func (c Counts) Left() int { return c.CouldNotClose + c.Unresolved }

func (c *Counts) add(d Counts) {
	c.Closed += d.Closed
	c.AlreadyClosed += d.AlreadyClosed
	c.CouldNotClose += d.CouldNotClose
	c.Unresolved += d.Unresolved
}

// Report is what a cleanup did.
type Report struct {
	Journals  int // journals read
	Consumers int // consumers in them
	Open      int // consumers the journals left possibly open
	InFlight  int // of those, whose CONVERSATION was in flight: no conversation id known
	Gone      int // of those, on an embedded simulator, which ended with its run
	Counts
}

// UsageError is a refusal before anything was sent: no journal, a journal that does not read, a
// live target without Options.Live, credentials missing.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usage(format string, a ...any) error { return &UsageError{fmt.Errorf(format, a...)} }

// Find returns the journals under dir (a run's directory, or a capacity search's with one per
// step), sorted.
func Find(dir string) ([]string, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == journal.FileName {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		return nil, usage("%v", err)
	}
	if len(paths) == 0 {
		return nil, usage("no %s under %s: give the output directory of a run or a capacity search", journal.FileName, dir)
	}
	sort.Strings(paths)
	return paths, nil
}

// plan is the work of one journal: its open consumers and a client per target that has some.
type plan struct {
	log     *journal.Log
	open    []journal.Consumer
	clients map[int]*lp.Client
}

// Run cleans up every journal under dir. It reads them all and builds every client first, so
// that a refusal (a *UsageError) comes before any request; then it resolves each consumer left
// open and records the closes in the journal, so that a second cleanup finds nothing to do.
func Run(ctx context.Context, dir string, o Options) (*Report, error) {
	if o.Events == nil {
		o.Events = func(Event) {}
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 30 * time.Second
	}
	paths, err := Find(dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Journals: len(paths)}
	plans := make([]plan, 0, len(paths))
	for _, path := range paths {
		pl, err := planJournal(ctx, path, &o, rep)
		if err != nil {
			return nil, err
		}
		plans = append(plans, pl)
	}
	for _, pl := range plans {
		c, err := cleanJournal(ctx, pl, &o)
		rep.add(c)
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// planJournal reads the journal at path and builds the clients its open consumers need.
func planJournal(ctx context.Context, path string, o *Options, rep *Report) (plan, error) {
	l, err := journal.Read(path)
	if err != nil {
		return plan{}, usage("%v", err)
	}
	pl := plan{log: l, clients: map[int]*lp.Client{}}
	all := l.Consumers()
	rep.Consumers += len(all)
	gone, inFlight := 0, 0
	for _, c := range all {
		if !c.Open() {
			continue
		}
		if c.Conversation == "" {
			inFlight++
		}
		t := l.Header.Targets[c.Target]
		if t.Kind == profiles.KindSim && t.SimURL == "" && o.SimURL == "" {
			gone++ // the embedded simulator ended with the run, and its conversations with it
			continue
		}
		if _, ok := pl.clients[c.Target]; !ok {
			if pl.clients[c.Target], err = clientFor(ctx, path, t, o); err != nil {
				return plan{}, err
			}
		}
		pl.open = append(pl.open, c)
	}
	rep.Open += len(pl.open) + gone
	rep.Gone += gone
	rep.InFlight += inFlight
	o.Events(Event{Journal: &JournalRead{Path: path, RunID: l.Header.RunID, Consumers: len(all), Open: len(pl.open) + gone,
		InFlight: inFlight, Gone: gone, Torn: l.Torn}})
	return pl, nil
}

// cleanJournal resolves the open consumers of one journal, several at once, recording every
// close in the journal.
func cleanJournal(ctx context.Context, pl plan, o *Options) (Counts, error) {
	var total Counts
	if len(pl.open) == 0 {
		return total, nil
	}
	jl, err := journal.Append(pl.log.Path)
	if err != nil {
		return total, fmt.Errorf("recording the closes: %w", err)
	}
	var mu sync.Mutex
	work := make(chan journal.Consumer)
	var wg sync.WaitGroup
	for range min(o.Workers, len(pl.open)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				w := worker{client: pl.clients[c.Target], jl: jl, o: o, c: c, mu: &mu, name: pl.log.Header.Targets[c.Target].Name}
				d := w.resolve(ctx)
				mu.Lock()
				total.add(d)
				mu.Unlock()
			}
		}()
	}
	for _, c := range pl.open {
		work <- c
	}
	close(work)
	wg.Wait()
	for _, c := range pl.clients {
		c.CloseIdleConnections()
	}
	if err := jl.Close(); err != nil {
		return total, fmt.Errorf("recording the closes: %w", err)
	}
	return total, nil
}

// LeftOpen returns how many consumers the journal at path may have left with an open
// conversation that a cleanup would close (an embedded simulator's ended with its run): a run
// about to write a new journal there must not lose them. A missing journal leaves none.
func LeftOpen(path string) (int, error) {
	l, err := journal.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range l.Consumers() {
		if t := l.Header.Targets[c.Target]; c.Open() && (t.Kind != profiles.KindSim || t.SimURL != "") {
			n++
		}
	}
	return n, nil
}
