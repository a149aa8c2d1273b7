//go:build !race

package graphql

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAppendResultAllocs(t *testing.T) {
	op := benchOperation(t)
	for _, tc := range []struct{ name, event string }{
		{"book", benchEvent},
		{"abstract", `{"id":"x","title":"T","chapters":[],"related":[{"__typename":"Film","id":"f","title":"F","year":1,"minutes":3},null]}`},
		{"coercions", `{"id":5,"title":"T","year":"1965","rating":"4.5","available":1,"tags":["a",1,true],"chapters":[{"n":1.0,"title":2}],"meta":[1,{"a":"\u00e9\n"}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			event := parseEvent(t, tc.event)
			dst := make([]byte, 0, 8192)
			out, _ := op.Plan.AppendResult(dst, event)
			require.NotContains(t, string(out), `"errors"`)
			allocs := testing.AllocsPerRun(200, func() {
				dst, _ = op.Plan.AppendResult(dst[:0], event)
			})
			require.Zero(t, allocs)
		})
	}
}

func TestMarkLoneSurrogatesAllocatesNothingWithoutThem(t *testing.T) {
	text := []byte(`{"a":"b\n","c":"\ud83d\ude00 \u00e9"}`)
	allocs := testing.AllocsPerRun(100, func() { MarkLoneSurrogates(nil, text) })
	require.Zero(t, allocs)
}
