package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
)

// TestKernelTimestampsLeaveOutTheToolsOwnDelay delivers one message to a
// ready connection and has the loop read it 150 ms later: read-time stamps
// count those 150 ms as latency, kernel stamps do not.
func TestKernelTimestampsLeaveOutTheToolsOwnDelay(t *testing.T) {
	const late = 150 * time.Millisecond
	tests := []struct {
		name           string
		kernel, enable bool // KernelTimestamps; stamps enabled on the socket
	}{
		{"read time", false, false},
		{"kernel stamps", true, true},
		{"kernel stamps asked for, none given", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kernel := tc.kernel && tc.enable // a stamp is what the read gets
			cfg := DefaultConfig()
			cfg.KernelTimestamps = tc.kernel
			require.NoError(t, cfg.Validate())
			e, err := newEngine(&cfg, newTopicSet(&cfg), 1)
			require.NoError(t, err)
			defer e.close()
			l := e.loops[0]

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			defer ln.Close()
			client, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			defer client.Close()
			server, err := ln.Accept()
			require.NoError(t, err)
			defer server.Close()
			f, err := client.(*net.TCPConn).File()
			require.NoError(t, err)
			defer f.Close()
			fd := int(f.Fd())
			require.NoError(t, unix.SetNonblock(fd, true))
			if tc.enable {
				require.NoError(t, nbio.EnableStamps(fd))
				stampingOn(t)
			}

			c := e.newConn(0, false)
			c.fd, c.state = fd, stReady
			c.subs[0].active, c.subs[0].sent = true, true
			msg := fmt.Sprintf(`{"id":%q,"type":"next","payload":{"data":{"t":{"seq":1,"ts":%d}}}}`, c.subs[0].id, time.Now().UnixNano())
			require.Less(t, len(msg), 126)
			_, err = server.Write(append([]byte{0x81, byte(len(msg))}, msg...))
			require.NoError(t, err)
			time.Sleep(late)

			l.mu.Lock()
			l.readAll(c, false)
			l.mu.Unlock()
			require.EqualValues(t, 1, l.cnt.delivered, "protocol errors: %v", l.cnt.protoErrors)
			got := time.Duration(l.hist.Max()) * time.Microsecond
			if kernel {
				require.Less(t, got, late/2, "the kernel stamp is when the frame arrived")
			} else {
				require.GreaterOrEqual(t, got, late, "the read-time stamp includes the wait")
			}
			wantUnstamped := int64(0)
			if tc.kernel && !tc.enable {
				wantUnstamped = 1
			}
			require.Equal(t, wantUnstamped, l.cnt.unstamped, "a delivery read without a stamp is counted when stamps were asked for")
			require.Equal(t, wantUnstamped, e.collect().Unstamped)
		})
	}
}

// stampingOn waits until the kernel stamps received segments: the first
// socket that asks switches stamping on a moment later (a deferred work
// item). Its own connection keeps stamping on until the test ends.
func stampingOn(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { client.Close() })
	server, err := ln.Accept()
	require.NoError(t, err)
	t.Cleanup(func() { server.Close() })
	f, err := client.(*net.TCPConn).File()
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	fd := int(f.Fd())
	require.NoError(t, unix.SetNonblock(fd, true))
	require.NoError(t, nbio.EnableStamps(fd))
	var s nbio.Stamped
	buf := make([]byte, 64)
	require.Eventually(t, func() bool {
		if _, err := server.Write([]byte("p")); err != nil {
			return false
		}
		time.Sleep(time.Millisecond)
		_, stamp, err := s.Read(fd, buf)
		return err == nil && stamp != 0
	}, 5*time.Second, 10*time.Millisecond, "the kernel never stamped a segment")
}

func TestWorkerArgsCarryTheMeasurementFlags(t *testing.T) {
	for _, flags := range [][]string{nil, {"--kernel-timestamps"}, {"--kernel-timestamps", "--sched-idle"}} {
		cfg, err := ParseFlags(append([]string{"--workers", "2"}, flags...))
		require.NoError(t, err)
		w, err := ParseFlags(cfg.workerArgs(1))
		require.NoError(t, err, "worker args %q", cfg.workerArgs(1))
		require.Equal(t, 1, w.WorkerIndex)
		require.Equal(t, cfg.KernelTimestamps, w.KernelTimestamps, "flags %q", flags)
		require.Equal(t, cfg.SchedIdle, w.SchedIdle, "flags %q", flags)
	}
}

// TestRunWithKernelTimestamps: a whole run with kernel stamps still counts
// the server's own delay as latency, stamps every delivery and says so.
func TestRunWithKernelTimestamps(t *testing.T) {
	stampingOn(t)
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{delay: 50 * time.Millisecond})
	cfg := testConfig(fs.url, natsURL)
	cfg.KernelTimestamps = true
	r, err := Run(context.Background(), cfg, nil)
	require.NoError(t, err)
	require.Zero(t, r.Lost)
	require.EqualValues(t, 600, r.Delivered)
	require.GreaterOrEqual(t, r.Latency.P50, 50.0, "the server's delay is latency")
	require.True(t, r.KernelTimestamps)
	require.Zero(t, r.Unstamped, "stamping was on before the run, so every delivery has a stamp")
	var out bytes.Buffer
	r.WriteText(&out)
	require.Contains(t, out.String(), "kernel stamps; 0 deliveries had none and were timed by the clock")
}
