//go:build !race

package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDecodeAllocs(t *testing.T) {
	tests := []struct {
		name string
		ser  Serializer
		env  Envelope
		file string
	}{
		{"raw json", SerializerJSON, EnvelopeRaw, "raw-json.msg"},
		{"hotchocolate json", SerializerJSON, EnvelopeHotChocolate, "hotchocolate-json.msg"},
		{"hotchocolate json alternats", SerializerJSON, EnvelopeHotChocolate, "hotchocolate-json-alternats.msg"},
		{"hotchocolate json complete", SerializerJSON, EnvelopeHotChocolate, "hotchocolate-json-complete.msg"},
		{"raw msgpack", SerializerMsgpack, EnvelopeRaw, "raw-msgpack.msg"},
		{"hotchocolate msgpack str", SerializerMsgpack, EnvelopeHotChocolate, "hotchocolate-msgpack-alternats.msg"},
		{"hotchocolate msgpack map", SerializerMsgpack, EnvelopeHotChocolate, "hotchocolate-msgpack-map.msg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := readBackplaneFixture(t, tt.file)
			d := Decoder{Serializer: tt.ser, Envelope: tt.env}
			_, _, err := d.Decode(msg, false) // warm the scratch
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(100, func() {
				if _, _, err := d.Decode(msg, false); err != nil {
					panic(err)
				}
			})
			require.Zero(t, allocs)
		})
	}
}

func TestHotChocolateSubjectAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = HotChocolateSubject("Subscription", "onBookAdded")
	})
	require.LessOrEqual(t, allocs, 1.0) // the returned string
}
