// Package hdr owns lpbench's one histogram geometry (nanoseconds from 1 µs to 10 minutes at 3
// significant digits) and everything done with such a histogram: make, record (clamped into
// range), encode and decode HdrHistogram's compressed form (refusing another geometry or
// damaged input before allocating), merge without loss, read a second's non-empty buckets
// (DecodeBars) and its statistics. It knows nothing of journeys, results or files.
package hdr

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The one histogram geometry of lpbench: nanoseconds from 1 µs to 10 min at 3 significant digits.
// Every histogram is made by New so that any two merge without loss.
const (
	Lowest      = int64(time.Microsecond)
	histMax     = int64(10 * time.Minute)
	histSigFigs = 3
)

// New returns an empty histogram of lpbench's geometry.
func New() *hdrhistogram.Histogram {
	return hdrhistogram.New(Lowest, histMax, histSigFigs)
}

// Record adds d to h, clamped into the histogram's range: a negative duration (clock granularity)
// counts as 0, and one beyond 10 minutes as 10 minutes, so no sample is lost.
func Record(h *hdrhistogram.Histogram, d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	if v > histMax {
		v = histMax
	}
	_ = h.RecordValue(v) // cannot fail: v is in range
}

// geometry is what two histograms must share to merge without loss: their range and precision.
type geometry struct {
	lowest, highest, sigFigs int64
}

// lpbenchGeometry is the geometry of every histogram New makes.
var lpbenchGeometry = geometry{Lowest, histMax, histSigFigs}

// geometryOf returns h's geometry.
func geometryOf(h *hdrhistogram.Histogram) geometry {
	return geometry{h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures()}
}

func (g geometry) String() string {
	return fmt.Sprintf("%d..%d at %d digits", g.lowest, g.highest, g.sigFigs)
}

// checkGeometry refuses a histogram of geometry got where one of want is needed.
func checkGeometry(got, want geometry) error {
	if got != want {
		return fmt.Errorf("histogram geometry differs: %v, want %v", got, want)
	}
	return nil
}

// encodedGeometry reads the geometry from the header of a histogram in HdrHistogram's compressed
// form (V2), without decoding the rest: decoding allocates by the geometry the input claims, so a
// hostile result file could otherwise ask for gigabytes.
func encodedGeometry(s string) (geometry, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) < 8 {
		return geometry{}, fmt.Errorf("undecodable histogram")
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return geometry{}, fmt.Errorf("undecodable histogram: %w", err)
	}
	defer zr.Close()
	// V2 encoding header: cookie, payload length, normalizing index offset, significant digits
	// (4 bytes each), lowest and highest trackable values, conversion ratio (8 bytes each).
	var hdr [v2HeaderLen]byte
	if _, err := io.ReadFull(zr, hdr[:]); err != nil {
		return geometry{}, fmt.Errorf("undecodable histogram: %w", err)
	}
	if err := checkRatio(hdr[:]); err != nil {
		return geometry{}, err
	}
	return geometry{
		lowest:  int64(binary.BigEndian.Uint64(hdr[16:24])),
		highest: int64(binary.BigEndian.Uint64(hdr[24:32])),
		sigFigs: int64(binary.BigEndian.Uint32(hdr[12:16])),
	}, nil
}

// checkRatio refuses a V2 payload header whose integer-to-double conversion ratio is not 1:
// lpbench's histograms count nanoseconds, and its encoder (Encode) writes 1.
func checkRatio(hdr []byte) error {
	if r := math.Float64frombits(binary.BigEndian.Uint64(hdr[32:40])); r != 1 {
		return fmt.Errorf("histogram conversion ratio %g, want 1 (nanoseconds)", r)
	}
	return nil
}

// Decode reads a histogram in HdrHistogram's compressed form and checks it has
// lpbench's geometry, before decoding (see encodedGeometry) and after.
func Decode(s string) (*hdrhistogram.Histogram, error) {
	g, err := encodedGeometry(s)
	if err != nil {
		return nil, err
	}
	if err := checkGeometry(g, lpbenchGeometry); err != nil {
		return nil, err
	}
	h, err := hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("undecodable histogram: %w", err)
	}
	if err := checkGeometry(geometryOf(h), lpbenchGeometry); err != nil {
		return nil, err
	}
	return h, nil
}

// Bar is one non-empty bucket of a histogram: its highest equivalent value (what HdrHistogram
// reports a percentile as, and Distribution's To) and its count.
type Bar struct{ To, Count int64 }

// DecodeBars reads a histogram in HdrHistogram's compressed form (V2) of lpbench's geometry as
// its non-empty buckets, ascending: what Decode(s).Distribution() holds, without
// allocating the geometry's whole counts array (some 170 kB, where a second's histogram holds a
// few dozen values). The counts are ZigZag LEB128 numbers from index 0, a negative one a run of
// that many empty buckets; index i holds the values of bucket i>>10 − 1 (0 for the first two
// halves) at sub-bucket i&1023 + 1024 (without the 1024 in bucket 0).
func DecodeBars(s string) ([]Bar, error) {
	var d BarDecoder
	return d.Decode(s)
}

// BarDecoder decodes histograms as DecodeBars does, one after another with one inflater and
// its buffers (an inflater costs some 40 kB: a series has thousands of seconds).
type BarDecoder struct {
	zr      io.ReadCloser
	raw     []byte
	payload bytes.Buffer
}

// decode is DecodeBars.
func (d *BarDecoder) Decode(s string) ([]Bar, error) {
	var err error
	d.raw, err = base64.StdEncoding.AppendDecode(d.raw[:0], []byte(s))
	if err != nil || len(d.raw) < 8 {
		return nil, fmt.Errorf("undecodable histogram")
	}
	if d.zr == nil {
		d.zr, err = zlib.NewReader(bytes.NewReader(d.raw[8:]))
	} else {
		err = d.zr.(zlib.Resetter).Reset(bytes.NewReader(d.raw[8:]), nil)
	}
	if err != nil {
		d.zr = nil
		return nil, fmt.Errorf("undecodable histogram: %w", err)
	}
	d.payload.Reset()
	_, err = d.payload.ReadFrom(io.LimitReader(d.zr, 1<<22))
	payload := d.payload.Bytes()
	if err != nil || len(payload) < 40 {
		return nil, fmt.Errorf("undecodable histogram")
	}
	g := geometry{int64(binary.BigEndian.Uint64(payload[16:24])), int64(binary.BigEndian.Uint64(payload[24:32])), int64(binary.BigEndian.Uint32(payload[12:16]))}
	if err := checkGeometry(g, lpbenchGeometry); err != nil {
		return nil, err
	}
	if err := checkRatio(payload); err != nil {
		return nil, err
	}
	if offset := binary.BigEndian.Uint32(payload[8:12]); offset != 0 {
		return nil, fmt.Errorf("undecodable histogram: normalizing index offset %d", offset)
	}
	var bars []Bar
	var total int64
	counts := payload[40:]
	for idx := int64(0); len(counts) > 0; {
		u, n := binary.Uvarint(counts)
		if n <= 0 || n > 8 {
			return nil, fmt.Errorf("undecodable histogram: bad count at index %d", idx)
		}
		counts = counts[n:]
		switch c := int64(u>>1) ^ -int64(u&1); {
		case c < 0:
			idx -= c
		case idx >= countsLen:
			return nil, fmt.Errorf("undecodable histogram: count at index %d, beyond the geometry's %d", idx, countsLen)
		case c > maxCount-total:
			return nil, fmt.Errorf("undecodable histogram: more than %d values", int64(maxCount))
		case c > 0:
			total += c
			bars = append(bars, Bar{To: highestOfIndex(idx), Count: c})
			idx++
		default:
			idx++
		}
	}
	return bars, nil
}

// The sub-buckets of lpbench's geometry: 2·10³ values at unit resolution need 2¹¹ sub-buckets,
// half of them (2¹⁰) new in each bucket; the unit is 2⁹ ns, the largest power of 2 ≤ 1 µs.
const (
	subHalfMagnitude = 10
	unitMagnitude    = 9
	// countsLen is the length of the geometry's counts array: buckets 0 to 20 (2¹¹ << (20 + 9)
	// ns is the first power past 10 minutes), 2¹⁰ indexes each and the lower half of bucket 0.
	countsLen = 22 << subHalfMagnitude
	// maxCount bounds the values a decoded histogram may hold (2⁵³, far beyond any run), so that
	// counts cannot overflow a total.
	maxCount = 1 << 53
)

// highestOfIndex returns the highest value equivalent to counts index idx of lpbench's geometry.
func highestOfIndex(idx int64) int64 {
	bucket := idx>>subHalfMagnitude - 1
	sub := idx&(1<<subHalfMagnitude-1) + 1<<subHalfMagnitude
	if bucket < 0 {
		sub -= 1 << subHalfMagnitude
		bucket = 0
	}
	lowest := sub << (bucket + unitMagnitude)
	return lowest + 1<<(bucket+unitMagnitude) - 1
}

// Merge adds from into into, refusing a histogram of another geometry (whose values
// would be lost or moved) and any merge that drops values.
func Merge(into, from *hdrhistogram.Histogram) error {
	if err := checkGeometry(geometryOf(from), geometryOf(into)); err != nil {
		return err
	}
	if dropped := into.Merge(from); dropped != 0 {
		return fmt.Errorf("merging dropped %d values", dropped)
	}
	return nil
}

// Percentile returns the value at percentile p (0–100) as a Duration; 0 for an empty histogram.
func Percentile(h *hdrhistogram.Histogram, p float64) time.Duration {
	return time.Duration(h.ValueAtQuantile(p))
}

// Percentiles returns the values at the percentiles ps (0–100) in one pass over h.
func Percentiles(h *hdrhistogram.Histogram, ps []float64) []time.Duration {
	vs := h.ValueAtPercentilesSlice(ps)
	ds := make([]time.Duration, len(vs))
	for i, v := range vs {
		ds[i] = time.Duration(v)
	}
	return ds
}

// Mean returns the histogram's mean as a Duration (truncated to the nanosecond).
func Mean(h *hdrhistogram.Histogram) time.Duration { return time.Duration(MeanNs(h)) }

// MeanNs returns the histogram's mean in nanoseconds, not truncated (for thresholds).
func MeanNs(h *hdrhistogram.Histogram) float64 { return h.Mean() }

// MinOf returns the histogram's smallest value (the lowest value equivalent to it), 0 when empty.
func MinOf(h *hdrhistogram.Histogram) time.Duration { return time.Duration(h.Min()) }

// MaxOf returns the histogram's largest value, 0 when it is empty (hdrhistogram reports the top
// of its lowest bucket then).
func MaxOf(h *hdrhistogram.Histogram) time.Duration {
	if h.TotalCount() == 0 {
		return 0
	}
	return time.Duration(h.Max())
}

// CountOf returns h's total count; a nil histogram is empty.
func CountOf(h *hdrhistogram.Histogram) int64 {
	if h == nil {
		return 0
	}
	return h.TotalCount()
}

// Encode returns h in HdrHistogram's compressed form (V2), byte for byte what
// h.EncodeV2() returns, but with a deflater and buffers reused from a pool: EncodeV2 makes a new
// deflater (some 800 kB) for every histogram, and the recorder encodes a dozen each second per
// scope. A histogram of another geometry, or with a count beyond 2⁵⁵, goes to EncodeV2.
func Encode(h *hdrhistogram.Histogram) (string, error) {
	if geometryOf(h) != lpbenchGeometry {
		enc, err := h.EncodeV2()
		return string(enc), err
	}
	e := histEncoders.Get().(*histEncoder)
	defer histEncoders.Put(e)
	if s, ok := e.encode(h); ok {
		return s, nil
	}
	enc, err := h.EncodeV2()
	return string(enc), err
}

// histEncoder holds what one encoding needs: a sparse copy of the histogram (its non-empty
// buckets, without walking the 22 528 counts again), the payload, the deflater and its output.
type histEncoder struct {
	sparse  *hdrhistogram.PackedHistogram
	payload []byte
	z       bytes.Buffer
	zw      *zlib.Writer
	out     []byte
}

var histEncoders = sync.Pool{New: func() any {
	zw, _ := zlib.NewWriterLevel(nil, zlib.BestCompression) // a valid level: cannot fail
	return &histEncoder{sparse: hdrhistogram.NewPacked(Lowest, histMax, histSigFigs), zw: zw}
}}

// The V2 cookies of HdrHistogram's encoding (the payload's and the compressed envelope's), and
// the payload's header length.
const (
	v2PayloadCookie    = 0x1c849303 | 0x10
	v2CompressedCookie = 0x1c849304 | 0x10
	v2HeaderLen        = 40
)

// encode encodes h, of lpbench's geometry; false when a count is too large for the varint form
// both encoders share below 2⁵⁶.
func (e *histEncoder) encode(h *hdrhistogram.Histogram) (string, bool) {
	e.sparse.Reset()
	if e.sparse.MergeFrom(h) != 0 {
		return "", false
	}
	p := binary.BigEndian.AppendUint32(e.payload[:0], v2PayloadCookie)
	p = binary.BigEndian.AppendUint32(p, 0) // the payload's length, set below
	p = binary.BigEndian.AppendUint32(p, 0) // normalizing index offset
	p = binary.BigEndian.AppendUint32(p, histSigFigs)
	p = binary.BigEndian.AppendUint64(p, uint64(Lowest))
	p = binary.BigEndian.AppendUint64(p, uint64(histMax))
	p = binary.BigEndian.AppendUint64(p, math.Float64bits(1)) // integer to double conversion ratio
	ok := true
	var next int64 // the first index not written yet
	for value, count := range e.sparse.ForEachBucket {
		if count >= 1<<55 {
			ok = false
			break
		}
		idx := indexOfValue(value)
		switch gap := idx - next; {
		case gap > 1:
			p = binary.AppendUvarint(p, zigzag(-gap))
		case gap == 1:
			p = binary.AppendUvarint(p, 0)
		}
		p = binary.AppendUvarint(p, zigzag(count))
		next = idx + 1
	}
	if next == 0 {
		p = append(p, 0) // an empty histogram: one count of 0, as EncodeV2 writes it
	}
	e.payload = p
	if !ok {
		return "", false
	}
	binary.BigEndian.PutUint32(p[4:8], uint32(len(p)-v2HeaderLen))
	e.z.Reset()
	e.zw.Reset(&e.z)
	e.zw.Write(p) // into a bytes.Buffer: cannot fail
	e.zw.Close()
	raw := binary.BigEndian.AppendUint32(e.out[:0], v2CompressedCookie)
	raw = binary.BigEndian.AppendUint32(raw, uint32(e.z.Len()))
	raw = append(raw, e.z.Bytes()...)
	e.out = raw
	return base64.StdEncoding.EncodeToString(raw), true
}

// zigzag maps a signed count onto the unsigned numbers HdrHistogram's varints carry.
func zigzag(v int64) uint64 { return uint64(v<<1) ^ uint64(v>>63) }

// indexOfValue returns the counts index of lpbench's geometry that holds value v (≥ 0): the
// inverse of highestOfIndex.
func indexOfValue(v int64) int64 {
	sub := v >> unitMagnitude
	if sub < 1<<(subHalfMagnitude+1) {
		return sub // bucket 0: both of its halves
	}
	// The bucket whose sub-buckets, 2¹⁰ to 2¹¹ − 1, hold v >> (bucket + unitMagnitude).
	bucket := int64(bits.Len64(uint64(sub))) - (subHalfMagnitude + 1)
	sub = v >> (bucket + unitMagnitude)
	return (bucket+1)<<subHalfMagnitude + sub - 1<<subHalfMagnitude
}
