package shard

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

const subsPerSubject = 10

// benchSizes are the registry sizes in subscribers; each fixture spreads
// them over size/subsPerSubject subjects and two groups per subject.
var benchSizes = []int{10_000, 1_000_000}

type benchFixture struct {
	r        *Registry[int, int]
	subjects []string
	next     atomic.Int64 // next unused subscriber id
}

var (
	fixturesMu sync.Mutex
	fixtures   = map[int]*benchFixture{}
)

// fixture returns a registry holding entries subscribers, built once per
// process. Benchmarks leave it as they found it.
func fixture(b *testing.B, entries int) *benchFixture {
	b.Helper()
	fixturesMu.Lock()
	defer fixturesMu.Unlock()
	if f := fixtures[entries]; f != nil {
		return f
	}
	f := &benchFixture{r: New[int, int](0, 0), subjects: make([]string, entries/subsPerSubject)}
	for i := range f.subjects {
		// HotChocolate subjects: uppercase hex MD5.
		sum := md5.Sum(fmt.Appendf(nil, "prefix:onOrder(id: %d)", i))
		f.subjects[i] = strings.ToUpper(hex.EncodeToString(sum[:]))
	}
	for s := range entries {
		if _, _, err := f.r.Add(f.subjects[s%len(f.subjects)], f.group(s), s); err != nil {
			b.Fatal(err)
		}
	}
	f.next.Store(int64(entries))
	fixtures[entries] = f
	return f
}

// group spreads the subscribers of each subject over two groups.
func (f *benchFixture) group(i int) int { return i / len(f.subjects) % 2 }

// ids reserves n fresh subscriber ids and returns the first.
func (f *benchFixture) ids(n int) int { return int(f.next.Add(int64(n))) - n }

func (f *benchFixture) addRange(b *testing.B, base, n int) {
	for i := range n {
		if _, _, err := f.r.Add(f.subjects[i%len(f.subjects)], f.group(i), base+i); err != nil {
			b.Fatal(err)
		}
	}
}

func (f *benchFixture) removeRange(b *testing.B, base, n int) {
	for i := range n {
		if _, _, ok := f.r.Remove(f.subjects[i%len(f.subjects)], f.group(i), base+i); !ok {
			b.Fatal("not registered")
		}
	}
}

func BenchmarkAdd(b *testing.B) {
	for _, entries := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			f := fixture(b, entries)
			base := f.ids(b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.r.Add(f.subjects[i%len(f.subjects)], f.group(i), base+i)
			}
			b.StopTimer()
			f.removeRange(b, base, b.N)
		})
	}
}

func BenchmarkRemove(b *testing.B) {
	for _, entries := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			f := fixture(b, entries)
			base := f.ids(b.N)
			f.addRange(b, base, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.r.Remove(f.subjects[i%len(f.subjects)], f.group(i), base+i)
			}
		})
	}
}

// BenchmarkAddRemoveParallel is subscribe/unsubscribe churn from all
// cores: every iteration adds one subscriber and removes it again.
func BenchmarkAddRemoveParallel(b *testing.B) {
	for _, entries := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			f := fixture(b, entries)
			var worker atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				s := f.ids(1)
				i := int(worker.Add(1)) * 7919
				for pb.Next() {
					subject := f.subjects[i%len(f.subjects)]
					f.r.Add(subject, 0, s)
					f.r.Remove(subject, 0, s)
					i++
				}
			})
		})
	}
}

func viewLen(n *int) func(*Topic[int, int]) {
	return func(t *Topic[int, int]) {
		for g := 0; g < t.NumGroups(); g++ {
			_, subs := t.Group(g)
			*n += len(subs)
		}
	}
}

func BenchmarkView(b *testing.B) {
	for _, entries := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			f := fixture(b, entries)
			n := 0
			fn := viewLen(&n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				f.r.View(f.subjects[i%len(f.subjects)], fn)
			}
			b.StopTimer()
			if n != b.N*subsPerSubject {
				b.Fatalf("viewed %d subscribers, want %d", n, b.N*subsPerSubject)
			}
		})
	}
}

func BenchmarkViewParallel(b *testing.B) {
	for _, entries := range benchSizes {
		b.Run(fmt.Sprintf("entries=%d", entries), func(b *testing.B) {
			f := fixture(b, entries)
			var worker, total atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				n, views := 0, 0
				fn := viewLen(&n)
				i := int(worker.Add(1)) * 7919
				for pb.Next() {
					f.r.View(f.subjects[i%len(f.subjects)], fn)
					i++
					views++
				}
				if n != views*subsPerSubject {
					b.Errorf("viewed %d subscribers, want %d", n, views*subsPerSubject)
				}
				total.Add(int64(views))
			})
			if total.Load() != int64(b.N) {
				b.Fatalf("%d views, want %d", total.Load(), b.N)
			}
		})
	}
}
