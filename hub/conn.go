package hub

import (
	"sync"
	"time"

	"github.com/cloudwego/netpoll"
	"github.com/gobwas/ws"

	"github.com/subhub/subhub/hub/graphql"
	"github.com/subhub/subhub/wire"
)

// connState is where a connection is in its life.
type connState uint8

const (
	stateHTTP    connState = iota // reading the HTTP request
	stateWS                       // upgraded WebSocket
	stateSSE                      // text/event-stream response in progress
	stateClosing                  // close frame queued, waiting for the peer
	stateClosed                   // gone; nothing is queued or written any more
)

// conn is one client connection. The read side (in, msg, frag*, http*, the
// protocol fields) is touched only by netpoll's OnRequest task, which runs
// for one connection at a time. The write side (out, outBox, writing, dirty,
// state) is guarded by mu. wmu is held around every raw write of fd so that
// the fd is never written after netpoll closed it (see onClosed).
type conn struct {
	h  *Hub
	nc netpoll.Connection
	fd int32 // int32 so that the keep-alive flags below share its word

	// WebSocket keep-alive state (wsKeepAlive), guarded by mu.
	// wrote and heard are plain stores on paths that hold mu anyway.
	wrote    bool // a message was queued since the last tick (the ping is not one)
	heard    bool // bytes were read from the peer since the last tick
	kaPinged bool // the last tick sent a ping that the peer must answer by the next
	kaQuiet  bool // the peer was not heard during the interval before the last tick

	// read side, owned by the OnRequest task
	in        []byte // unparsed bytes (a partial frame or HTTP request); nil when empty
	msg       []byte // fragmented message being reassembled
	fragOp    ws.OpCode
	inFrag    bool
	proto     wire.Protocol
	upgraded  bool // the WebSocket handshake completed
	continued bool // "100 Continue" sent for the pending HTTP request
	discard   bool // closed for flooding: input is skipped

	// Not read-side state: they sit here, in the read side's padding, so
	// that conn stays in the 208-byte size class.
	fdClosed bool // set by onClosed under wmu: fd must not be written
	// stream says the connection holds a place in Hub.streams
	// (MaxConnections). Guarded by mu.
	stream bool

	// subs are the connection's active subscriptions. Guarded by mu
	// because a topic completion (fan-out loop) removes entries too.
	subs []*sub

	// The flags guarded by mu are kept together so that they share one
	// word: conn stays in the 208-byte size class.
	mu        sync.Mutex
	acked     bool // connection_init received and acknowledged (the init timer reads it)
	state     connState
	writing   bool        // a writer owns the socket (fast or slow path)
	blocked   bool        // the writer is parked on a full socket (slowWrite)
	dirty     bool        // queued in a fan-out loop's dirty list
	closeMode uint8       // what to do once out has drained after a close frame
	headReq   bool        // the HTTP request is HEAD: answers carry no body
	sseBare   bool        // SSE to an HTTP/1.0 client: no chunked encoding
	out       []byte      // frames queued for the socket
	outBox    *[]byte     // outPool box of out; nil when out holds no pooled buffer
	timer     *time.Timer // request timer (HTTP state), then close-wait timer
	// initTimer is the graphql-transport-ws connection_init timeout; once
	// the connection is authenticated with a token that expires, it is the
	// timer that ends the connection at the token's deadline (onTokenExpired).
	initTimer *time.Timer
	kaTimer   *time.Timer // keep-alive: legacy `ka`, graphql-transport-ws ping, SSE comment
	// cred is what the client's token established (nil without
	// authentication): set from the upgrade request's Authorization header,
	// replaced at connection_init. Written by the OnRequest task under mu;
	// the expiry timer reads it under mu.
	cred *credential

	wmu sync.Mutex // guards fdClosed
	// cors says which CORS header lines the answers to the request carry
	// (see originPolicy.match; nil for none). Set with the request like
	// headReq and guarded by mu.
	cors *string
}

// sub is one subscription of one connection. Immutable after creation except
// for done, which is set under conn.mu when it ends.
type sub struct {
	c       *conn
	id      string
	prefix  []byte // per-delivery frame prefix, see wire.AppendNextPrefix
	subject string
	key     groupKey
	done    bool
}

// groupKey groups the subscribers of one subject that receive identical
// bytes: the same compiled plan framed the same way.
type groupKey struct {
	plan  *graphql.Plan
	proto wire.Protocol
}
