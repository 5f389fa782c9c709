// Package relay is lpbench's webhook relay for distributed runs. A LivePerson app installation
// has one webhook URL, while a distributed run has many shards, each verifying the auto messages
// of its own consumers: the relay is that one URL. It accepts the Connector API's deliveries at
// /webhook/<target>, answers each at once, and hands it unchanged — the raw body and the
// X-LivePerson-* headers, signature included — to every shard subscribed for that target.
//
// A shard subscribes over a connection it opens itself (GET /subscribe/<target>): the answer is
// a stream of frames, so a shard needs no address the relay could reach. A frame is one line of
// JSON (Frame); a delivery's line is followed by its body, Len raw bytes, and a newline.
// Each subscriber has a bounded queue: a subscriber that reads too slowly loses its oldest
// deliveries, which are counted and announced to it in a "dropped" frame. The relay verifies no
// signature and holds no secret; each shard checks the signatures with its own app secret.
//
// The relay has no notion of a delivery's content: bodies are relayed byte for byte, whatever
// notification they carry.
package relay

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Frame types of a subscription stream.
const (
	FrameHello    = "hello"    // first frame: the subscription is in place
	FrameDelivery = "delivery" // one webhook delivery, unchanged
	FrameDropped  = "dropped"  // deliveries dropped for this subscriber since the last notice
	FramePing     = "ping"     // keep-alive, every Config.Ping
	FrameBye      = "bye"      // the relay shuts down; the stream ends after it
)

// Frame is one line of a subscription stream (JSON). Which fields are set depends on Type.
type Frame struct {
	Type string `json:"type"`
	// Seq numbers the target's deliveries at the relay, from 1 without gaps: a subscriber sees
	// gaps where deliveries were dropped or arrived while it was not subscribed. In a hello
	// frame, the last number given so far.
	Seq int64 `json:"seq,omitempty"`
	// Received is when the relay received the delivery, Unix nanoseconds of its clock.
	Received int64 `json:"received_ns,omitempty"`
	// Header holds the delivery's X-LivePerson-* headers (the signature among them) and its
	// Content-Type, as received.
	Header map[string]string `json:"header,omitempty"`
	// Len is the length of the delivery's body, which follows the line byte for byte.
	Len int `json:"len,omitempty"`
	// Body is the delivery's body, as read after the line.
	Body []byte `json:"-"`
	// Count (dropped) is the deliveries dropped since the last notice; Total all of them since
	// the subscription began.
	Count int64 `json:"count,omitempty"`
	Total int64 `json:"total,omitempty"`
	// Relay (hello) identifies the relay process: a subscriber that reconnects to another one
	// starts counting sequence numbers anew.
	Relay string `json:"relay,omitempty"`
	// Subscriber and Target (hello) name the subscription.
	Subscriber string `json:"subscriber,omitempty"`
	Target     string `json:"target,omitempty"`
}

// relayedHeader reports whether a delivery header is passed on: LivePerson's own headers (the
// signature, account and client ids) and the content type.
func relayedHeader(name string) bool {
	return strings.HasPrefix(name, "X-Liveperson-") || name == "Content-Type"
}

// deliveryFrame returns the encoded frame of one delivery, newline included: it is encoded once
// and the same bytes are queued for every subscriber.
func deliveryFrame(seq int64, at time.Time, h http.Header, body []byte) []byte {
	f := Frame{Type: FrameDelivery, Seq: seq, Received: at.UnixNano(), Header: map[string]string{}, Body: body}
	for k, v := range h {
		if relayedHeader(k) && len(v) > 0 {
			f.Header[k] = v[0]
		}
	}
	return encodeFrame(f)
}

// encodeFrame returns f as one JSON line, followed for a delivery by its body and a newline.
func encodeFrame(f Frame) []byte {
	if f.Type == FrameDelivery {
		f.Len = len(f.Body)
	}
	b, err := json.Marshal(f)
	if err != nil { // strings and numbers only: cannot happen
		panic("relay: encoding a frame: " + err.Error())
	}
	b = append(b, '\n')
	if f.Type == FrameDelivery {
		b = append(append(b, f.Body...), '\n')
	}
	return b
}

// maxFrameLine bounds a frame's JSON line.
const maxFrameLine = 64 << 10

// frameReader reads the frames of a subscription stream.
type frameReader struct{ br *bufio.Reader }

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, maxFrameLine)}
}

// next reads one frame.
func (fr *frameReader) next() (Frame, error) {
	var f Frame
	line, err := fr.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return f, fmt.Errorf("a frame line longer than %d bytes", maxFrameLine)
	}
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(line, &f); err != nil {
		return f, fmt.Errorf("undecodable frame: %w", err)
	}
	if f.Type != FrameDelivery {
		return f, nil
	}
	if f.Len < 0 || f.Len > MaxBody {
		return f, fmt.Errorf("a delivery of %d bytes", f.Len)
	}
	f.Body = make([]byte, f.Len+1)
	if _, err := io.ReadFull(fr.br, f.Body); err != nil {
		return f, fmt.Errorf("a delivery cut short: %w", err)
	}
	if f.Body[f.Len] != '\n' {
		return f, errors.New("a delivery not followed by a newline")
	}
	f.Body = f.Body[:f.Len]
	return f, nil
}
