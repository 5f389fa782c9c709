package hdr

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestDecodeBars: the sparse decoding of a second's histogram holds exactly the non-empty
// buckets of the full decoding, across the whole range; other geometries and damaged input are
// refused.
func TestDecodeBars(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{0, 1, 50, 5000} {
		h := New()
		for range n {
			// Log-uniform from 1 ns to beyond the 10-minute top (clamped), so every bucket shows.
			Record(h, time.Duration(math.Exp(r.Float64()*math.Log(2e12))))
		}
		enc, err := h.EncodeV2()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeBars(string(enc))
		if err != nil {
			t.Fatalf("%d values: %v", n, err)
		}
		var want []Bar
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				want = append(want, Bar{b.To, b.Count})
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d values: %d bars, want %d; first difference at %d", n, len(got), len(want), firstDiff(got, want))
		}
	}
	// The top of the range decodes; an index beyond the geometry does not.
	top := New()
	Record(top, 10*time.Minute)
	enc, _ := top.EncodeV2()
	if bars, err := DecodeBars(string(enc)); err != nil || len(bars) != 1 || bars[0].To < int64(10*time.Minute) {
		t.Errorf("10 minutes: %v, %v", bars, err)
	}
	if _, err := DecodeBars(craftedHistogram(t, countsLen)); err == nil {
		t.Errorf("a count at index %d (beyond the geometry) accepted", countsLen)
	}
	last := craftedHistogram(t, countsLen-1)
	bars, err := DecodeBars(last)
	if err != nil {
		t.Fatalf("a count at the last index: %v", err)
	}
	// The crafted form is HdrHistogram's: the library reads the same bucket.
	h, err := Decode(last)
	if err != nil {
		t.Fatalf("the library refuses the crafted histogram: %v", err)
	}
	if h.TotalCount() != 1 || len(bars) != 1 || h.Max() != bars[0].To {
		t.Errorf("the last index: library max %d of %d values, sparse %v", h.Max(), h.TotalCount(), bars)
	}
	other, _ := hdrhistogram.New(1, 1000, 2).EncodeV2()
	for _, bad := range []string{"", "!!", "AAAAAAAAAAA=", string(other)} {
		if _, err := DecodeBars(bad); err == nil {
			t.Errorf("DecodeBars(%.20q) accepted", bad)
		}
	}
}

func firstDiff(a, b []Bar) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// craftedHistogram encodes, in HdrHistogram's compressed form of lpbench's geometry, a
// histogram whose one count sits at counts index idx (a run of idx empty buckets before it).
func craftedHistogram(t *testing.T, idx int) string {
	t.Helper()
	var payload []byte
	payload = binary.BigEndian.AppendUint32(payload, 0x1c849303) // V2 encoding cookie
	zigzag := func(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }
	var counts []byte
	if idx > 1 {
		counts = binary.AppendUvarint(counts, zigzag(-int64(idx)))
	} else if idx == 1 {
		counts = binary.AppendUvarint(counts, 0)
	}
	counts = binary.AppendUvarint(counts, zigzag(1))
	payload = binary.BigEndian.AppendUint32(payload, uint32(len(counts)))
	payload = binary.BigEndian.AppendUint32(payload, 0) // normalizing index offset
	payload = binary.BigEndian.AppendUint32(payload, uint32(histSigFigs))
	payload = binary.BigEndian.AppendUint64(payload, uint64(Lowest))
	payload = binary.BigEndian.AppendUint64(payload, uint64(histMax))
	payload = binary.BigEndian.AppendUint64(payload, math.Float64bits(1))
	payload = append(payload, counts...)
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(payload)
	zw.Close()
	var raw []byte
	raw = binary.BigEndian.AppendUint32(raw, 0x1c849304) // V2 compressed cookie
	raw = binary.BigEndian.AppendUint32(raw, uint32(z.Len()))
	return base64.StdEncoding.EncodeToString(append(raw, z.Bytes()...))
}

// FuzzDecodeBars: any input decodes to ascending non-empty buckets or an error, never a panic;
// what the library decodes too holds the same buckets.
func FuzzDecodeBars(f *testing.F) {
	h := New()
	r := rand.New(rand.NewPCG(1, 1))
	for range 30 { // log-normal around 90ms, σ 0.3
		Record(h, time.Duration(float64(90*time.Millisecond)*math.Exp(0.3*r.NormFloat64())))
	}
	enc, _ := h.EncodeV2()
	f.Add(string(enc))
	f.Add(craftedHistogram(&testing.T{}, countsLen-1))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		bars, err := DecodeBars(s)
		if err != nil {
			return
		}
		for i, b := range bars {
			if b.Count <= 0 || (i > 0 && b.To <= bars[i-1].To) {
				t.Fatalf("bar %d: %+v after %+v", i, b, bars[max(i-1, 0)])
			}
		}
		lib, err := Decode(s)
		if err != nil {
			return
		}
		var want []Bar
		for _, b := range lib.Distribution() {
			if b.Count > 0 {
				want = append(want, Bar{b.To, b.Count})
			}
		}
		if !slices.Equal(bars, want) {
			t.Fatalf("sparse %v, library %v", bars, want)
		}
	})
}
