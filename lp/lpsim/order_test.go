package lpsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// orderNote is what the ordering tests read of a notification: a message's sequence, a state
// change's state and metaDataLastUpdateTs.
type orderNote struct {
	Type string `json:"type"`
	Body struct {
		Changes []struct {
			Sequence *int64 `json:"sequence"`
			Result   struct {
				Details struct {
					State string `json:"state"`
					Meta  int64  `json:"metaDataLastUpdateTs"`
				} `json:"conversationDetails"`
			} `json:"result"`
		} `json:"changes"`
	} `json:"body"`
}

// TestWebhookOrderPerConversation: with a fixed webhook latency and no reorder configured, every
// notification of a conversation is due at the same moment as the others emitted with it, and
// many workers post them; still each conversation's notifications arrive in the order of its
// changes, in 100 of 100 runs: OPEN, the consumer's message, the auto messages by sequence, the
// consumer's next message, CLOSE (metaDataLastUpdateTs increasing). Runs are conversations of
// several consumers at once, on one Sim.
func TestWebhookOrderPerConversation(t *testing.T) {
	t.Parallel()
	const runs, consumers = 100, 10
	rcv := newHookReceiver(t, nil)
	cfg := webhookConfig(rcv.URL)
	cfg.Webhooks.Latency = Fixed(2 * time.Millisecond)
	cfg.Webhooks.AutoMessages = []string{"one", "two", "three", "four", "five"}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := make(chan string, runs)
	var wg sync.WaitGroup
	for k := range consumers {
		wg.Go(func() {
			c := newConsumer(t, s, accA, fmt.Sprintf("order-%d", k))
			for range runs / consumers {
				_, _, id := c.create(t, true)
				c.send(t, id, true)
				c.send(t, id, true)
				c.close(t, id)
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	settle(t, s)
	byConv := rcv.accepted()
	inOrder := 0
	for id := range ids {
		if err := checkOrder(byConv[id], len(cfg.Webhooks.AutoMessages)); err != nil {
			t.Errorf("conversation %s: %v", id, err)
			continue
		}
		inOrder++
	}
	if inOrder != runs {
		t.Errorf("%d of %d runs in sequence order", inOrder, runs)
	}
}

// checkOrder reports how a conversation's deliveries differ from OPEN, sequences 0 to autoN+1,
// CLOSE, in that order.
func checkOrder(ds []delivery, autoN int) error {
	if want := autoN + 4; len(ds) != want {
		return fmt.Errorf("%d deliveries, want %d", len(ds), want)
	}
	var lastMeta int64
	for i, d := range ds {
		var n orderNote
		if err := json.Unmarshal([]byte(d.body), &n); err != nil || len(n.Body.Changes) != 1 {
			return fmt.Errorf("delivery %d: %s", i, d.body)
		}
		ch := n.Body.Changes[0]
		switch {
		case i == 0 || i == len(ds)-1:
			want := map[bool]string{true: "OPEN", false: "CLOSE"}[i == 0]
			if n.Type != typeConversationChange || ch.Result.Details.State != want || ch.Result.Details.Meta <= lastMeta {
				return fmt.Errorf("delivery %d is %s, want the %s change after metaDataLastUpdateTs %d", i, d.body, want, lastMeta)
			}
			lastMeta = ch.Result.Details.Meta
		case n.Type != typeMessagingNotification || ch.Sequence == nil || *ch.Sequence != int64(i-1):
			return fmt.Errorf("delivery %d is %s, want sequence %d", i, d.body, i-1)
		}
	}
	return nil
}

// TestWebhookReorderStillReorders: with reorder configured, the held-back notifications are
// overtaken: some conversation's notifications arrive out of sequence order.
func TestWebhookReorderStillReorders(t *testing.T) {
	t.Parallel()
	const runs = 40
	rcv := newHookReceiver(t, nil)
	cfg := webhookConfig(rcv.URL)
	cfg.Webhooks.Latency = Fixed(time.Millisecond)
	cfg.Webhooks.AutoMessages = []string{"one", "two", "three"}
	cfg.Webhooks.Reorder = 0.5
	cfg.Webhooks.ReorderDelay = 20 * time.Millisecond
	cfg.Seed = 7
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, s, accA, "reorder")
	var ids []string
	for range runs {
		_, _, id := c.create(t, true)
		c.send(t, id, true)
		c.send(t, id, true)
		c.close(t, id)
		ids = append(ids, id)
	}
	l := settle(t, s)
	byConv := rcv.accepted()
	outOfOrder := 0
	for _, id := range ids {
		if checkOrder(byConv[id], 3) != nil {
			outOfOrder++
		}
	}
	if outOfOrder == 0 || l.Webhooks.Reordered == 0 {
		t.Errorf("%d of %d conversations out of order, %d deliveries reordered: reorder had no effect", outOfOrder, runs, l.Webhooks.Reordered)
	}
}

// TestWebhookOrderFailureReleases: a failed attempt does not hold the rest of its conversation
// for its retry: the echo behind a refused OPEN goes out at once, and the OPEN comes after it,
// on its retry.
func TestWebhookOrderFailureReleases(t *testing.T) {
	t.Parallel()
	var first sync.Once
	rcv := newHookReceiver(t, func(*http.Request, int) int {
		status := http.StatusOK
		first.Do(func() { status = http.StatusInternalServerError }) // the first delivery: OPEN
		return status
	})
	cfg := webhookConfig(rcv.URL)
	cfg.Webhooks.Latency = Fixed(time.Millisecond)
	cfg.Webhooks.MaxRetries = 1
	cfg.Webhooks.RetryInterval = 300 * time.Millisecond
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := newConsumer(t, s, accA, "release")
	_, _, id := c.create(t, false) // no auto messages: OPEN, then the echo
	c.send(t, id, false)
	settle(t, s)
	ds := rcv.accepted()[id]
	if len(ds) != 2 || ds[0].note.Type != typeMessagingNotification || ds[1].note.Type != typeConversationChange {
		t.Fatalf("accepted deliveries %+v: want the echo, then the retried OPEN", ds)
	}
	if gap := ds[1].at.Sub(ds[0].at); gap < 200*time.Millisecond {
		t.Errorf("the retried OPEN came %v after the echo: the echo waited for the retry", gap)
	}
}

// TestSkillID: the skillId of a ConsumerRequestConversation, a string or a number as clients
// send it, is the notifications' string; absent or anything else is "" (then "-1", any skill).
func TestSkillID(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{`"123"`: "123", `456`: "456", `"-1"`: "-1", ``: "", `{}`: "", `null`: ""} {
		if got := skillID(json.RawMessage(raw)); got != want {
			t.Errorf("skillID(%s) = %q, want %q", raw, got, want)
		}
	}
}
