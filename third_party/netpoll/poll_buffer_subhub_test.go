// subhub patch test (see SUBHUB-PATCH.md): growing a poller's event buffer
// must cost the events themselves, not a 1.3 KB read/write barrier per slot
// that stays allocated for the life of the process.

//go:build linux

package netpoll

import (
	"runtime"
	"testing"
)

func TestPollBufferGrowthAllocatesEventsOnly(t *testing.T) {
	var a pollArgs
	a.reset(128, barriercap)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a.reset(4096, barriercap)
	runtime.ReadMemStats(&after)
	grew := after.TotalAlloc - before.TotalAlloc
	// 4096 events of 12 bytes; unpatched v0.7.2 allocated ~5.6 MB here.
	if limit := uint64(4096 * 12 * 2); grew > limit {
		t.Fatalf("growing to 4096 events allocated %d bytes, want at most %d", grew, limit)
	}
	if len(a.events) != 4096 || len(a.barrier.bs) != barriercap || len(a.barrier.ivs) != barriercap {
		t.Fatalf("events %d, barrier %d/%d", len(a.events), len(a.barrier.bs), len(a.barrier.ivs))
	}
}
