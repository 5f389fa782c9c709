// Package journal owns a run's journal: the append-only file (journal.jsonl in the run's output
// directory) that says which conversations a run opened and which it closed, so that what a
// killed run left open can be found and closed afterwards (lpbench cleanup).
//
// The file is JSON lines: a header first (the run id and, per target, what a cleanup needs to
// reach it: account, CSDS host or simulator URL, the NAMES of the credential environment
// variables, never their values, and the CA file), then one entry per event of a conversation.
// Every entry is written with a single write(2) on a file opened O_APPEND, without a user-space
// buffer: once Write returns, the entry is the kernel's, and a SIGKILL of the process loses
// nothing. Reading tolerates a torn last line (a write cut by a crash or a full disk).
//
// The journal knows nothing of LivePerson's API, of journeys or of the engine: it records and
// reads strings and target indexes; the lp package calls it, the cleanup package reads it.
package journal

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// FileName is the journal's name in a run's output directory.
const FileName = "journal.jsonl"

// Version is the journal format's version, in the header.
const Version = 1

// Kinds of entries.
const (
	KindHeader  = "header"
	KindOpening = "opening" // the consumer is about to send CONVERSATION
	KindOpened  = "opened"  // CONVERSATION answered with this conversation id
	KindRefused = "refused" // CONVERSATION was refused by an answer: nothing was opened
	KindClosed  = "closed"  // the conversation was closed (by the run, or by a cleanup)
)

// Header is the journal's first line: what a cleanup needs to reach every target.
type Header struct {
	Kind    string    `json:"kind"` // KindHeader
	Version int       `json:"v"`
	RunID   string    `json:"run_id"`
	Profile string    `json:"profile,omitempty"`
	Started time.Time `json:"started"`
	// Close is the profile's journey.close: false means the run meant to leave its conversations
	// open.
	Close   bool     `json:"close"`
	Targets []Target `json:"targets"`
}

// Target is one target of the run, by its index in the entries.
type Target struct {
	Name    string `json:"name"`
	Account string `json:"account"`
	// Kind is the profile's kind of target: "sim" (the embedded simulator, gone with the run),
	// "simurl" (a standalone simulator) or "live" (LivePerson).
	Kind string `json:"kind"`
	// CSDS is the CSDS host or URL the run used; SimURL the standalone simulator the run was
	// moved to (-sim-url), whose generated credentials a cleanup asks it for again.
	CSDS   string `json:"csds,omitempty"`
	SimURL string `json:"sim_url,omitempty"`
	// ClientIDEnv and ClientSecretEnv NAME the environment variables of the credentials.
	ClientIDEnv     string  `json:"client_id_env,omitempty"`
	ClientSecretEnv string  `json:"client_secret_env,omitempty"`
	CAFile          string  `json:"ca_file,omitempty"`
	Insecure        bool    `json:"insecure,omitempty"`
	MaxRequestRate  float64 `json:"max_request_rate,omitempty"`
}

// Entry is one event of a conversation.
type Entry struct {
	Kind         string `json:"kind"`
	Target       int    `json:"target"`
	Consumer     string `json:"consumer"`               // the ext_consumer_id
	Conversation string `json:"conversation,omitempty"` // its id, once known
	By           string `json:"by,omitempty"`           // "cleanup" for a close made by one
}

// Journal is an open journal. Its methods are safe for concurrent use; its entry methods do
// nothing on a nil *Journal.
type Journal struct {
	f    *os.File
	w    io.Writer // f; a test counts the writes through it
	err  atomic.Pointer[error]
	pool sync.Pool
}

// Create creates the journal at path, truncating any journal of an earlier run there.
func Create(path string) (*Journal, error) {
	return open(path, os.O_TRUNC)
}

// Append opens the journal at path to add entries (a cleanup records its closes).
func Append(path string) (*Journal, error) {
	return open(path, 0)
}

func open(path string, flag int) (*Journal, error) {
	// O_APPEND: every write lands at the end, whole, whatever other writers do.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|flag, 0o644)
	if err != nil {
		return nil, err
	}
	return &Journal{f: f, w: f}, nil
}

// Path returns the journal's file name.
func (j *Journal) Path() string { return j.f.Name() }

// WriteHeader writes h (its Kind and Version set here) as the journal's first line.
func (j *Journal) WriteHeader(h Header) error {
	h.Kind, h.Version = KindHeader, Version
	b, err := marshalLine(h)
	if err != nil {
		return err
	}
	return j.write(b)
}

// Opening records that consumer of target is about to send CONVERSATION.
func (j *Journal) Opening(target int, consumer string) {
	j.entry(KindOpening, target, consumer, "", "")
}

// Opened records the conversation CONVERSATION opened for consumer.
func (j *Journal) Opened(target int, consumer, conversation string) {
	j.entry(KindOpened, target, consumer, conversation, "")
}

// Refused records that an answer refused consumer's CONVERSATION: nothing was opened.
func (j *Journal) Refused(target int, consumer string) {
	j.entry(KindRefused, target, consumer, "", "")
}

// Closed records that consumer's conversation was closed.
func (j *Journal) Closed(target int, consumer, conversation string) {
	j.entry(KindClosed, target, consumer, conversation, "")
}

// ClosedBy records a close made by someone other than the run (by: "cleanup").
func (j *Journal) ClosedBy(target int, consumer, conversation, by string) {
	j.entry(KindClosed, target, consumer, conversation, by)
}

// Err returns the first write error, if any: an entry that could not be written.
func (j *Journal) Err() error {
	if j == nil {
		return nil
	}
	if p := j.err.Load(); p != nil {
		return *p
	}
	return nil
}

// Close closes the file; it returns the first write error, or the close's.
func (j *Journal) Close() error {
	if j == nil {
		return nil
	}
	err := j.f.Close()
	if werr := j.Err(); werr != nil {
		return werr
	}
	return err
}

// entry formats an entry into a pooled buffer and writes it in one write.
func (j *Journal) entry(kind string, target int, consumer, conversation, by string) {
	if j == nil {
		return
	}
	bp, _ := j.pool.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := append((*bp)[:0], `{"kind":"`...)
	b = append(b, kind...)
	b = append(b, `","target":`...)
	b = strconv.AppendInt(b, int64(target), 10)
	b = append(b, `,"consumer":`...)
	b = appendString(b, consumer)
	if conversation != "" {
		b = append(b, `,"conversation":`...)
		b = appendString(b, conversation)
	}
	if by != "" {
		b = append(b, `,"by":`...)
		b = appendString(b, by)
	}
	b = append(b, "}\n"...)
	_ = j.write(b)
	*bp = b
	j.pool.Put(bp)
}

// write hands b to the kernel in one write(2) call. A regular file takes a small write whole;
// a short write (a full disk) is an error, kept for Err.
func (j *Journal) write(b []byte) error {
	n, err := j.w.Write(b)
	if err == nil && n != len(b) {
		err = errors.New("short write")
	}
	if err != nil {
		err = &os.PathError{Op: "write", Path: j.f.Name(), Err: err}
		j.err.CompareAndSwap(nil, &err)
	}
	return err
}

// marshalLine returns v as one JSON line.
func marshalLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	return append(b, '\n'), err
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		if c < 0x80 {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
