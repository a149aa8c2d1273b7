#!/usr/bin/env bash
# Tuning sweep: one scenario against subhub with different --shards,
# --nats-pool and --coalesce values, one run at a time, each on a fresh NATS
# server in a process of its own (a second subhub whose embedded NATS is
# all it serves), so the NATS server's routing is not counted as the hub's
# CPU. Prints one markdown row per setting: deliveries/s, p50/p99, loss and
# hub CPU-seconds per million deliveries (utime+stime from /proc).
#
#   benchmarks/sweep.sh [CONNS] [TOPICS] [RATE] [DURATION]
# defaults: 4000 connections over 1000 topics, 4000 msg/s, 10s.
# SETTINGS="shards pool coalesce;..." overrides the settings swept.
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS=${1:-4000} TOPICS=${2:-1000} RATE=${3:-4000} DURATION=${4:-10s}
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/subhub" ./cmd/subhub
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu() { awk '{print $14+$15}' "/proc/$1/stat"; }
tck=$(getconf CLK_TCK)
up() { for _ in $(seq 50); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return; sleep 0.1; done; echo "no server on port $1" >&2; exit 1; }
echo "| --shards | --nats-pool | --coalesce | deliveries/s | p50 ms | p99 ms | loss | hub CPU-s per M deliveries |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
IFS=';' read -ra settings <<<"${SETTINGS:-1 1 20ms;8 1 20ms;32 1 20ms;8 4 20ms;8 1 0}"
for setting in "${settings[@]}"; do
  set -- $setting
  HP=$(port) NP=$(port) NH=$(port)
  "$BIN/subhub" serve --listen 127.0.0.1:$NH --embedded-nats-listen 127.0.0.1:$NP --log-level warn &
  npid=$!
  up $NH
  "$BIN/subhub" serve --listen 127.0.0.1:$HP --nats-url "nats://127.0.0.1:$NP" --shards "$1" --nats-pool "$2" --coalesce "$3" --log-level warn &
  pid=$!
  up $HP
  "$BIN/subhub" loadtest --url "ws://127.0.0.1:$HP/graphql" --nats-url "nats://127.0.0.1:$NP" --conns "$CONNS" --topics "$TOPICS" \
    --rate "$RATE" --duration "$DURATION" --warmup 2s --quiet --json "$BIN/r.json" >/dev/null 2>&1 &
  lt=$!
  # CPU is counted from the end of connecting (all subscriptions registered) to the end of the run.
  until curl -sf "http://127.0.0.1:$HP/metrics" | grep -q "^subhub_subscriptions $CONNS\$"; do sleep 0.05; done
  c0=$(cpu $pid)
  wait $lt || true
  c1=$(cpu $pid)
  kill -TERM $pid; wait $pid || true
  kill -TERM $npid; wait $npid || true
  python3 - "$BIN/r.json" "$1" "$2" "$3" "$c0" "$c1" "$tck" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
cpu = (float(sys.argv[6]) - float(sys.argv[5])) / float(sys.argv[7])
d = r["delivered"] + r.get("churn_delivered", 0)
print(f"| {sys.argv[2]} | {sys.argv[3]} | {sys.argv[4]} | {r['deliveries_per_s']:,.0f} | {r['latency_ms']['p50']:.2f} | {r['latency_ms']['p99']:.2f} | {r['loss_ratio']*100:.4f}% | {cpu/d*1e6 if d else float('nan'):.2f} |")
PY
done
