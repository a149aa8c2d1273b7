#!/usr/bin/env bash
# Runtime figures the e2e table does not show, from subhub's own /metrics:
#  1. GC during fan-out: GC cycles and stop-the-world pause quantiles while
#     CONNS connections on one topic receive RATE msg/s.
#  2. Churn: goroutines, live heap and RSS of the fresh server, after the
#     fan-out run and a run with --churn ended (every client gone), and after
#     a second fan-out + churn cycle: they must come back to baseline, and a
#     second cycle must not leave more behind than the first. RSS is sampled 2, 10 and 30 s after the
#     last client left, without forcing a GC (what the OS sees of an idle
#     server: it allocates nothing, so no GC runs and RSS stays flat until
#     the runtime's periodic GC, at most 2 minutes later), then once more
#     after a forced GC (what that periodic GC brings it to).
#   benchmarks/runtime.sh [CONNS] [RATE]     defaults: 5000 20
# HEAP_FRESH_OUT=f.pb.gz and HEAP_OUT=f.pb.gz save heap profiles of the
# fresh server and of the server after the first churn cycle (go tool pprof -diff_base).
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-5000} RATE=${2:-20}
BIN=$(mktemp -d)
trap 'kill %1 2>/dev/null || true; rm -rf "$BIN"' EXIT
go build -o "$BIN/subhub" ./cmd/subhub
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HP=$(port) NP=$(port) PP=$(port)
"$BIN/subhub" serve --listen 127.0.0.1:$HP --embedded-nats-listen 127.0.0.1:$NP --pprof-listen 127.0.0.1:$PP --log-level warn &
pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$HP/healthz" >/dev/null && break; sleep 0.1; done
metric() { curl -s "http://127.0.0.1:$HP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
# forces two GCs, so the live heap is current and sync.Pool victims (kept
# for one cycle) are gone. debug=1 (text, no gzip) so that writing the
# profile allocates too little to start a GC whose live heap would include
# the profile itself.
gc() { for _ in 1 2; do curl -s -o /dev/null "http://127.0.0.1:$PP/debug/pprof/heap?gc=1&debug=1"; done; }
rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
LT=("$BIN/subhub" loadtest --url "ws://127.0.0.1:$HP/graphql" --nats-url "nats://127.0.0.1:$NP" --quiet)

gc; b_g=$(metric go_goroutines) b_h=$(metric go_gc_heap_live_bytes) b_r=$(rss) # baseline: fresh, no clients
[ -n "${HEAP_FRESH_OUT:-}" ] && curl -s -o "$HEAP_FRESH_OUT" "http://127.0.0.1:$PP/debug/pprof/heap"
g0=$(metric go_gc_cycles_total)
"${LT[@]}" --conns "$CONNS" --topics 1 --rate "$RATE" --duration 10s --json "$BIN/fan.json" >/dev/null 2>&1
g1=$(metric go_gc_cycles_total)
echo "GC during fan-out ($CONNS connections, 1 topic, $RATE msg/s, 10 s): $(python3 -c "import json;print(json.load(open('$BIN/fan.json'))['delivered'])") deliveries, $((g1-g0)) GC cycles;" \
  "pause p50 $(metric 'go_gc_pause_seconds{quantile="0.5"}') s, p99 $(metric 'go_gc_pause_seconds{quantile="0.99"}') s, max $(metric 'go_gc_pause_seconds{quantile="1"}') s (whole process life, bucket upper bounds)"

# One load cycle ($1 names it): the churn run, then every client gone; RSS sampled 2, 10
# and 30 s later, then live heap, goroutines and RSS after a forced GC.
cycle() {
  "${LT[@]}" --conns 2000 --topics 100 --rate 200 --churn 1000 --duration 10s --json "$BIN/churn$1.json" >/dev/null 2>&1
  # the /metrics request itself is one connection
  for _ in $(seq 100); do [ "$(metric subhub_connections)" = "1" ] && break; sleep 0.1; done
  sleep 2; r2=$(rss); sleep 8; r10=$(rss); sleep 20; r30=$(rss)
  gc; echo "$(metric go_goroutines) $(metric go_gc_heap_live_bytes) $(rss) $r2 $r10 $r30 $(metric subhub_nats_subscriptions)"
}
c1=$(cycle 1)
[ -n "${HEAP_OUT:-}" ] && curl -s -o "$HEAP_OUT" "http://127.0.0.1:$PP/debug/pprof/heap"
# the same fan-out and churn once more: whatever the first cycle left behind
# must not grow with a second one
"${LT[@]}" --conns "$CONNS" --topics 1 --rate "$RATE" --duration 10s >/dev/null 2>&1
c2=$(cycle 2)
python3 - "$BIN/churn1.json" "$BIN/churn2.json" "$b_g $b_h $b_r" "$c1" "$c2" <<'PY'
import json, sys
r1, r2 = (json.load(open(f)) for f in sys.argv[1:3])
fresh, c1, c2 = (a.split() for a in sys.argv[3:6])
mib = lambda kb: f"{int(kb)/1024:.1f}"
heap = lambda b: f"{int(b)/1048576:.1f}"
print(f"Churn (2,000 stable connections over 100 topics, 200 msg/s, 1,000 subscribe+unsubscribe/s for 10 s): "
      f"{r1['churn_ops']} and {r2['churn_ops']} churn operations, stable subscribers lost {r1['lost']} of {r1['expected']} and {r2['lost']} of {r2['expected']}.")
print(f"  fresh server: goroutines {fresh[0]}, live heap {heap(fresh[1])} MiB, RSS {mib(fresh[2])} MiB")
for name, c in (("after cycle 1 (fan-out + churn)", c1), ("after cycle 2 (the same again)", c2)):
    print(f"  {name}: goroutines {c[0]}, NATS subscriptions {c[6]}, live heap {heap(c[1])} MiB, "
          f"RSS {mib(c[3])} MiB at +2 s, {mib(c[4])} at +10 s, {mib(c[5])} at +30 s, {mib(c[2])} after a forced GC")
PY
