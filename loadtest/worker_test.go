package loadtest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestWorkerCPUCountsFromPublish runs the child side in-process: the CPU
// it reports covers only the time after the parent said "publish".
func TestWorkerCPUCountsFromPublish(t *testing.T) {
	natsURL := startNATS(t)
	fs := startFake(t, natsURL, faults{})
	for _, publish := range []bool{false, true} {
		cfg := testConfig(fs.url, natsURL)
		cfg.WorkerIndex, cfg.WorkerCount = 0, 1
		inR, inW := io.Pipe()
		outR, outW := io.Pipe()
		done := make(chan error, 1)
		go func() { done <- runWorker(context.Background(), cfg, inR, outW); _ = outW.Close() }()

		dec := json.NewDecoder(bufio.NewReader(outR))
		var m workerMsg
		for m.Type != "subscribed" {
			m = workerMsg{}
			require.NoError(t, dec.Decode(&m))
		}
		if publish {
			_, err := io.WriteString(inW, "publish\n")
			require.NoError(t, err)
			burnCPU(50 * time.Millisecond) // CPU the worker must count
		}
		_, err := io.WriteString(inW, "stop\n")
		require.NoError(t, err)
		for m.Type != "result" {
			m = workerMsg{}
			require.NoError(t, dec.Decode(&m))
		}
		require.NoError(t, <-done)
		if publish {
			require.GreaterOrEqual(t, m.Result.CPU, 40*time.Millisecond, "CPU after publish is counted (the worker notes the start a moment after the write)")
		} else {
			require.Zero(t, m.Result.CPU, "nothing is counted before publish")
		}
	}
}

// burnCPU spins until this process has used d more CPU time.
func burnCPU(d time.Duration) {
	for start := processCPU(); processCPU()-start < d; {
	}
}
