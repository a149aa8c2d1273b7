package wire

import "bytes"

// AppendSSEEvent appends one text/event-stream event: an "event: <event>"
// line (omitted when event is empty), one "data: " line per line of data, and
// the blank line that dispatches the event. data is split at "\r\n", "\n"
// and "\r", the line ends of the SSE format, so a client reassembles it
// exactly; empty data gives one empty data line:
//
//	AppendSSEEvent(dst, "next", []byte(`{"data":{}}`))  // event: next\ndata: {"data":{}}\n\n
//	AppendSSEEvent(dst, "complete", nil)                // event: complete\ndata: \n\n
//
// event must not contain line ends.
func AppendSSEEvent(dst []byte, event string, data []byte) []byte {
	if event != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, event...)
		dst = append(dst, '\n')
	}
	for {
		dst = append(dst, "data: "...)
		i := sseLineEnd(data)
		if i < 0 {
			dst = append(dst, data...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, data[:i]...)
		dst = append(dst, '\n')
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return append(dst, '\n')
}

// AppendSSEComment appends a comment, ": <text>\n\n", which clients ignore:
// the keep-alive of an event stream. Line ends in text start new comment
// lines.
func AppendSSEComment(dst []byte, text string) []byte {
	for {
		dst = append(dst, ": "...)
		i := sseLineEndString(text)
		if i < 0 {
			dst = append(dst, text...)
			dst = append(dst, '\n')
			break
		}
		dst = append(dst, text[:i]...)
		dst = append(dst, '\n')
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
	return append(dst, '\n')
}

// sseLineEnd returns the index of the first '\n' or '\r' in b, or -1.
func sseLineEnd(b []byte) int {
	n := bytes.IndexByte(b, '\n')
	lim := b
	if n >= 0 {
		lim = b[:n]
	}
	if r := bytes.IndexByte(lim, '\r'); r >= 0 {
		return r
	}
	return n
}

func sseLineEndString(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' || s[i] == '\r' {
			return i
		}
	}
	return -1
}
