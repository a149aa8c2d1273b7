package loadtest

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// threadPolicies returns the scheduling policy of every thread of this
// process.
func threadPolicies(t *testing.T) map[int]uint32 {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	require.NoError(t, err)
	out := map[int]uint32{}
	for _, ent := range ents {
		tid, err := strconv.Atoi(ent.Name())
		require.NoError(t, err)
		attr, err := unix.SchedGetAttr(tid, 0)
		if err == nil {
			out[tid] = attr.Policy
		}
	}
	return out
}

// TestSetSchedIdleCoversEveryThread runs setSchedIdle in a child process
// (it is for good) and checks there that every thread, including threads
// started afterwards, runs under SCHED_IDLE.
func TestSetSchedIdleCoversEveryThread(t *testing.T) {
	if os.Getenv("LOADTEST_SCHED_IDLE_CHILD") == "1" {
		require.NoError(t, setSchedIdle())
		// Threads started from now on: goroutines locked to threads while
		// all are blocked force the runtime to start new ones.
		var started, release sync.WaitGroup
		release.Add(1)
		for i := 0; i < 4; i++ {
			started.Add(1)
			go func() {
				runtime.LockOSThread()
				started.Done()
				release.Wait()
			}()
		}
		started.Wait()
		pol := threadPolicies(t)
		release.Done()
		for tid, p := range pol {
			require.EqualValues(t, unix.SCHED_IDLE, p, "thread %d", tid)
		}
		fmt.Printf("threads under SCHED_IDLE: %d\n", len(pol))
		return
	}
	for tid, p := range threadPolicies(t) {
		require.NotEqualValues(t, unix.SCHED_IDLE, p, "the test process itself (thread %d) stays as it was", tid)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, "-test.run=^TestSetSchedIdleCoversEveryThread$", "-test.v")
	cmd.Env = append(os.Environ(), "LOADTEST_SCHED_IDLE_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var n int
	for _, line := range strings.Split(string(out), "\n") {
		if _, err := fmt.Sscanf(line, "threads under SCHED_IDLE: %d", &n); err == nil {
			break
		}
	}
	require.GreaterOrEqual(t, n, 5, "the four locked threads and the main one at least:\n%s", out)
}
