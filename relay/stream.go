package relay

import (
	"bufio"
	"errors"
	"net/http"
	"time"
)

// handleSubscribe serves one subscription stream until the subscriber goes, a write fails or
// times out, or the relay closes.
func (r *Relay) handleSubscribe(w http.ResponseWriter, req *http.Request) {
	target, name := req.PathValue("target"), req.URL.Query().Get("name")
	if name == "" {
		name = "anonymous"
	}
	if !subscriberName.MatchString(name) {
		http.Error(w, "name: 1 to 128 letters, digits, '.', '_' or '-'", http.StatusBadRequest)
		return
	}
	t := r.topic(target)
	if t == nil {
		r.refuseTarget(w)
		return
	}
	s, seq, ok := r.add(t, target, name)
	if !ok {
		http.Error(w, "the relay is shutting down", http.StatusServiceUnavailable)
		return
	}
	reason := "?"
	defer func() { r.remove(t, s, reason) }()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // a proxy in front must not buffer the stream
	w.WriteHeader(http.StatusOK)
	st := &stream{rc: http.NewResponseController(w), bw: bufio.NewWriterSize(w, 64<<10), timeout: r.cfg.WriteTimeout}
	if err := st.write(encodeFrame(Frame{Type: FrameHello, Seq: seq, Relay: r.instance, Subscriber: s.id, Target: target})); err != nil {
		reason = "write failed: " + err.Error()
		return
	}
	reason = r.serveStream(req, s, st)
}

// serveStream writes the subscriber's frames as they are queued and returns why it ended.
func (r *Relay) serveStream(req *http.Request, s *subscriber, st *stream) string {
	ping := time.NewTicker(r.cfg.Ping)
	defer ping.Stop()
	var buf [][]byte
	for {
		select {
		case <-s.wake:
			var err error
			if buf, err = st.flushQueue(s, buf); err != nil {
				return "write failed: " + err.Error()
			}
		case <-ping.C:
			if err := st.write(encodeFrame(Frame{Type: FramePing})); err != nil {
				return "write failed: " + err.Error()
			}
		case <-req.Context().Done():
			return "the subscriber closed the connection"
		case <-r.closing:
			if _, err := st.flushQueue(s, buf); err != nil {
				return "write failed: " + err.Error()
			}
			_ = st.write(encodeFrame(Frame{Type: FrameBye}))
			return "the relay shut down"
		}
	}
}

// stream writes frames to one subscriber, each batch under a write deadline.
type stream struct {
	rc      *http.ResponseController
	bw      *bufio.Writer
	timeout time.Duration
}

// flushQueue writes the queued frames, preceded by a dropped notice when frames were dropped
// since the last batch.
func (st *stream) flushQueue(s *subscriber, buf [][]byte) ([][]byte, error) {
	frames, dropped := s.take(buf)
	if len(frames) == 0 && dropped == 0 {
		return frames, nil
	}
	if err := st.deadline(); err != nil {
		return frames, err
	}
	if dropped > 0 {
		if _, err := st.bw.Write(encodeFrame(Frame{Type: FrameDropped, Count: dropped, Total: s.dropped.Load()})); err != nil {
			return frames, err
		}
	}
	for i, f := range frames {
		if _, err := st.bw.Write(f); err != nil {
			return frames, err
		}
		frames[i] = nil
	}
	s.fannedOut.Add(int64(len(frames)))
	return frames, st.flush()
}

// write writes one frame and flushes.
func (st *stream) write(frame []byte) error {
	if err := st.deadline(); err != nil {
		return err
	}
	if _, err := st.bw.Write(frame); err != nil {
		return err
	}
	return st.flush()
}

func (st *stream) deadline() error {
	err := st.rc.SetWriteDeadline(time.Now().Add(st.timeout))
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

func (st *stream) flush() error {
	if err := st.bw.Flush(); err != nil {
		return err
	}
	return st.rc.Flush()
}
