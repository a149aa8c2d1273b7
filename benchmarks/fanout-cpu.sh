#!/usr/bin/env bash
# Where the CPU of a large fan-out goes, with the load tool on the same cores:
# a server (subhub, naive or floor) with CONNS connections on one topic at
# RATE msg/s, NATS in a process of its own (a second subhub whose embedded
# NATS is all it serves). While the load tool runs, a sampler reads
# /proc/stat per CPU and /proc/PID/stat of the server, the load tool and NATS
# every 4 ms (one tick at HZ=250). Over the publishing phase (plus drain) it
# prints one row per run:
#  - the load tool's p50 and p99;
#  - the machine's busy ticks (user+nice+system+irq+softirq+steal) beside
#    the ticks of the server, the load tool, NATS and the sampler: equal
#    when softirq work done inside a process's system call is charged to
#    that process (tick-based accounting without
#    CONFIG_IRQ_TIME_ACCOUNTING), and softirq's share of the busy ticks;
#  - server and load tool CPU per delivery;
#  - how busy both cores were in the 20 ms bins that were at least half
#    busy (the fan-outs), and the length of those bins per message.
#   benchmarks/fanout-cpu.sh [SERVERS] [CONNS] [RATE] [DURATION]
# defaults: "subhub floor" 10000 1 10s; ROUNDS=n runs the servers
# interleaved n times (default 1). SOURCE_IPS (default
# 127.0.0.2-127.0.0.20) is passed to the load tool, and so are the flags in
# LT_FLAGS, e.g. LT_FLAGS="--kernel-timestamps --sched-idle".
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERS=${1:-subhub floor} CONNS=${2:-10000} RATE=${3:-1} DURATION=${4:-10s}
BIN=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$BIN"' EXIT
go build -o "$BIN/subhub" ./cmd/subhub
for s in $SERVERS; do
  case $s in subhub) ;; naive | floor) go build -o "$BIN/$s" "./benchmarks/$s" ;; *) echo "servers are subhub, naive or floor, not $s" >&2; exit 2 ;; esac
done
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listening() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing listens on port $1" >&2; exit 1; }
echo "| server | conns | msg/s | p50 ms | p99 ms | busy ticks | processes' ticks | softirq of busy | server µs/delivery | load tool µs/delivery | busy in fan-out bins | fan-out bins ms/message |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for _ in $(seq "${ROUNDS:-1}"); do for SERVER in $SERVERS; do
HP=$(port) NP=$(port) NH=$(port)
"$BIN/subhub" serve --listen 127.0.0.1:$NH --embedded-nats-listen 127.0.0.1:$NP --log-level warn &
npid=$!
listening $NH
if [ "$SERVER" = subhub ]; then
  "$BIN/subhub" serve --listen 127.0.0.1:$HP --nats-url "nats://127.0.0.1:$NP" --log-level warn &
else
  "$BIN/$SERVER" --listen 127.0.0.1:$HP --nats-url "nats://127.0.0.1:$NP" --log-level warn &
fi
pid=$!
listening $HP
rm -f "$BIN/r.json"
"$BIN/subhub" loadtest ${LT_FLAGS:-} --url "ws://127.0.0.1:$HP/graphql" --nats-url "nats://127.0.0.1:$NP" --conns "$CONNS" --ramp 5000 \
  --topics 1 --rate "$RATE" --duration "$DURATION" --warmup 2s --drain 2s --source-ips "${SOURCE_IPS:-127.0.0.2-127.0.0.20}" \
  --quiet --json "$BIN/r.json" >"$BIN/lt.log" 2>&1 &
lt=$!
python3 - "$pid" "$lt" "$npid" "$BIN/r.json" "$SERVER" "$CONNS" "$RATE" <<'PY'
import json, os, sys, time
from datetime import datetime
srv, lt, nats = (int(x) for x in sys.argv[1:4])
out, name, conns, rate = sys.argv[4], sys.argv[5], int(sys.argv[6]), float(sys.argv[7])
TCK, PERIOD, BIN_S = os.sysconf("SC_CLK_TCK"), 0.004, 0.02  # tick unit, sampling period, bin width (s)
def pcpu(pid):
    """utime+stime in ticks; None once the process has exited (a zombie too)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    return None if v[0] in ("Z", "X") else int(v[11]) + int(v[12])
def selfcpu():
    t = os.times()
    return round((t.user + t.system) * TCK)
def cpus():
    """Per CPU: busy, idle (+iowait) and softirq ticks."""
    with open("/proc/stat") as f:
        rows = [l.split() for l in f if l.startswith("cpu") and l[3] != " "]
    return [(sum(int(r[i]) for i in (1, 2, 3, 6, 7, 8)), int(r[4]) + int(r[5]), int(r[7])) for r in rows]
samples = []
while True:
    s, l = pcpu(srv), pcpu(lt)
    if s is None or l is None:
        break
    samples.append((time.time(), cpus(), s, l, pcpu(nats) or 0, selfcpu()))
    time.sleep(PERIOD)
for _ in range(100):  # the load tool writes its JSON just before it exits
    if os.path.exists(out) and os.path.getsize(out) > 0:
        break
    time.sleep(0.1)
if not os.path.exists(out) or os.path.getsize(out) == 0:
    sys.exit("fanout-cpu: the load tool wrote no result; its log ends:\n" + open(os.path.join(os.path.dirname(out), "lt.log")).read()[-2000:])
r = json.load(open(out))
ph = r["phases_s"]
t0 = datetime.fromisoformat(r["start"]).timestamp() + ph["connect"] + ph["warmup"]
t1 = t0 + ph["publish"] + ph["drain"]
win = [s for s in samples if t0 <= s[0] <= t1]
if len(win) < 2:
    sys.exit("fanout-cpu: no samples in the publishing phase")
a, b = win[0], win[-1]
busy = sum(y[0] - x[0] for x, y in zip(a[1], b[1]))
soft = sum(y[2] - x[2] for x, y in zip(a[1], b[1]))
srv_t, lt_t, rest = b[2] - a[2], b[3] - a[3], b[4] - a[4] + b[5] - a[5]  # rest: NATS and this sampler
d = r["delivered"] * (b[0] - a[0]) / (t1 - t0)  # deliveries in the sampled part of the window
if d <= 0:
    sys.exit(f"fanout-cpu: {name} delivered nothing (see the load tool's JSON: {r['errors']} errors)")
bins = {}
for x, y in zip(win, win[1:]):
    acc = bins.setdefault(int((y[0] - t0) / BIN_S), [0, 0])
    acc[0] += sum(q[0] - p[0] for p, q in zip(x[1], y[1]))
    acc[1] += sum(q[1] - p[1] for p, q in zip(x[1], y[1]))
hot = [v for v in bins.values() if v[0] + v[1] and v[0] / (v[0] + v[1]) >= 0.5]
hb, hi = sum(v[0] for v in hot), sum(v[1] for v in hot)
print(f"| {name} | {conns} | {rate:g} | {r['latency_ms']['p50']:.1f} | {r['latency_ms']['p99']:.1f} | {busy} | {srv_t + lt_t + rest} | {soft / busy * 100 if busy else 0:.0f} % "
      f"| {srv_t / TCK / d * 1e6:.1f} | {lt_t / TCK / d * 1e6:.1f} "
      f"| {hb / (hb + hi) * 100 if hot else 0:.0f} % | {len(hot) * BIN_S * 1000 / max(r['published'], 1):.0f} |")
PY
wait $lt || true
kill -TERM $pid; wait $pid || true
kill -TERM $npid; wait $npid || true
done; done
