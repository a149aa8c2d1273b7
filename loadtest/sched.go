package loadtest

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// setSchedIdle moves every thread of this process to SCHED_IDLE, so that
// the load tool runs only on CPU time that nothing else on the machine
// wants. Threads started later inherit the policy from the thread that
// starts them, as do worker processes; passes repeat until one finds every
// thread already idle, so a thread born during a pass is not missed.
// Lowering one's own priority needs no privilege.
func setSchedIdle() error {
	for pass := 0; pass < 100; pass++ {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("--sched-idle: %w", err)
		}
		changed := 0
		for _, ent := range ents {
			tid, err := strconv.Atoi(ent.Name())
			if err != nil {
				continue
			}
			attr, err := unix.SchedGetAttr(tid, 0)
			if errors.Is(err, unix.ESRCH) {
				continue // the thread has exited
			}
			if err != nil {
				return fmt.Errorf("--sched-idle: sched_getattr: %w", err)
			}
			if attr.Policy == unix.SCHED_IDLE {
				continue
			}
			err = unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_IDLE}, 0)
			if errors.Is(err, unix.ESRCH) {
				continue
			}
			if err != nil {
				return fmt.Errorf("--sched-idle: sched_setattr: %w", err)
			}
			changed++
		}
		if changed == 0 {
			return nil
		}
	}
	return errors.New("--sched-idle: threads kept appearing")
}
