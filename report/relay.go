package report

import (
	"encoding/json"
	"fmt"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/lpbench/lpbench/hdr"
)

// RelayHop is the distribution of the webhook relay's hop for one target: for each relayed
// delivery, the time from its arrival at the relay (the relay's clock) to its arrival at the
// shard's receiver (the shard's clock). The automsg latency of a relayed run includes it: it is
// measured at the shard, so the relay can only make it look worse, never better; the hop says by
// how much. The two clocks are different machines' (NTP-synchronised in a cluster): a hop that
// came out negative, the relay's clock ahead, counts as 0 and in Behind.
type RelayHop struct {
	H      *hdrhistogram.Histogram
	Behind int64 // hops that came out negative
}

// NewRelayHop returns an empty distribution.
func NewRelayHop() *RelayHop { return &RelayHop{H: hdr.New()} }

// Record adds one hop. Not safe for concurrent use.
func (r *RelayHop) Record(d time.Duration) {
	if d < 0 {
		r.Behind++
	}
	hdr.Record(r.H, d)
}

// relayHopFile is RelayHop in the result file.
type relayHopFile struct {
	histFile
	Behind int64 `json:"clock_behind"`
}

// MarshalJSON writes the histogram as result files write every histogram.
func (r *RelayHop) MarshalJSON() ([]byte, error) {
	hf, err := histToFile(r.H)
	if err != nil {
		return nil, err
	}
	return json.Marshal(relayHopFile{histFile: hf, Behind: r.Behind})
}

// UnmarshalJSON reads it back, checking its geometry.
func (r *RelayHop) UnmarshalJSON(b []byte) error {
	var f relayHopFile
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	h, err := hdr.Decode(f.HDR)
	if err != nil {
		return fmt.Errorf("relay_hop: %w", err)
	}
	r.H, r.Behind = h, f.Behind
	return nil
}

// addRelayHop merges b into a copy of a; nil stands for "not relayed".
func addRelayHop(a, b *RelayHop) (*RelayHop, error) {
	if b == nil {
		return a, nil
	}
	sum := NewRelayHop()
	for _, o := range []*RelayHop{a, b} {
		if o == nil {
			continue
		}
		if err := hdr.Merge(sum.H, o.H); err != nil {
			return nil, fmt.Errorf("relay_hop: %w", err)
		}
		sum.Behind += o.Behind
	}
	return sum, nil
}
