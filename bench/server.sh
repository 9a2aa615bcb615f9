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
gpid=
trap 'kill $pid $gpid 2>/dev/null; wait $pid $gpid 2>/dev/null; rm -rf "$work"' EXIT
(cd .. && go build -o "$work/jwtgate" ./cmd/jwtgate)
go build -o "$work/ginjwt" ./ginjwt
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

# The same protected endpoint with gin + appleboy/gin-jwt, for comparison.
GINJWT_SECRET=$(head -c 32 /dev/urandom | base64) "$work/ginjwt" -addr 127.0.0.1:18182 >"$work/gin.out" 2>&1 &
gpid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18182/healthz >/dev/null && break; sleep 0.1; done
gtoken=$(head -1 "$work/gin.out")

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version)"
echo "# wrk -t2 -c$CONNS -d$DURATION, server and client on the same machine"
rps() { wrk -t2 -c"$CONNS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $token" http://$addr/me >/dev/null # warm up
health=$(rps http://$addr/healthz)
me=$(rps -H "Authorization: Bearer $token" http://$addr/me)
gin=$(rps -H "Authorization: Bearer $gtoken" http://127.0.0.1:18182/me)
health2=$(rps http://$addr/healthz)
me2=$(rps -H "Authorization: Bearer $token" http://$addr/me)
gin2=$(rps -H "Authorization: Bearer $gtoken" http://127.0.0.1:18182/me)
echo "| endpoint | req/s (round 1) | req/s (round 2) |"
echo "| --- | ---: | ---: |"
echo "| jwtgate GET /healthz | $health | $health2 |"
echo "| jwtgate GET /me (Bearer) | $me | $me2 |"
echo "| gin + gin-jwt GET /me (Bearer) | $gin | $gin2 |"
awk -v h="$health" -v m="$me" -v g="$gin" -v h2="$health2" -v m2="$me2" -v g2="$gin2" \
  'BEGIN { printf "\n/me ÷ /healthz: %.3f, %.3f (target >= 0.95); jwtgate /me ÷ gin-jwt /me: %.2f, %.2f (target >= 1)\n\n", m/h, m2/h2, m/g, m2/g2 }'

(cd . && go run ./loadtest -url http://$addr -user bench -pid $pid)
