#!/usr/bin/env bash
# Server benchmarks on loopback: protected GET /me against unauthenticated
# GET /healthz on the same server in the same run (wrk), then login latency
# and peak RSS (./loadtest). Needs wrk (apt-get install wrk).
#
#   ./server.sh            # DURATION=10s CONNS=64 by default
set -euo pipefail
cd "$(dirname "$0")"
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
(cd .. && go build -o "$work/jwtgate" ./cmd/jwtgate)
addr=127.0.0.1:18181
# Rate limits off: this measures the server, not the limiter.
"$work/jwtgate" serve --addr $addr --data "$work/data" --login-ip-burst 0 --login-user-burst 0 \
  --log-level error >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf http://$addr/healthz >/dev/null && break; sleep 0.1; done
export BENCH_PASSWORD=bench-password-123
printf '%s\n' "$BENCH_PASSWORD" | "$work/jwtgate" user add bench --role editor --data "$work/data" >/dev/null
token=$(curl -sf -X POST http://$addr/login -H 'Content-Type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$BENCH_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version)"
echo "# wrk -t2 -c$CONNS -d$DURATION, server and client on the same machine"
rps() { wrk -t2 -c"$CONNS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $token" http://$addr/me >/dev/null # warm up
health=$(rps http://$addr/healthz)
me=$(rps -H "Authorization: Bearer $token" http://$addr/me)
health2=$(rps http://$addr/healthz)
me2=$(rps -H "Authorization: Bearer $token" http://$addr/me)
echo "| endpoint | req/s (run 1) | req/s (run 2) |"
echo "| --- | ---: | ---: |"
echo "| GET /healthz | $health | $health2 |"
echo "| GET /me (Bearer) | $me | $me2 |"
awk -v h="$health" -v m="$me" -v h2="$health2" -v m2="$me2" \
  'BEGIN { printf "\n/me ÷ /healthz: %.3f, %.3f (target >= 0.95)\n\n", m/h, m2/h2 }'

(cd . && go run ./loadtest -url http://$addr -user bench -pid $pid)
