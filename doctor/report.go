package doctor

import (
	"encoding/json"
	"fmt"
)

// Status is the outcome of one check.
type Status string

// The outcomes: a FAIL makes doctor exit 1; WARN and SKIP do not.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Warn Status = "WARN"
	Skip Status = "SKIP"
)

// Line is one line of the checklist: `STATUS check: seen`, then, for a FAIL (or a WARN that
// has one), what to do, and a block to paste (indented), if any.
type Line struct {
	Status Status
	Check  string
	Seen   string
	Fix    string
	Paste  string
}

// Header begins the checklist of target number Index: its name, account and domain API.
type Header struct {
	Index                 int
	Name, Account, Domain string
}

// Event is what the checklist tells as it goes: a target's Header, or one of its Lines (one of
// the two is set). render writes them.
type Event struct {
	Header *Header
	Line   *Line
}

// checklist is the lines of one target, told as they come.
type checklist struct {
	emit  func(Event)
	lines []Line
}

func (c *checklist) add(l Line) {
	c.lines = append(c.lines, l)
	c.emit(Event{Line: &l})
}

func (c *checklist) pass(check, format string, a ...any) {
	c.add(Line{Status: Pass, Check: check, Seen: fmt.Sprintf(format, a...)})
}

func (c *checklist) skip(check, format string, a ...any) {
	c.add(Line{Status: Skip, Check: check, Seen: fmt.Sprintf(format, a...)})
}

func (c *checklist) fail(check, seen, fix string) {
	c.add(Line{Status: Fail, Check: check, Seen: seen, Fix: fix})
}

// failed reports whether a check failed.
func (c *checklist) failed() bool {
	for _, l := range c.lines {
		if l.Status == Fail {
			return true
		}
	}
	return false
}

// webhookEvents are the event types lpbench reads, each with its webhook in the installation:
// the auto messages and the consumer's echo (ContentEvent, RichContentEvent), and the
// conversation changes (routing, close).
var webhookEvents = []string{
	"ms.MessagingEventNotification.ContentEvent",
	"ms.MessagingEventNotification.RichContentEvent",
	"cqm.ExConversationChangeNotification",
}

// capabilities returns the app installation's capabilities.webhooks for url, ready to paste
// into the installation (LivePerson's Connector API: one endpoint per event type).
func capabilities(url string) string {
	type hook struct {
		Endpoint   string `json:"endpoint"`
		MaxRetries int    `json:"max_retries"`
	}
	hooks := map[string]hook{}
	for _, e := range webhookEvents {
		hooks[e] = hook{Endpoint: url}
	}
	b, _ := json.MarshalIndent(map[string]any{"capabilities": map[string]any{"webhooks": hooks}}, "", "  ")
	return string(b)
}
