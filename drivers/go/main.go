// Command sim-go-driver runs sim's programs against Go's own runtime map.
//
// It speaks the protocol of docs/driver-protocol.md on stdin and stdout: it reads a whole
// program (up to `end`) before it answers any of it, so the harness can write everything, then
// read everything, and neither side blocks on a full pipe. Standard library only; Go 1.19.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"unsafe"
)

const protocolVersion = 1

// cursorHandles is the number of cursor handles a program may name (0..3).
const cursorHandles = 4

// hmap mirrors the header of the classic runtime map (runtime/map.go of go1.18..go1.23). It is
// read, never written, and only when headerKnown says the running runtime is one whose layout
// was checked against its source and the start-up self-check agreed with it.
type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

// verifiedVersions are the runtime versions whose hmap layout was compared with the struct
// above by reading that version's runtime/map.go. Others report the growth state as unknown.
var verifiedVersions = []string{"go1.19"}

// headerKnown is set at start-up when the layout is trusted.
var headerKnown bool

func header(m map[uint64]uint64) *hmap {
	// A map value is a pointer to its hmap.
	return *(**hmap)(unsafe.Pointer(&m))
}

func versionVerified(v string) bool {
	for _, p := range verifiedVersions {
		// "go1.19" and "go1.19.8" but not "go1.190".
		if v == p || (len(v) > len(p) && v[:len(p)] == p && v[len(p)] == '.') {
			return true
		}
	}
	return false
}

// selfCheck tests the header layout against behaviour that does not depend on hashing: the B a
// capacity hint gives (makemap), count against len, and a doubling growth started by the insert
// past 6.5*2^B that stays under way (oldbuckets set) until later writes evacuate every old bucket.
func selfCheck() bool {
	for _, c := range []struct {
		hint int
		b    uint8
	}{{0, 0}, {8, 0}, {9, 1}, {13, 1}, {14, 2}, {1000, 8}, {1664, 8}, {1665, 9}} {
		m := make(map[uint64]uint64, c.hint)
		h := header(m)
		if h == nil || h.count != 0 || h.B != c.b || h.oldbuckets != nil || h.nevacuate != 0 {
			return false
		}
	}
	// 1664 = 6.5 * 2^8 keys fit the 256 buckets a hint of 1000 gives; the next new key doubles.
	m := make(map[uint64]uint64, 1000)
	h := header(m)
	for k := uint64(0); k < 1664; k++ {
		m[k] = k
		if h.count != len(m) {
			return false
		}
	}
	if h.B != 8 || h.oldbuckets != nil {
		return false
	}
	m[1664] = 1664
	// One insert evacuates at most two of the 256 old buckets.
	if h.B != 9 || h.oldbuckets == nil || h.nevacuate > 2 || h.count != 1665 {
		return false
	}
	// Each write evacuates at least one more old bucket (growWork), so 256 updates finish it.
	for k := uint64(0); k < 256 && h.oldbuckets != nil; k++ {
		m[k] = k + 1
	}
	return h.oldbuckets == nil && h.B == 9 && h.count == len(m) && h.nevacuate == 256
}

// clearMap is Go 1.19's clear idiom, which the compiler turns into one call of runtime.mapclear.
// It is kept out of line so that inlining cannot change what is emitted for it (a test checks
// its assembly).
//
//go:noinline
func clearMap(m map[uint64]uint64) {
	for k := range m {
		delete(m, k)
	}
}

// op is one parsed program line.
type op struct {
	kind byte // 'i', 'r', 'g', 'x', 'a', 'n', 's', 'd'
	a, b uint64
}

type cursor struct {
	it    *reflect.MapIter
	ended bool
}

type driver struct {
	in  *bufio.Reader
	out *bufio.Writer
	buf []byte // the output line being built
	ops []op
	// contents collects the final range's entries (key, value, key, value, ...).
	contents []uint64
	key      reflect.Value // reused targets of SetIterKey / SetIterValue: no allocation per step
	val      reflect.Value
}

func main() {
	if versionVerified(runtime.Version()) && selfCheck() {
		headerKnown = true
	}
	d := &driver{
		in:  bufio.NewReaderSize(os.Stdin, 1<<20),
		out: bufio.NewWriterSize(os.Stdout, 1<<20),
		key: reflect.New(reflect.TypeOf(uint64(0))).Elem(),
		val: reflect.New(reflect.TypeOf(uint64(0))).Elem(),
	}
	state := "unknown"
	if headerKnown {
		state = "known"
	}
	fmt.Fprintf(d.out, "hello sim-driver %d go-runtime-map/%s state=%s\n", protocolVersion, runtime.Version(), state)
	d.flush()
	for {
		line, err := d.line()
		if err == io.EOF && len(line) == 0 {
			return
		}
		if err != nil && err != io.EOF {
			fail("reading stdin: %v", err)
		}
		capacity, perr := parseProgramLine(line)
		if perr != "" {
			// Out of sync: answer, and skip to the next `end` so the next program starts clean
			// (unless the stray line was an `end` itself).
			if string(line) != "end" {
				d.skipToEnd()
			}
			d.answerError(perr)
			continue
		}
		if msg := d.readOps(); msg != "" {
			d.answerError(msg)
			continue
		}
		if capacity > 1<<31 {
			d.answerError("capacity " + strconv.FormatUint(capacity, 10) + " is too large")
			continue
		}
		d.run(int(capacity))
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "sim-go-driver: "+format+"\n", args...)
	os.Exit(1)
}

func (d *driver) flush() {
	if err := d.out.Flush(); err != nil {
		fail("writing stdout: %v", err)
	}
}

// line returns the next input line without its newline (valid until the next call).
func (d *driver) line() ([]byte, error) {
	line, err := d.in.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer is malformed anyway; keep its start for the message.
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			_, err = d.in.ReadSlice('\n')
		}
		return long, err
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	return line, err
}

func parseProgramLine(line []byte) (uint64, string) {
	const p = "program "
	if len(line) < len(p) || string(line[:len(p)]) != p {
		return 0, "expected `program <capacity>`, got `" + clip(line) + "`"
	}
	n, ok := parseU64(line[len(p):])
	if !ok {
		return 0, "bad capacity in `" + clip(line) + "`"
	}
	return n, ""
}

// readOps reads ops up to `end`; on a malformed line it keeps reading to `end` and returns the
// message for the first bad line.
func (d *driver) readOps() string {
	d.ops = d.ops[:0]
	msg := ""
	for lineNo := 2; ; lineNo++ {
		line, err := d.line()
		if len(line) == 0 && err == io.EOF {
			fail("stdin ended inside a program")
		}
		if err != nil && err != io.EOF {
			fail("reading stdin: %v", err)
		}
		if string(line) == "end" {
			return msg
		}
		o, bad := parseOp(line)
		if bad != "" {
			if msg == "" {
				msg = "program line " + strconv.Itoa(lineNo) + ": " + bad
			}
			continue
		}
		d.ops = append(d.ops, o)
	}
}

func (d *driver) skipToEnd() {
	for {
		line, err := d.line()
		if string(line) == "end" {
			return
		}
		if err != nil {
			if err == io.EOF {
				os.Exit(0)
			}
			fail("reading stdin: %v", err)
		}
	}
}

func clip(line []byte) string {
	if len(line) > 60 {
		return string(line[:60]) + "..."
	}
	return string(line)
}

// parseOp parses one op line: a letter, then its decimal operands separated by single spaces.
func parseOp(line []byte) (op, string) {
	if len(line) == 0 {
		return op{}, "empty line"
	}
	o := op{kind: line[0]}
	var want int
	switch o.kind {
	case 'x', 'a':
		want = 0
	case 'r', 'g', 'n', 'd':
		want = 1
	case 'i', 's':
		want = 2
	default:
		return op{}, "unknown op `" + clip(line) + "`"
	}
	rest := line[1:]
	for k := 0; k < want; k++ {
		if len(rest) == 0 || rest[0] != ' ' {
			return op{}, "expected " + strconv.Itoa(want) + " operands in `" + clip(line) + "`"
		}
		rest = rest[1:]
		end := 0
		for end < len(rest) && rest[end] != ' ' {
			end++
		}
		n, ok := parseU64(rest[:end])
		if !ok {
			return op{}, "bad number in `" + clip(line) + "`"
		}
		if k == 0 {
			o.a = n
		} else {
			o.b = n
		}
		rest = rest[end:]
	}
	if len(rest) != 0 {
		return op{}, "trailing text in `" + clip(line) + "`"
	}
	if (o.kind == 'n' || o.kind == 's' || o.kind == 'd') && o.a >= cursorHandles {
		return op{}, "cursor handle out of range in `" + clip(line) + "`"
	}
	return o, ""
}

func parseU64(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		next := n*10 + uint64(c-'0')
		if next/10 != n {
			return 0, false // overflow
		}
		n = next
	}
	return n, true
}

func (d *driver) answerError(msg string) {
	d.buf = append(d.buf[:0], "error "...)
	d.buf = append(d.buf, msg...)
	d.buf = append(d.buf, "\ndone\n"...)
	d.write()
	d.flush()
}

func (d *driver) write() {
	if _, err := d.out.Write(d.buf); err != nil {
		fail("writing stdout: %v", err)
	}
}

func (d *driver) value(v uint64, ok bool) {
	if ok {
		d.buf = append(d.buf[:0], "v "...)
		d.buf = strconv.AppendUint(d.buf, v, 10)
		d.buf = append(d.buf, '\n')
	} else {
		d.buf = append(d.buf[:0], "v -\n"...)
	}
	d.write()
}

// growthFlag says whether a growth is under way: '1', '0', or '?' when the header is not trusted.
func growthFlag(h *hmap) byte {
	if !headerKnown {
		return '?'
	}
	if h.oldbuckets != nil {
		return '1'
	}
	return '0'
}

// step advances cursor c up to steps times, stopping at its end, answering each step.
func (d *driver) step(m map[uint64]uint64, h *hmap, c *cursor, steps uint64) {
	if c.it == nil || c.ended {
		return
	}
	for ; steps > 0; steps-- {
		g := growthFlag(h)
		if !c.it.Next() {
			c.ended = true
			d.buf = append(d.buf[:0], 'e', ' ', g, '\n')
			d.write()
			return
		}
		d.key.SetIterKey(c.it)
		d.val.SetIterValue(c.it)
		d.buf = append(d.buf[:0], 'y', ' ')
		d.buf = strconv.AppendUint(d.buf, d.key.Uint(), 10)
		d.buf = append(d.buf, ' ')
		d.buf = strconv.AppendUint(d.buf, d.val.Uint(), 10)
		d.buf = append(d.buf, ' ', g, '\n')
		d.write()
	}
}

func (d *driver) run(capacity int) {
	m := make(map[uint64]uint64, capacity)
	h := header(m)
	var cursors [cursorHandles]cursor
	inserts := uint64(0)
	for _, o := range d.ops {
		if o.kind == 'i' {
			inserts++
		}
	}
	for _, o := range d.ops {
		switch o.kind {
		case 'i':
			old, ok := m[o.a]
			m[o.a] = o.b
			d.value(old, ok)
		case 'r':
			old, ok := m[o.a]
			// Always delete, as a program would: mapdelete does growth work even for an
			// absent key.
			delete(m, o.a)
			d.value(old, ok)
		case 'g':
			v, ok := m[o.a]
			d.value(v, ok)
		case 'x':
			clearMap(m)
		case 'a':
			// The harness's audit op: this driver has no audit.
		case 'n':
			// The iteration itself starts (mapiterinit) at the cursor's first step.
			cursors[o.a] = cursor{it: reflect.ValueOf(m).MapRange()}
		case 's':
			d.step(m, h, &cursors[o.a], o.b)
		case 'd':
			cursors[o.a] = cursor{}
		}
		d.buf = append(d.buf[:0], 'l', ' ')
		d.buf = strconv.AppendInt(d.buf, int64(len(m)), 10)
		d.buf = append(d.buf, '\n')
		d.write()
	}
	// The end of the program: drain the live cursors. A cursor that yields more than the
	// program's inserts has yielded some incarnation twice (there are no more incarnations than
	// inserts), so the harness has a failure before this budget runs out.
	for i := range cursors {
		d.step(m, h, &cursors[i], inserts+1)
	}
	// The count line gives what the range produced, not len(m): the harness compares both.
	d.contents = d.contents[:0]
	for k, v := range m {
		d.contents = append(d.contents, k, v)
	}
	d.buf = append(d.buf[:0], 'c', ' ')
	d.buf = strconv.AppendInt(d.buf, int64(len(d.contents)/2), 10)
	d.buf = append(d.buf, '\n')
	for i := 0; i < len(d.contents); i += 2 {
		d.buf = strconv.AppendUint(d.buf, d.contents[i], 10)
		d.buf = append(d.buf, ' ')
		d.buf = strconv.AppendUint(d.buf, d.contents[i+1], 10)
		d.buf = append(d.buf, '\n')
	}
	d.write()
	d.buf = append(d.buf[:0], "done\n"...)
	d.write()
	d.flush()
}
