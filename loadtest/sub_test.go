package loadtest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSubRecord(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		seqs                    []uint64
		unique, dups, ooo, late uint64
	}{
		{"in order", []uint64{1, 2, 3, 4}, 4, 0, 0, 0},
		{"gap is not a delivery", []uint64{1, 2, 5}, 3, 0, 0, 0},
		{"duplicate", []uint64{1, 2, 2, 3, 1}, 3, 2, 0, 0},
		{"swap", []uint64{2, 1, 3}, 3, 0, 1, 0},
		{"late duplicate of reordered", []uint64{3, 1, 1, 2}, 3, 1, 2, 0},
		{"window wrap keeps old bits cleared", []uint64{1, 1 + ringBits, 1 + 2*ringBits, 2 + ringBits}, 4, 0, 1, 0},
		{"too old to classify", []uint64{5000, 5000 - ringBits}, 1, 0, 0, 1},
		{"just inside window", []uint64{5000, 5001 - ringBits, 5001 - ringBits}, 2, 1, 1, 0},
		{"big jump forward", []uint64{1, 100000, 99999, 100000}, 3, 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s sub
			for _, q := range tc.seqs {
				s.record(q)
			}
			require.EqualValues(t, len(tc.seqs), s.delivered)
			require.Equal(t, tc.unique, s.unique, "unique")
			require.Equal(t, tc.dups, s.dups, "dups")
			require.Equal(t, tc.ooo, s.ooo, "ooo")
			require.Equal(t, tc.late, s.late, "late")
		})
	}
}
