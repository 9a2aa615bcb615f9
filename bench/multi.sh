#!/usr/bin/env bash
# Throughput of login, refresh and GET /posts on SQLite and on PostgreSQL,
# with one and with two jwtgate instances (requests round-robin, as behind
# a load balancer), on this machine, in one run. PostgreSQL rows need
# JWTGATE_BENCH_POSTGRES_URL (an empty database the script may fill).
#
#   ./multi.sh                 # D=5s C=16 by default
set -euo pipefail
cd "$(dirname "$0")"
D=${D:-5s}
C=${C:-16}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
(cd .. && go build -o "$work/jwtgate" ./cmd/jwtgate)
go build -o "$work/throughput" ./throughput
export BENCH_PASSWORD=bench-password-123

# start PORT STORAGE-ARGS... : one instance, rate limits off (this measures
# the server, not the limiter).
start() {
  local port=$1; shift
  "$work/jwtgate" serve --addr 127.0.0.1:$port --login-ip-burst 0 --login-user-net-burst 0 --login-user-burst 0 \
    --log-level error "$@" >>"$work/serve.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && return; sleep 0.1; done
  echo "instance on $port did not start" >&2; cat "$work/serve.log" >&2; exit 1
}
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; pids=(); }

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version)"
echo "# $C clients, $D per column; login is argon2id-bound (19 MiB, t=2) by design"
header=--header
bench() { # label storage-args...
  local label=$1; shift
  printf '%s\n' "$BENCH_PASSWORD" | "$work/jwtgate" user add bench --role editor "$@" >/dev/null 2>&1 || true
  start 18191 "$@"
  "$work/throughput" -urls http://127.0.0.1:18191 -c "$C" -d "$D" -label "$label, 1 instance" $header
  header=
  start 18192 "$@"
  "$work/throughput" -urls http://127.0.0.1:18191,http://127.0.0.1:18192 -c "$C" -d "$D" -label "$label, 2 instances"
  stop_all
}
bench sqlite --data "$work/data"
if [ -n "${JWTGATE_BENCH_POSTGRES_URL:-}" ]; then
  bench postgres --db "$JWTGATE_BENCH_POSTGRES_URL"
else
  echo "(PostgreSQL rows skipped: set JWTGATE_BENCH_POSTGRES_URL)"
fi
