package loadtest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/subhub/subhub/internal/nbio"
	"github.com/subhub/subhub/internal/nbio/nbiotest"
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

			send, fd := nbiotest.TCPPair(t)
			if tc.enable {
				require.NoError(t, nbio.EnableStamps(fd))
				nbiotest.StampingOn(t)
			}

			c := e.newConn(0, false)
			c.fd, c.state = fd, stReady
			c.subs[0].active, c.subs[0].sent = true, true
			msg := fmt.Sprintf(`{"id":%q,"type":"next","payload":{"data":{"t":{"seq":1,"ts":%d}}}}`, c.subs[0].id, time.Now().UnixNano())
			require.Less(t, len(msg), 126)
			_, err = unix.Write(send, append([]byte{0x81, byte(len(msg))}, msg...))
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
	nbiotest.StampingOn(t)
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
