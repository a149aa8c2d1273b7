package wire

import (
	"fmt"
	"testing"
)

func BenchmarkDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		ser  Serializer
		env  Envelope
		file string
	}{
		{"raw-json", SerializerJSON, EnvelopeRaw, "raw-json.msg"},
		{"raw-msgpack", SerializerMsgpack, EnvelopeRaw, "raw-msgpack.msg"},
		{"hotchocolate-json", SerializerJSON, EnvelopeHotChocolate, "hotchocolate-json.msg"},
		{"hotchocolate-json-alternats", SerializerJSON, EnvelopeHotChocolate, "hotchocolate-json-alternats.msg"},
		{"hotchocolate-msgpack-alternats", SerializerMsgpack, EnvelopeHotChocolate, "hotchocolate-msgpack-alternats.msg"},
		{"hotchocolate-msgpack-map", SerializerMsgpack, EnvelopeHotChocolate, "hotchocolate-msgpack-map.msg"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			msg := readBackplaneFixture(b, bc.file)
			d := Decoder{Serializer: bc.ser, Envelope: bc.env}
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				if _, _, err := d.Decode(msg, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkHotChocolateSubject(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = HotChocolateSubject("Subscription", "onBookAdded")
	}
}

// ExampleDecoder decodes what a HotChocolate v13–v15 server publishes through
// AlterNats' MessagePack serializer.
func ExampleDecoder() {
	msg, _ := AppendEvent(nil, SerializerMsgpack, EnvelopeHotChocolate, []byte(`{"id":"1"}`))
	fmt.Printf("%x %s\n", msg[0], msg[1:]) // fixstr (0xa0|28) holding the envelope JSON

	d := Decoder{Serializer: SerializerMsgpack, Envelope: EnvelopeHotChocolate}
	kind, event, err := d.Decode(msg, false)
	fmt.Println(kind, string(event), err)

	kind, _, err = d.Decode(AppendCompletion(nil, SerializerMsgpack, EnvelopeHotChocolate), false)
	fmt.Println(kind, err)
	// Output:
	// bc {"body":{"id":"1"},"kind":0}
	// data {"id":"1"} <nil>
	// complete <nil>
}

func ExampleSubjects() {
	s := Subjects{Envelope: EnvelopeHotChocolate, TopicPrefix: "Subscription", SubjectPrefix: "acme"}
	fmt.Println(s.Subject("onBookAdded"))
	// Output: acme.122156489F60831E75656596683FA1B0
}
