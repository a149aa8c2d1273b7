#!/usr/bin/env bash
# Runtime figures the e2e table does not show, from subhub's own /metrics:
#  1. GC during fan-out: GC cycles and stop-the-world pause quantiles while
#     CONNS connections on one topic receive RATE msg/s.
#  2. Churn: goroutines, NATS subscriptions, live heap and RSS once every
#     client has gone, for the fresh server, for the warm baseline (after
#     the fan-out run and a run of the churn scenario's connections and
#     publishing without churn: the server has seen the same connection
#     peak) and after each of two runs with --churn. Churn must bring them
#     back to the warm baseline, and a second churn run must not leave more
#     behind than the first. The fresh figures show what the connection
#     peak itself leaves (runtime records and caches sized by the peak).
#     RSS is sampled 2, 10 and 30 s after the last client left, without
#     forcing a GC (what the OS sees of an idle server: it allocates
#     nothing, so no GC runs and RSS stays flat until the runtime's periodic
#     GC, at most 2 minutes later), then once more after a forced GC (what
#     that periodic GC brings it to).
#   benchmarks/runtime.sh [CONNS] [RATE]     defaults: 5000 20
# HEAP_WARM_OUT=f.pb.gz and HEAP_OUT=f.pb.gz save heap profiles of the
# warm baseline and of the server after the first churn run (go tool pprof
# -diff_base).
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
g0=$(metric go_gc_cycles_total)
"${LT[@]}" --conns "$CONNS" --topics 1 --rate "$RATE" --duration 10s --json "$BIN/fan.json" >/dev/null 2>&1
g1=$(metric go_gc_cycles_total)
echo "GC during fan-out ($CONNS connections, 1 topic, $RATE msg/s, 10 s): $(python3 -c "import json;print(json.load(open('$BIN/fan.json'))['delivered'])") deliveries, $((g1-g0)) GC cycles;" \
  "pause p50 $(metric 'go_gc_pause_seconds{quantile="0.5"}') s, p99 $(metric 'go_gc_pause_seconds{quantile="0.99"}') s, max $(metric 'go_gc_pause_seconds{quantile="1"}') s (whole process life, bucket upper bounds)"

# The churn scenario's load ($1: name, the rest: extra flags), then every
# client gone; RSS sampled 2, 10 and 30 s later, then live heap, goroutines
# and RSS after a forced GC.
settle() {
  local name=$1; shift
  "${LT[@]}" --topics 100 --rate 200 --duration 10s --json "$BIN/$name.json" "$@" >/dev/null 2>&1
  # the /metrics request itself is one connection
  for _ in $(seq 100); do [ "$(metric subhub_connections)" = "1" ] && break; sleep 0.1; done
  sleep 2; r2=$(rss); sleep 8; r10=$(rss); sleep 20; r30=$(rss)
  gc; echo "$(metric go_goroutines) $(metric go_gc_heap_live_bytes) $(rss) $r2 $r10 $r30 $(metric subhub_nats_subscriptions)"
}
# Warm baseline: the connections of a churn run (2,000 stable + 100 churn
# connections) and its publishing, without churn.
w=$(settle warm --conns 2100)
[ -n "${HEAP_WARM_OUT:-}" ] && curl -s -o "$HEAP_WARM_OUT" "http://127.0.0.1:$PP/debug/pprof/heap"
c1=$(settle churn1 --conns 2000 --churn 1000)
[ -n "${HEAP_OUT:-}" ] && curl -s -o "$HEAP_OUT" "http://127.0.0.1:$PP/debug/pprof/heap"
c2=$(settle churn2 --conns 2000 --churn 1000)
python3 - "$BIN/warm.json" "$BIN/churn1.json" "$BIN/churn2.json" "$b_g $b_h $b_r" "$w" "$c1" "$c2" <<'PY'
import json, sys
rw, r1, r2 = (json.load(open(f)) for f in sys.argv[1:4])
fresh, w, c1, c2 = (a.split() for a in sys.argv[4:8])
mib = lambda kb: f"{int(kb)/1024:.1f}"
heap = lambda b: f"{int(b)/1048576:.1f}"
print(f"Churn (2,000 stable connections over 100 topics, 200 msg/s, 1,000 subscribe+unsubscribe/s on 100 more connections for 10 s): "
      f"{r1['churn_ops']} and {r2['churn_ops']} churn operations, stable subscribers lost {r1['lost']} of {r1['expected']} and {r2['lost']} of {r2['expected']} "
      f"(warm-up without churn: {rw['lost']} of {rw['expected']}).")
print(f"  fresh server: goroutines {fresh[0]}, live heap {heap(fresh[1])} MiB, RSS {mib(fresh[2])} MiB")
for name, c in (("warm baseline (fan-out, then 2,100 connections without churn)", w),
                ("after churn run 1", c1), ("after churn run 2", c2)):
    print(f"  {name}: goroutines {c[0]}, NATS subscriptions {c[6]}, live heap {heap(c[1])} MiB, "
          f"RSS {mib(c[3])} MiB at +2 s, {mib(c[4])} at +10 s, {mib(c[5])} at +30 s, {mib(c[2])} after a forced GC")
for name, c in (("churn run 1", c1), ("churn run 2", c2)):
    print(f"  {name} against the warm baseline: goroutines {int(c[0])-int(w[0]):+d}, live heap {(int(c[1])-int(w[1]))/1048576:+.2f} MiB, "
          f"RSS after a forced GC {(int(c[2])-int(w[2]))/1024:+.1f} MiB")
PY
