#!/usr/bin/env bash
# Server benchmarks on loopback: protected GET /me against unauthenticated
# GET /healthz on the same server in the same run (wrk), then login latency
# and peak RSS (./loadtest). Needs wrk (apt-get install wrk).
#
#   ./server.sh            # DURATION=4s per run, ROUNDS=5, CONNS=64 by default
set -euo pipefail
cd "$(dirname "$0")"
DURATION=${DURATION:-4s}
CONNS=${CONNS:-64}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
# With taskset, the server gets core 0 and wrk core 1: neither steals the
# other's cycles, which makes rounds far steadier on a 2-core machine.
pin_server= pin_client= wrk_threads=2
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin_server="taskset -c 0" pin_client="taskset -c 1" wrk_threads=1
fi
gpid=
trap 'kill $pid $gpid 2>/dev/null; wait $pid $gpid 2>/dev/null; rm -rf "$work"' EXIT
(cd .. && go build -o "$work/jwtgate" ./cmd/jwtgate)
go build -o "$work/ginjwt" ./ginjwt
addr=127.0.0.1:18181
# Rate limits off: this measures the server, not the limiter.
$pin_server "$work/jwtgate" serve --addr $addr --data "$work/data" --login-ip-burst 0 --login-user-burst 0 \
  --log-level error >"$work/serve.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -sf http://$addr/healthz >/dev/null && break; sleep 0.1; done
export BENCH_PASSWORD=bench-password-123
printf '%s\n' "$BENCH_PASSWORD" | "$work/jwtgate" user add bench --role editor --data "$work/data" >/dev/null
token=$(curl -sf -X POST http://$addr/login -H 'Content-Type: application/json' \
  -d "{\"username\":\"bench\",\"password\":\"$BENCH_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

# The same protected endpoint with gin + appleboy/gin-jwt, for comparison.
GINJWT_SECRET=$(head -c 32 /dev/urandom | base64) $pin_server "$work/ginjwt" -addr 127.0.0.1:18182 >"$work/gin.out" 2>&1 &
gpid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:18182/healthz >/dev/null && break; sleep 0.1; done
gtoken=$(head -1 "$work/gin.out")

echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version)"
echo "# wrk -t$wrk_threads -c$CONNS -d$DURATION, server and client on the same machine${pin_server:+ (server on core 0, wrk on core 1)}"
rps() { $pin_client wrk -t"$wrk_threads" -c"$CONNS" -d"$DURATION" "$@" | awk '/Requests\/sec/ {print $2}'; }
wrk -t2 -c"$CONNS" -d2s -H "Authorization: Bearer $token" http://$addr/me >/dev/null # warm up
# Alternate short rounds so that drift in the machine's load hits both
# endpoints alike; report each round and the median ratio.
# "/healthz + bearer" sends /me's Authorization header to /healthz, which
# ignores it: what net/http alone spends reading the token, a ceiling for
# /me ÷ /healthz that no handler can pass.
echo "| round | /healthz req/s | /healthz + bearer req/s | /me req/s | gin-jwt /me req/s | /me ÷ /healthz | (/healthz + bearer) ÷ /healthz | /me ÷ gin-jwt |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
ratios=() ceilings=()
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for round in $(seq "${ROUNDS:-5}"); do
  health=$(rps http://$addr/healthz)
  hb=$(rps -H "Authorization: Bearer $token" http://$addr/healthz)
  me=$(rps -H "Authorization: Bearer $token" http://$addr/me)
  gin=$(rps -H "Authorization: Bearer $gtoken" http://127.0.0.1:18182/me)
  r=$(awk -v h="$health" -v m="$me" 'BEGIN { printf "%.3f", m/h }')
  c=$(awk -v h="$health" -v m="$hb" 'BEGIN { printf "%.3f", m/h }')
  g=$(awk -v g="$gin" -v m="$me" 'BEGIN { printf "%.2f", m/g }')
  ratios+=("$r") ceilings+=("$c")
  echo "| $round | $health | $hb | $me | $gin | $r | $c | $g |"
done
echo
echo "median /me ÷ /healthz: $(printf '%s\n' "${ratios[@]}" | median) (target >= 0.95)"
echo "median (/healthz + bearer) ÷ /healthz: $(printf '%s\n' "${ceilings[@]}" | median) (the ceiling net/http sets)"
echo

(cd . && go run ./loadtest -url http://$addr -user bench -pid $pid)
