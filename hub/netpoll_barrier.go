package hub

import (
	"reflect"
	"sync"
	"syscall"
	"unsafe"

	"github.com/cloudwego/netpoll"
)

// netpoll v0.7.2 gives every connection an output "barrier" of 32 byte
// slices and 32 iovecs (~1.2 KB) for its own writev. subhub writes with
// write(2) itself and uses netpoll's writer only while a socket is full, so
// that scratch is almost never touched, yet at 15,000 idle connections it is
// the largest single item of the heap. shrinkBarrier swaps it for a
// two-entry barrier (netpoll fills len(bs) entries per writev and loops, so
// any length works). The field is found by name and type through reflection
// once; if a netpoll upgrade changes the layout, the swap turns itself off
// (barrierLayout reports it, and a test fails) instead of guessing.

const smallBarrierEntries = 2

var barrierLayout struct {
	once    sync.Once
	ok      bool
	conn    reflect.Type // the concrete connection type the offsets belong to
	field   uintptr      // offset of connection.outputBarrier
	typ     reflect.Type // the barrier struct type
	bsOff   uintptr
	ivsOff  uintptr
	problem string
}

// resolveBarrierLayout inspects the concrete type behind nc.
func resolveBarrierLayout(nc netpoll.Connection) {
	l := &barrierLayout
	t := reflect.TypeOf(nc)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		l.problem = "connection is not a pointer to a struct"
		return
	}
	f, found := t.Elem().FieldByName("outputBarrier")
	if !found || f.Type.Kind() != reflect.Pointer || f.Type.Elem().Kind() != reflect.Struct {
		l.problem = "no outputBarrier pointer field"
		return
	}
	bt := f.Type.Elem()
	bs, ok1 := bt.FieldByName("bs")
	ivs, ok2 := bt.FieldByName("ivs")
	if !ok1 || !ok2 || bs.Type != reflect.TypeOf([][]byte(nil)) || ivs.Type != reflect.TypeOf([]syscall.Iovec(nil)) {
		l.problem = "barrier is not {bs [][]byte; ivs []syscall.Iovec}"
		return
	}
	l.conn, l.field, l.typ, l.bsOff, l.ivsOff, l.ok = t, f.Offset, bt, bs.Offset, ivs.Offset, true
}

// shrinkBarrier replaces nc's output barrier with a small one. It must run
// before the connection is registered with the poller (OnPrepare).
func shrinkBarrier(nc netpoll.Connection) {
	barrierLayout.once.Do(func() { resolveBarrierLayout(nc) })
	l := &barrierLayout
	if !l.ok || reflect.TypeOf(nc) != l.conn {
		return
	}
	nb := reflect.New(l.typ).UnsafePointer()
	*(*[][]byte)(unsafe.Add(nb, l.bsOff)) = make([][]byte, smallBarrierEntries)
	*(*[]syscall.Iovec)(unsafe.Add(nb, l.ivsOff)) = make([]syscall.Iovec, smallBarrierEntries)
	conn := reflect.ValueOf(nc).UnsafePointer()
	*(*unsafe.Pointer)(unsafe.Add(conn, l.field)) = nb
}

// barrierSwapActive reports whether shrinkBarrier is active and, if not, why.
func barrierSwapActive() (bool, string) {
	barrierLayout.once.Do(func() { barrierLayout.problem = "no connection seen yet" })
	return barrierLayout.ok, barrierLayout.problem
}
