package relay

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// FuzzFrameReader: whatever a stream holds, reading it never panics, never returns a body
// beyond MaxBody and ends on an error after finitely many frames; and what the relay writes —
// a delivery with any body and signature between the other frame types — reads back as it was,
// frame by frame, with the stream ending cleanly (io.EOF) after the last one.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("{\"type\":\"delivery\",\"seq\":1,\"len\":2}\nab\n"), []byte("body"), "sha1=x", int64(1))
	f.Add([]byte("{\"type\":\"delivery\",\"len\":-1}\n"), []byte{}, "", int64(0))
	f.Add([]byte("{\"type\":\"delivery\",\"len\":99999999}\n"), []byte("\n"), "sha1=\n", int64(-5))
	f.Add([]byte("{\"type\":\"dropped\",\"count\":3}\n{\"type\":\"ping\"}\n"), []byte("x\ny"), "\"", int64(1<<62))
	f.Add([]byte("{\"type\":\"delivery\",\"len\":3}\nab"), []byte("{\"type\":\"bye\"}\n"), "sha1=AAAA", int64(7))
	f.Fuzz(func(t *testing.T, stream, body []byte, sig string, seq int64) {
		readAny(t, stream)
		if len(body) > MaxBody {
			return
		}
		// Header values and names travel as JSON strings: bytes that are not UTF-8 would come
		// back as U+FFFD. LivePerson's headers are ASCII (the signature is Base64).
		roundTrip(t, body, strings.ToValidUTF8(sig, "?"), seq)
	})
}

// readAny reads a stream of arbitrary bytes to its end: each frame read is bounded, and the
// reader stops on an error before it has read more frames than the stream has lines.
func readAny(t *testing.T, stream []byte) {
	t.Helper()
	fr := newFrameReader(bytes.NewReader(stream))
	for n := 0; ; n++ {
		if n > bytes.Count(stream, []byte{'\n'}) {
			t.Fatalf("read %d frames from a stream of %d lines", n, bytes.Count(stream, []byte{'\n'}))
		}
		fm, err := fr.next()
		if err != nil {
			return
		}
		if len(fm.Body) > MaxBody || len(fm.Body) != fm.Len && fm.Type == FrameDelivery {
			t.Fatalf("a %s frame of len %d with a body of %d bytes", fm.Type, fm.Len, len(fm.Body))
		}
	}
}

// roundTrip writes a hello, the delivery, a dropped notice, a ping and a bye as the relay does,
// and reads each back.
func roundTrip(t *testing.T, body []byte, sig string, seq int64) {
	t.Helper()
	h := http.Header{"X-Liveperson-Signature": {sig}, "Content-Type": {"application/json"}, "Authorization": {"not relayed"}}
	frames := []Frame{
		{Type: FrameHello, Seq: seq, Relay: "r1", Subscriber: "shard-0", Target: sig},
		{Type: FrameDelivery},
		{Type: FrameDropped, Count: seq, Total: seq},
		{Type: FramePing},
		{Type: FrameBye},
	}
	var stream []byte
	for _, fm := range frames {
		if fm.Type == FrameDelivery {
			stream = append(stream, deliveryFrame(seq, time.Unix(0, seq), h, body)...)
			continue
		}
		stream = append(stream, encodeFrame(fm)...)
	}
	fr := newFrameReader(bytes.NewReader(stream))
	for i, want := range frames {
		got, err := fr.next()
		if err != nil {
			t.Fatalf("frame %d (%s) of body %q, signature %q: %v", i, want.Type, body, sig, err)
		}
		if want.Type == FrameDelivery {
			checkDelivery(t, got, body, sig, seq)
			continue
		}
		if got.Type != want.Type || got.Seq != want.Seq || got.Count != want.Count || got.Total != want.Total ||
			got.Relay != want.Relay || got.Subscriber != want.Subscriber || got.Target != want.Target {
			t.Fatalf("frame %d: wrote %+v, read %+v", i, want, got)
		}
	}
	if _, err := fr.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last frame: %v, want io.EOF", err)
	}
}

func checkDelivery(t *testing.T, got Frame, body []byte, sig string, seq int64) {
	t.Helper()
	if got.Type != FrameDelivery || got.Seq != seq || got.Received != seq || !bytes.Equal(got.Body, body) {
		t.Fatalf("delivery of %q (seq %d): read %+v", body, seq, got)
	}
	if got.Header["X-Liveperson-Signature"] != sig || got.Header["Content-Type"] != "application/json" || len(got.Header) != 2 {
		t.Fatalf("delivery headers: read %v, want the signature %q and the content type only", got.Header, sig)
	}
}
