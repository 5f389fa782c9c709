package hdr

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestNewGeometry(t *testing.T) {
	t.Parallel()
	h := New()
	if got, want := h.LowestTrackableValue(), int64(time.Microsecond); got != want {
		t.Errorf("LowestTrackableValue() = %d, want %d", got, want)
	}
	if got, want := h.HighestTrackableValue(), int64(10*time.Minute); got != want {
		t.Errorf("HighestTrackableValue() = %d, want %d", got, want)
	}
	if got, want := h.SignificantFigures(), int64(3); got != want {
		t.Errorf("SignificantFigures() = %d, want %d", got, want)
	}
}

func TestHistogramsMergeWithoutLoss(t *testing.T) {
	t.Parallel()
	a, b := New(), New()
	for _, d := range []time.Duration{0, time.Microsecond, 50 * time.Millisecond, 9 * time.Second} {
		Record(a, d)
	}
	for _, d := range []time.Duration{3 * time.Microsecond, time.Second, 10 * time.Minute, 20 * time.Minute} {
		Record(b, d)
	}
	if got, want := a.Merge(b), int64(0); got != want {
		t.Errorf("Merge dropped %d values, want %d", got, want)
	}
	if got, want := a.TotalCount(), int64(8); got != want {
		t.Errorf("TotalCount() after merge = %d, want %d", got, want)
	}
	if got, want := time.Duration(a.Max()), 10*time.Minute; !a.ValuesAreEquivalent(int64(got), int64(want)) {
		t.Errorf("Max() after merge = %v, want ≈ %v", got, want)
	}
}

func TestRecordClamps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   time.Duration
		want time.Duration // the value the histogram holds (to its resolution)
	}{
		// Clock granularity can make an end precede its begin: counted as 0.
		{"negative", -5 * time.Microsecond, 0},
		// The most negative duration.
		{"min int64", math.MinInt64, 0},
		// Zero is below the lowest discernible value but still counted.
		{"zero", 0, 0},
		// The lowest discernible value.
		{"1µs", time.Microsecond, time.Microsecond},
		// An ordinary value.
		{"50ms", 50 * time.Millisecond, 50 * time.Millisecond},
		// Exactly the top of the range.
		{"10min", 10 * time.Minute, 10 * time.Minute},
		// Just above the range: clamped.
		{"10min+1ns", 10*time.Minute + 1, 10 * time.Minute},
		// Far above the range: clamped, not lost.
		{"1h", time.Hour, 10 * time.Minute},
		// The largest duration.
		{"max int64", math.MaxInt64, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := New()
			Record(h, tt.in)
			if got, want := h.TotalCount(), int64(1); got != want {
				t.Fatalf("TotalCount() = %d, want %d", got, want)
			}
			if got := Percentile(h, 100); !h.ValuesAreEquivalent(int64(got), int64(tt.want)) {
				t.Errorf("recorded %v as %v, want ≈ %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPercentileAndMean(t *testing.T) {
	t.Parallel()
	h := New()
	for i := 1; i <= 100; i++ {
		Record(h, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		p    float64
		want time.Duration
	}{
		// percentiles are 0–100, not 0–1: p1 is the smallest value here.
		{1, time.Millisecond},
		// The median.
		{50, 50 * time.Millisecond},
		// The tail.
		{99, 99 * time.Millisecond},
		// The maximum.
		{100, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := Percentile(h, tt.p); !h.ValuesAreEquivalent(int64(got), int64(tt.want)) {
			t.Errorf("Percentile(%g) = %v, want ≈ %v", tt.p, got, tt.want)
		}
	}
	if got, want := Mean(h), 50500*time.Microsecond; math.Abs(float64(got-want)) > 0.001*float64(want) {
		t.Errorf("Mean() = %v, want %v ± 0.1%%", got, want)
	}
}

// TestEmptyHistogramStatistics: every statistic of an empty histogram is 0, so an empty row
// renders as zeros rather than as the top of the lowest bucket.
func TestEmptyHistogramStatistics(t *testing.T) {
	t.Parallel()
	h := New()
	tests := []struct {
		name string
		got  time.Duration
	}{
		{"Percentile(50)", Percentile(h, 50)},   // the median of nothing
		{"Percentile(100)", Percentile(h, 100)}, // the top percentile of nothing
		{"Mean", Mean(h)},                       // the mean of nothing
		{"MinOf", MinOf(h)},                     // the smallest of nothing
		{"maxOf", MaxOf(h)},                     // hdrhistogram's own Max reports 511ns here
	}
	for _, tt := range tests {
		if tt.got != 0 {
			t.Errorf("%s of an empty histogram = %v, want 0", tt.name, tt.got)
		}
	}
	if got, want := CountOf(nil), int64(0); got != want {
		t.Errorf("CountOf(nil) = %d, want %d", got, want)
	}
}

// TestPercentilesMatchPercentile: the one-pass form gives what Percentile gives one at a time.
func TestPercentilesMatchPercentile(t *testing.T) {
	t.Parallel()
	h := New()
	for i := 1; i <= 1000; i++ {
		Record(h, time.Duration(i*i)*time.Microsecond)
	}
	ps := []float64{0, 10, 50, 90, 99, 99.9, 100}
	for i, got := range Percentiles(h, ps) {
		if want := Percentile(h, ps[i]); got != want {
			t.Errorf("Percentiles(%g) = %v, Percentile = %v", ps[i], got, want)
		}
	}
}

// reencodeWithGeometry returns h encoded (V2, compressed, base64) with its header's geometry
// replaced by g: what a damaged or hostile result file may hold.
func reencodeWithGeometry(t *testing.T, h *hdrhistogram.Histogram, g geometry) string {
	t.Helper()
	enc, err := h.EncodeV2()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(string(enc))
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	binary.BigEndian.PutUint32(body[12:16], uint32(g.sigFigs))
	binary.BigEndian.PutUint64(body[16:24], uint64(g.lowest))
	binary.BigEndian.PutUint64(body[24:32], uint64(g.highest))
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	out := append(append([]byte(nil), raw[:8]...), z.Bytes()...)
	binary.BigEndian.PutUint32(out[4:8], uint32(z.Len()))
	return base64.StdEncoding.EncodeToString(out)
}

// TestDecodeGeometry: Decode reads back lpbench's histograms and refuses any
// other geometry, from the header alone — a header claiming an enormous range must be refused
// before hdrhistogram allocates for it.
func TestDecodeGeometry(t *testing.T) {
	t.Parallel()
	h := New()
	Record(h, 42*time.Millisecond)
	tests := []struct {
		name    string
		g       geometry
		wantErr string
	}{
		// lpbench's own geometry decodes.
		{"lpbench's", lpbenchGeometry, ""},
		// A finer lowest value.
		{"lowest", geometry{1, histMax, histSigFigs}, "geometry differs"},
		// A range of 2^62 ns: decoding would allocate gigabytes.
		{"enormous highest", geometry{Lowest, 1 << 62, histSigFigs}, "geometry differs"},
		// Five digits: counts arrays a hundred times larger.
		{"digits", geometry{Lowest, histMax, 5}, "geometry differs"},
	}
	for _, tt := range tests {
		got, err := Decode(reencodeWithGeometry(t, h, tt.g))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.wantErr == "" && (got.TotalCount() != 1 || Percentile(got, 50) != Percentile(h, 50)):
			t.Errorf("%s: decoded %d values, p50 %v; want 1, %v", tt.name, got.TotalCount(), Percentile(got, 50), Percentile(h, 50))
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.wantErr)
		}
	}
}

// TestDecodeRefusesBeforeAllocating: a header claiming the widest geometry is refused
// from the header alone; decoding it first would allocate its counts (some 50 MB). Not parallel:
// it reads the process's allocation total.
func TestDecodeRefusesBeforeAllocating(t *testing.T) {
	s := reencodeWithGeometry(t, New(), geometry{1, math.MaxInt64, 5})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(s)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "geometry differs") {
		t.Errorf("err = %v, want a geometry error", err)
	}
	if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(8<<20); got > limit {
		t.Errorf("refusing the header allocated %d bytes, want at most %d", got, limit)
	}
}

// TestDecodeRefusesRatio: a histogram whose conversion ratio is not 1 (lpbench counts
// nanoseconds, and its encoder writes 1) is refused by both decoders, naming the ratio.
func TestDecodeRefusesRatio(t *testing.T) {
	t.Parallel()
	snap := New().Export()
	snap.IntegerToDoubleConversionRatio = 0.5
	h := hdrhistogram.Import(snap)
	_ = h.RecordValue(int64(time.Millisecond))
	enc, err := h.EncodeV2()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(string(enc)); err == nil || !strings.Contains(err.Error(), "conversion ratio 0.5") {
		t.Errorf("decodeHistogram: %v, want the ratio refused", err)
	}
	if _, err := DecodeBars(string(enc)); err == nil || !strings.Contains(err.Error(), "conversion ratio 0.5") {
		t.Errorf("decodeBars: %v, want the ratio refused", err)
	}
}

// TestDecodeUndecodable: input that is not an encoded histogram is an error, not a panic.
func TestDecodeUndecodable(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"",                     // nothing
		"not base64!",          // not base64
		"SElTVEY=",             // base64 of 5 bytes: shorter than the cookie and length
		"SElTVEYwMDAwMDAwMDA=", // a cookie and length, then no zlib stream
	} {
		if _, err := Decode(s); err == nil || !strings.Contains(err.Error(), "undecodable") {
			t.Errorf("Decode(%q) err = %v, want undecodable", s, err)
		}
	}
}

// TestMergeGeometry: histograms of one geometry merge exactly; another geometry is
// refused before anything is added.
func TestMergeGeometry(t *testing.T) {
	t.Parallel()
	into, from := New(), New()
	Record(into, time.Millisecond)
	Record(from, time.Second)
	if err := Merge(into, from); err != nil {
		t.Fatal(err)
	}
	if got, want := into.TotalCount(), int64(2); got != want {
		t.Errorf("merged count = %d, want %d", got, want)
	}
	other := hdrhistogram.New(Lowest, histMax, 2)
	other.RecordValue(int64(time.Second))
	if err := Merge(into, other); err == nil || !strings.Contains(err.Error(), "2 digits") {
		t.Errorf("merging 2 digits into 3: err = %v, want a geometry error naming both", err)
	}
	if got, want := into.TotalCount(), int64(2); got != want {
		t.Errorf("count after a refused merge = %d, want %d", got, want)
	}
}

// TestEncodeAsLibrary: the pooled encoder writes, byte for byte, what the library's
// EncodeV2 writes: empty histograms, one value, the range's ends, every bucket's borders, runs
// of one empty bucket, large counts, random log-normal seconds; and another geometry goes to the
// library.
func TestEncodeAsLibrary(t *testing.T) {
	t.Parallel()
	cases := map[string]func(h *hdrhistogram.Histogram){
		"empty":     func(*hdrhistogram.Histogram) {},
		"one value": func(h *hdrhistogram.Histogram) { Record(h, 42*time.Millisecond) },
		"the ends":  func(h *hdrhistogram.Histogram) { Record(h, 0); Record(h, time.Duration(histMax)) },
		"borders": func(h *hdrhistogram.Histogram) {
			for idx := int64(0); idx < countsLen; idx += 37 {
				_ = h.RecordValue(highestOfIndex(idx))
				_ = h.RecordValue(highestOfIndex(idx) + 1)
			}
		},
		"single gaps": func(h *hdrhistogram.Histogram) {
			for idx := int64(3000); idx < 3100; idx += 2 {
				_ = h.RecordValue(highestOfIndex(idx))
			}
		},
		"large counts": func(h *hdrhistogram.Histogram) {
			_ = h.RecordValues(int64(time.Second), 1<<40)
			_ = h.RecordValues(int64(time.Millisecond), 1<<20)
		},
		// Beyond 2⁵⁵ the pooled encoder hands the histogram to EncodeV2.
		"huge count": func(h *hdrhistogram.Histogram) { _ = h.RecordValues(int64(time.Second), 1<<62) },
	}
	r := rand.New(rand.NewPCG(7, 7))
	for i := range 20 {
		cases[fmt.Sprintf("log-normal %d", i)] = func(h *hdrhistogram.Histogram) {
			n, median, sigma := 1+r.IntN(2000), time.Duration(1+r.IntN(500))*time.Millisecond, 0.2+r.Float64()
			for range n {
				Record(h, time.Duration(float64(median)*math.Exp(sigma*r.NormFloat64())))
			}
		}
	}
	for name, fill := range cases {
		h := New()
		fill(h)
		want, err := h.EncodeV2()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(h)
		if err != nil || got != string(want) {
			t.Errorf("%s: the pooled encoder differs from EncodeV2 (%v):\n%s\n%s", name, err, got, want)
		}
	}
	other := hdrhistogram.New(1, 1000, 2)
	_ = other.RecordValue(500)
	want, _ := other.EncodeV2()
	if got, err := Encode(other); err != nil || got != string(want) {
		t.Errorf("another geometry: %v %q, want %q", err, got, want)
	}
}

// TestIndexOfValue: indexOfValue inverts highestOfIndex over the whole geometry, and maps every
// value of a bucket to it.
func TestIndexOfValue(t *testing.T) {
	t.Parallel()
	var lowest int64
	for idx := range int64(countsLen) {
		high := highestOfIndex(idx)
		for _, v := range []int64{lowest, (lowest + high) / 2, high} {
			if got := indexOfValue(v); got != idx {
				t.Fatalf("indexOfValue(%d) = %d, want %d", v, got, idx)
			}
		}
		lowest = high + 1
	}
}
