package loadtest

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/stretchr/testify/require"
	"github.com/valyala/fastjson"
)

// startNATS runs an embedded NATS server on a free loopback port.
func startNATS(t *testing.T) string {
	t.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	require.NoError(t, err)
	go s.Start()
	require.True(t, s.ReadyForConnections(10*time.Second))
	t.Cleanup(s.Shutdown)
	return s.ClientURL()
}

// faults makes the fake server misbehave per subscription, by seq.
type faults struct {
	dropEvery    uint64        // drop seq%dropEvery == 0
	dupEvery     uint64        // send seq%dupEvery == 0 twice
	reorderEvery uint64        // hold seq%reorderEvery == 0 until the next sent message
	delay        time.Duration // deliver at ts+delay
	closeAfter   int           // close the connection with closeCode after this many subscribes
	closeCode    ws.StatusCode
	closeOnInit  ws.StatusCode // answer connection_init with this close code
	gqlPing      bool          // send a graphql-transport-ws {"type":"ping"} after the ack
	rejectEvery  int           // answer every n-th upgrade with HTTP 403
	fragment     bool          // send a ping before every message and split messages into two fragments
}

// fakeServer speaks graphql-transport-ws and graphql-ws, relaying NATS
// subject <topic> to subscriptions of `topic(name: "<topic>")`.
type fakeServer struct {
	t       *testing.T
	ln      net.Listener
	nc      *nats.Conn
	f       faults
	url     string
	subs    atomic.Int64
	upgrade atomic.Int64
	pings   atomic.Int64
	pongs   atomic.Int64
	gqlPong atomic.Int64
	remotes sync.Map // remote IP string -> *atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
}

var topicArg = regexp.MustCompile(`name:\s*"([^"]+)"`)

func startFake(t *testing.T, natsURL string, f faults) *fakeServer {
	t.Helper()
	return startFakeWith(t, natsURL, f, nil)
}

// startFakeWith is startFake with NATS connection options (credentials, TLS).
func startFakeWith(t *testing.T, natsURL string, f faults, natsOpts []nats.Option) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	nc, err := nats.Connect(natsURL, natsOpts...)
	require.NoError(t, err)
	fs := &fakeServer{t: t, ln: ln, nc: nc, f: f, url: "ws://" + ln.Addr().String() + "/graphql", conns: map[net.Conn]struct{}{}}
	fs.wg.Add(1)
	go fs.accept()
	t.Cleanup(func() {
		ln.Close()
		fs.mu.Lock()
		for c := range fs.conns {
			c.Close()
		}
		fs.mu.Unlock()
		fs.wg.Wait()
		nc.Close()
	})
	return fs
}

func (fs *fakeServer) accept() {
	defer fs.wg.Done()
	for {
		c, err := fs.ln.Accept()
		if err != nil {
			return
		}
		fs.mu.Lock()
		fs.conns[c] = struct{}{}
		fs.mu.Unlock()
		fs.wg.Add(1)
		go func() {
			defer fs.wg.Done()
			fs.serve(c)
			fs.mu.Lock()
			delete(fs.conns, c)
			fs.mu.Unlock()
		}()
	}
}

type clientMsg struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Payload struct {
		Query string `json:"query"`
	} `json:"payload"`
}

func (fs *fakeServer) serve(c net.Conn) {
	defer c.Close()
	ip := c.RemoteAddr().(*net.TCPAddr).IP.String()
	cnt, _ := fs.remotes.LoadOrStore(ip, new(atomic.Int64))
	cnt.(*atomic.Int64).Add(1)
	n := fs.upgrade.Add(1)
	var proto string
	u := ws.Upgrader{Protocol: func(p []byte) bool {
		if string(p) == ProtocolTransportWS || string(p) == ProtocolLegacyWS {
			proto = string(p)
			return true
		}
		return false
	}}
	if fs.f.rejectEvery > 0 && n%int64(fs.f.rejectEvery) == 0 {
		u.OnRequest = func([]byte) error { return ws.RejectConnectionError(ws.RejectionStatus(403)) }
	}
	if _, err := u.Upgrade(c); err != nil {
		return
	}
	var wmu sync.Mutex
	send := func(b []byte) {
		wmu.Lock()
		defer wmu.Unlock()
		if !fs.f.fragment {
			_ = wsutil.WriteServerText(c, b)
			return
		}
		fs.pings.Add(1)
		_ = ws.WriteFrame(c, ws.NewPingFrame([]byte("p")))
		half := len(b) / 2
		_ = ws.WriteHeader(c, ws.Header{OpCode: ws.OpText, Length: int64(half)})
		_, _ = c.Write(b[:half])
		_ = ws.WriteHeader(c, ws.Header{Fin: true, OpCode: ws.OpContinuation, Length: int64(len(b) - half)})
		_, _ = c.Write(b[half:])
	}
	subs := map[string]*nats.Subscription{}
	defer func() {
		for _, s := range subs {
			_ = s.Unsubscribe()
		}
	}()
	next := "next"
	if proto == ProtocolLegacyWS {
		next = "data"
	}
	subscribes := 0
	for {
		b, err := fs.readText(c)
		if err != nil {
			return
		}
		var m clientMsg
		if json.Unmarshal(b, &m) != nil {
			return
		}
		switch m.Type {
		case "connection_init":
			if fs.f.closeOnInit != 0 {
				wmu.Lock()
				_ = ws.WriteFrame(c, ws.NewCloseFrame(ws.NewCloseFrameBody(fs.f.closeOnInit, "Forbidden")))
				wmu.Unlock()
				return
			}
			send([]byte(`{"type":"connection_ack"}`))
			if fs.f.gqlPing {
				send([]byte(`{"type":"ping"}`))
			}
			if proto == ProtocolLegacyWS {
				send([]byte(`{"type":"ka"}`))
			}
		case "subscribe", "start":
			mm := topicArg.FindStringSubmatch(m.Payload.Query)
			if mm == nil {
				send([]byte(`{"id":` + strconv.Quote(m.ID) + `,"type":"error","payload":[{"message":"bad query"}]}`))
				continue
			}
			prefix := []byte(`{"id":` + strconv.Quote(m.ID) + `,"type":"` + next + `","payload":{"data":{"topic":`)
			s, err := fs.nc.Subscribe(mm[1], fs.relay(prefix, send))
			if err != nil {
				return
			}
			_ = fs.nc.Flush()
			subs[m.ID] = s
			fs.subs.Add(1)
			subscribes++
			if fs.f.closeAfter > 0 && subscribes >= fs.f.closeAfter {
				wmu.Lock()
				_ = ws.WriteFrame(c, ws.NewCloseFrame(ws.NewCloseFrameBody(fs.f.closeCode, "bye")))
				wmu.Unlock()
				return
			}
		case "pong":
			fs.gqlPong.Add(1)
		case "complete", "stop":
			if s := subs[m.ID]; s != nil {
				_ = s.Unsubscribe()
				delete(subs, m.ID)
			}
		}
	}
}

// relay returns the NATS handler of one subscription, applying the faults.
// nats.go calls it sequentially per subscription.
func (fs *fakeServer) relay(prefix []byte, send func([]byte)) nats.MsgHandler {
	var held [][]byte
	f := fs.f
	return func(msg *nats.Msg) {
		v, err := fastjson.ParseBytes(msg.Data)
		if err != nil {
			return
		}
		seq, ts := v.GetUint64("seq"), v.GetInt64("ts")
		if f.delay > 0 {
			if d := time.Until(time.Unix(0, ts).Add(f.delay)); d > 0 {
				time.Sleep(d) // server behaviour under test, not synchronisation
			}
		}
		frame := append(append(append([]byte{}, prefix...), msg.Data...), "}}}"...)
		if f.dropEvery > 0 && seq%f.dropEvery == 0 {
			return
		}
		copies := 1
		if f.dupEvery > 0 && seq%f.dupEvery == 0 {
			copies = 2
		}
		var out [][]byte
		for i := 0; i < copies; i++ {
			out = append(out, frame)
		}
		if f.reorderEvery > 0 && seq%f.reorderEvery == 0 {
			held = append(held, out...)
			return
		}
		for _, b := range out {
			send(b)
		}
		for _, b := range held {
			send(b)
		}
		held = held[:0]
	}
}

// readText returns the next text message of a client, counting pongs. It
// insists on masked client frames (RFC 6455 section 5.1).
func (fs *fakeServer) readText(c net.Conn) ([]byte, error) {
	for {
		h, err := ws.ReadHeader(c)
		if err != nil {
			return nil, err
		}
		if !h.Masked {
			return nil, errors.New("unmasked client frame")
		}
		payload := make([]byte, h.Length)
		if _, err := io.ReadFull(c, payload); err != nil {
			return nil, err
		}
		ws.Cipher(payload, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPong:
			if string(payload) == "p" {
				fs.pongs.Add(1)
			}
		case ws.OpClose:
			return nil, io.EOF
		case ws.OpText:
			return payload, nil
		}
	}
}
