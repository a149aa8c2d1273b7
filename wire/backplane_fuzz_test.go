package wire

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// checkBackplaneDecode decodes in and asserts the Decode contract: no panic, a data
// event is valid JSON, other kinds carry no event, errors carry no event.
func checkBackplaneDecode(t *testing.T, d *Decoder, in []byte, complete bool) {
	kind, event, err := d.Decode(in, complete)
	if err != nil {
		require.Nil(t, event)
		return
	}
	switch kind {
	case EventData:
		require.NoError(t, fastjson.ValidateBytes(event), "event %q from %q", event, in)
		require.True(t, utf8.Valid(event), "event %q from %q", event, in)
	case EventComplete, EventIgnore:
		require.Nil(t, event)
	default:
		t.Fatalf("unknown kind %v", kind)
	}
}

func addBackplaneSeeds(f *testing.F) {
	for _, tt := range backplaneGolden {
		b := readBackplaneFixture(f, tt.file)
		f.Add(b, tt.ser == SerializerMsgpack)
	}
	f.Add([]byte(`"{\"body\":{\"s\":\"\\ud83d\\ude00\"},\"kind\":0}"`), false)
	f.Add([]byte(`{"b\u006fdy":[1,{"x":"}"}],"kind":0}`), false)
	f.Add(mpBytes(0x82, 0xa4, "body", 0xc4, 0x02, "hi", 0xa4, "kind", 0x00), true)
	f.Add(mpBytes(0x83, 0xa2, "ts", 0xd6, 0xff, 0, 0, 0, 0, 0xa4, "body", 0xc3, 0xa4, "kind", 0xcc, 0x00), true)
}

func FuzzDecodeHotChocolate(f *testing.F) {
	addBackplaneSeeds(f)
	f.Fuzz(func(t *testing.T, in []byte, msgpack bool) {
		d := Decoder{Envelope: EnvelopeHotChocolate}
		if msgpack {
			d.Serializer = SerializerMsgpack
		}
		checkBackplaneDecode(t, &d, in, false)
		// The same Decoder again: scratch reuse must not change the outcome.
		checkBackplaneDecode(t, &d, in, false)
	})
}

func FuzzDecodeMsgpack(f *testing.F) {
	addBackplaneSeeds(f)
	f.Add(mpBytes(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, "k", 0xc0), true)
	f.Add(mpBytes(0x93, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa3, "a\xffb", 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), false)
	f.Fuzz(func(t *testing.T, in []byte, _ bool) {
		d := Decoder{Serializer: SerializerMsgpack}
		checkBackplaneDecode(t, &d, in, false)
	})
}
