package loadtest

import (
	"bytes"
	"encoding/json"

	"github.com/valyala/fastjson"
)

func (l *loop) protoErr(c *conn, kind string) {
	l.cnt.protoErrors[kind]++
	l.cnt.errors++
}

// onMessage handles one complete text message. msg is valid only during the call. Lock held.
func (l *loop) onMessage(c *conn, msg []byte, now int64) {
	v, err := l.parser.ParseBytes(msg)
	if err != nil {
		l.protoErr(c, "invalid JSON")
		return
	}
	typ := v.GetStringBytes("type")
	switch string(typ) {
	case "next", "data":
		l.onDelivery(c, v, now)
	case "connection_ack":
		if c.state != stWaitAck {
			l.protoErr(c, "duplicate connection_ack")
			return
		}
		c.state = stReady
		l.e.up.Add(1)
		l.e.everUp.Add(1)
		l.settle(c)
		for _, s := range c.subs {
			l.subscribe(c, s)
			l.e.subs.Add(1)
		}
	case "ka", "pong":
	case "ping":
		l.sendText(c, []byte(`{"type":"pong"}`))
	case "complete":
		if s := c.find(v.GetStringBytes("id")); s != nil {
			s.active = false
			if !c.churn {
				l.protoErr(c, "server complete")
			}
		}
	case "error":
		l.protoErr(c, "error message")
		if s := c.find(v.GetStringBytes("id")); s != nil {
			s.active = false
		}
	case "connection_error":
		l.fail(c, "connection_error")
	default:
		l.protoErr(c, "unknown message type")
	}
}

// find returns the subscription with id, or nil. Lock held.
func (c *conn) find(id []byte) *sub {
	if c.byID != nil {
		return c.byID[string(id)]
	}
	for _, s := range c.subs {
		if bytes.Equal(s.id, id) {
			return s
		}
	}
	return nil
}

func (l *loop) onDelivery(c *conn, v *fastjson.Value, now int64) {
	s := c.find(v.GetStringBytes("id"))
	if s == nil {
		if !c.churn {
			l.protoErr(c, "delivery for unknown id")
		}
		return
	}
	seq, ts, ok := findSeqTS(v.Get("payload"), 0)
	if !ok || seq == 0 {
		l.protoErr(c, "delivery without seq/ts")
		return
	}
	lat := (now - ts) / 1000
	if lat < 1 {
		lat = 1
	} else if lat > 60_000_000 {
		lat = 60_000_000
	}
	_ = l.hist.RecordValue(lat)
	_ = l.ivl.RecordValue(lat)
	if !s.stable {
		l.cnt.churnDelivered++
		return
	}
	l.cnt.delivered++
	s.record(uint64(seq))
}

// findSeqTS searches v depth-first for the first object holding both numeric
// "seq" and "ts" keys.
func findSeqTS(v *fastjson.Value, depth int) (seq, ts int64, ok bool) {
	if v == nil || depth > 32 {
		return 0, 0, false
	}
	switch v.Type() {
	case fastjson.TypeObject:
		if s, t := v.Get("seq"), v.Get("ts"); s != nil && t != nil &&
			s.Type() == fastjson.TypeNumber && t.Type() == fastjson.TypeNumber {
			return s.GetInt64(), t.GetInt64(), true
		}
		o, _ := v.Object()
		o.Visit(func(_ []byte, child *fastjson.Value) {
			if !ok {
				seq, ts, ok = findSeqTS(child, depth+1)
			}
		})
	case fastjson.TypeArray:
		arr, _ := v.Array()
		for _, child := range arr {
			if seq, ts, ok = findSeqTS(child, depth+1); ok {
				return
			}
		}
	}
	return
}

// subscribe sends the subscribe (or legacy start) message for s. Lock held.
func (l *loop) subscribe(c *conn, s *sub) {
	b := l.mbuf[:0]
	b = append(b, `{"id":`...)
	b = appendJSONString(b, s.id)
	if l.e.cfg.Protocol == ProtocolLegacyWS {
		b = append(b, `,"type":"start","payload":{"query":`...)
	} else {
		b = append(b, `,"type":"subscribe","payload":{"query":`...)
	}
	b = append(b, l.e.topics.queryJSON[s.topic]...)
	b = append(b, "}}"...)
	l.mbuf = b
	s.active, s.sent = true, true
	l.sendText(c, b)
}

// unsubscribe sends complete (or legacy stop) for s. Lock held.
func (l *loop) unsubscribe(c *conn, s *sub) {
	b := l.mbuf[:0]
	b = append(b, `{"id":`...)
	b = appendJSONString(b, s.id)
	if l.e.cfg.Protocol == ProtocolLegacyWS {
		b = append(b, `,"type":"stop"}`...)
	} else {
		b = append(b, `,"type":"complete"}`...)
	}
	l.mbuf = b
	s.active = false
	l.sendText(c, b)
}

func appendJSONString(dst, s []byte) []byte {
	q, _ := json.Marshal(string(s))
	return append(dst, q...)
}
