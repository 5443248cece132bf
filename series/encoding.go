package series

import (
	"bytes"
	"compress/gzip"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/expfmt"
)

// Format is what a scrape negotiated: the format (with its escaping scheme)
// and whether the body is gzip-compressed.
type Format struct {
	Format expfmt.Format
	Gzip   bool
}

// Encoding is a snapshot in one format: pieces to write one after the
// other, without the end of the exposition (OpenMetrics' "# EOF": more
// families may follow). Gzip-compressed, each piece is a complete gzip
// member; every gzip reader, Prometheus's included, reads members one
// after the other as one stream.
type Encoding struct {
	Pieces [][]byte
	Size   int // bytes in all
}

// keepFormat is how long after its last scrape a format is still encoded
// ahead by Warm and kept by the families: longer than any sensible scrape
// interval, so that one curl's identity text is not kept, and re-encoded,
// for ever.
const keepFormat = 10 * time.Minute

// stale reports whether an encoding last used at used (Unix nanoseconds)
// is no longer kept at now.
func stale(used, now int64) bool { return now-used > int64(keepFormat) }

// pieces are what was encoded of one family, per format.
type pieces struct {
	mu sync.Mutex
	m  map[Format]*piece
}

// piece is one family in one format, encoded once. For the formats
// written here, the header (HELP, TYPE) and the series are apart, so that
// several organisations' series of one name follow one header; for the
// others header holds the whole family.
type piece struct {
	once           sync.Once
	header, series []byte
	err            error
	used           atomic.Int64 // when last scraped or warmed, Unix nanoseconds
}

// piece returns f in k's format, encoding it on first use.
func (f *family) piece(k Format, now int64) *piece {
	f.cache.mu.Lock()
	p := f.cache.m[k]
	if p == nil {
		if f.cache.m == nil {
			f.cache.m = map[Format]*piece{}
		}
		p = &piece{}
		p.used.Store(now)
		f.cache.m[k] = p
	}
	f.cache.mu.Unlock()
	p.once.Do(func() { p.header, p.series, p.err = f.encode(k) })
	return p
}

// encode writes f in k's format: straight from the compact series for the
// text formats, through expfmt for the others.
func (f *family) encode(k Format) (header, series []byte, err error) {
	if ok, openMetrics := direct(k.Format); ok && f.plain() {
		buf := scratchBytes.Get().(*[]byte)
		defer scratchBytes.Put(buf)
		if size := f.seriesSize(); cap(*buf) < size {
			*buf = make([]byte, 0, size) // grown once, not by doubling
		}
		header = f.appendHeader(nil, openMetrics)
		*buf = f.appendSeries((*buf)[:0], openMetrics)
		if k.Gzip {
			return gzipped(header), gzipped(*buf), nil
		}
		return header, bytes.Clone(*buf), nil
	}
	return wholeFamily(group{name: f.name, parts: []*family{f}}, k)
}

// wholeFamily writes g in k's format through expfmt's encoder.
func wholeFamily(g group, k Format) ([]byte, []byte, error) {
	var b bytes.Buffer
	if err := expfmt.NewEncoder(&b, k.Format).Encode(g.metricFamily(&scratch{})); err != nil {
		return nil, nil, err
	}
	if k.Gzip {
		return gzipped(b.Bytes()), nil, nil
	}
	return bytes.Clone(b.Bytes()), nil, nil
}

// scratchBytes are buffers to write a family into before it is copied out
// at its size: what is kept has no spare room, and what grows is reused.
var scratchBytes = sync.Pool{New: func() any { return new([]byte) }}

// gzipWriters are reused: a gzip.Writer allocates about 800 KB.
var gzipWriters = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// gzipped returns b as one gzip member.
func gzipped(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/4 + 64)
	if err := Gzip(&out, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
		panic(err) // writing to memory does not fail
	}
	return bytes.Clone(out.Bytes())
}

// Gzip calls write with a writer of one gzip member to w.
func Gzip(w io.Writer, write func(io.Writer) error) error {
	gz := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(gz)
	gz.Reset(w)
	if err := write(gz); err != nil {
		return err
	}
	return gz.Close()
}

// assembled is a snapshot in one format: the pieces of its families, put
// together once.
type assembled struct {
	once    sync.Once
	enc     Encoding
	err     error
	touched []*piece     // the families' pieces, stamped when the snapshot is scraped
	used    atomic.Int64 // when last scraped or warmed, Unix nanoseconds
}

// Encoding returns the snapshot in k's format, encoding only the families
// that have not been encoded in it yet, and notes that it was scraped now.
func (s *Snapshot) Encoding(k Format, now time.Time) (*Encoding, error) {
	t := now.UnixNano()
	s.mu.Lock()
	a := s.encodings[k]
	if a == nil {
		if s.encodings == nil {
			s.encodings = map[Format]*assembled{}
		}
		a = &assembled{}
		s.encodings[k] = a
	}
	s.mu.Unlock()
	a.once.Do(func() { a.assemble(s, k, t) })
	a.used.Store(t)
	for _, p := range a.touched {
		p.used.Store(t)
	}
	return &a.enc, a.err
}

func (a *assembled) assemble(s *Snapshot, k Format, now int64) {
	add := func(b []byte) {
		if len(b) > 0 {
			a.enc.Pieces = append(a.enc.Pieces, b)
			a.enc.Size += len(b)
		}
	}
	textual, _ := direct(k.Format)
	for _, g := range s.groups {
		first := g.parts[0]
		switch {
		case textual && first.plain() || len(g.parts) == 1:
			for i, f := range g.parts {
				p := f.piece(k, now)
				if p.err != nil {
					a.err = p.err
					return
				}
				a.touched = append(a.touched, p)
				if i == 0 {
					add(p.header)
				}
				add(p.series)
			}
		default:
			// Several organisations' family of one name in a format
			// written through expfmt (protobuf, a name it escapes): encoded
			// whole, for this snapshot.
			whole, _, err := wholeFamily(g, k)
			if err != nil {
				a.err = err
				return
			}
			add(whole)
		}
	}
}

// Warm encodes next in every format prev was scraped in within keepFormat,
// so that the first scrape after a refresh only writes bytes (the families
// next shares with prev are encoded already: only new ones are), and lets
// go of what next's families hold in formats nobody scraped that long. It
// stops at the first format that fails to encode.
func Warm(prev, next *Snapshot, now time.Time) error {
	t := now.UnixNano()
	var keys []Format
	if prev != nil {
		prev.mu.Lock()
		for k, a := range prev.encodings {
			if !stale(a.used.Load(), t) {
				keys = append(keys, k)
			}
		}
		prev.mu.Unlock()
	}
	for _, g := range next.groups {
		for _, f := range g.parts {
			f.cache.mu.Lock()
			for k, p := range f.cache.m {
				if stale(p.used.Load(), t) {
					delete(f.cache.m, k)
				}
			}
			f.cache.mu.Unlock()
		}
	}
	for _, k := range keys {
		if _, err := next.Encoding(k, now); err != nil {
			return err
		}
	}
	return nil
}
