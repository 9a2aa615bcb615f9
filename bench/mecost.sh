#!/usr/bin/env bash
# GET /me against GET /healthz on one jwtgate server, in alternating short
# wrk rounds (server pinned to core 0, wrk to core 1), reporting req/s and
# the server's CPU time per request (utime+stime from /proc; with the
# server's core saturated it is about 1/throughput, and it shows when the
# core was not). Its use is A/B: given several binaries it runs them side
# by side, round by round, and the order of the two routes alternates
# between rounds, so drift in the machine's speed hits every binary and
# both routes alike. Single rounds still swing by ±30% on a noisy VM: look
# at the medians of many rounds.
#
#   ./mecost.sh                                # builds ../cmd/jwtgate
#   BINS="/tmp/old /tmp/new" ./mecost.sh       # A/B: the binaries alternate
#
# DURATION (default 2s) per run, ROUNDS (default 9), CONNS (default 64),
# LOGLEVEL (default error, as server.sh; "info" to include the access log).
set -euo pipefail
cd "$(dirname "$0")"
DURATION=${DURATION:-2s}
ROUNDS=${ROUNDS:-9}
CONNS=${CONNS:-64}
LOGLEVEL=${LOGLEVEL:-error}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null || { echo "needs taskset and 2 cores" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
if [ -z "${BINS:-}" ]; then
  (cd .. && go build -o "$work/jwtgate" ./cmd/jwtgate)
  BINS=$work/jwtgate
fi
read -r -a bins <<<"$BINS"
tick=$(getconf CLK_TCK)
export BENCH_PASSWORD=bench-password-123
addrs=() tokens=()
for i in "${!bins[@]}"; do
  addr=127.0.0.1:$((18281 + i))
  "${bins[$i]}" user add bench --role editor --data "$work/data$i" >/dev/null <<<"$BENCH_PASSWORD"
  taskset -c 0 "${bins[$i]}" serve --addr "$addr" --data "$work/data$i" --login-ip-burst 0 --login-user-burst 0 \
    --log-level "$LOGLEVEL" >"$work/serve$i.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do curl -sf "http://$addr/healthz" >/dev/null && break; sleep 0.1; done
  tokens+=("$(curl -sf -X POST "http://$addr/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"bench\",\"password\":\"$BENCH_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')")
  addrs+=("$addr")
  taskset -c 1 wrk -t1 -c"$CONNS" -d1s -H "Authorization: Bearer ${tokens[$i]}" "http://$addr/me" >/dev/null # warm up
done
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# one PID URL [wrk args]: prints "req/s µs-of-server-CPU-per-request"
one() {
  local pid=$1 c0 out c1
  shift
  c0=$(cpu "$pid")
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" "$@")
  c1=$(cpu "$pid")
  awk -v c="$((c1 - c0))" -v t="$tick" '/requests in/ {n=$1} /Requests\/sec/ {r=$2} END {printf "%.0f %.2f\n", r, c/t*1e6/n}' <<<"$out"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "# $(nproc) cores, $(go version), wrk -t1 -c$CONNS -d$DURATION, log level $LOGLEVEL"
echo "| round | binary | /healthz req/s | /me req/s | req/s ratio | /healthz µs CPU/req | /me µs CPU/req | cost ratio /healthz÷/me |"
echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for round in $(seq "$ROUNDS"); do
  for i in "${!bins[@]}"; do
    if ((round % 2)); then
      read -r hr hc < <(one "${pids[$i]}" "http://${addrs[$i]}/healthz")
      read -r mr mc < <(one "${pids[$i]}" -H "Authorization: Bearer ${tokens[$i]}" "http://${addrs[$i]}/me")
    else
      read -r mr mc < <(one "${pids[$i]}" -H "Authorization: Bearer ${tokens[$i]}" "http://${addrs[$i]}/me")
      read -r hr hc < <(one "${pids[$i]}" "http://${addrs[$i]}/healthz")
    fi
    rr=$(awk -v a="$mr" -v b="$hr" 'BEGIN {printf "%.3f", a/b}')
    cr=$(awk -v a="$hc" -v b="$mc" 'BEGIN {printf "%.3f", a/b}')
    echo "$i $rr $cr" >>"$work/ratios"
    echo "| $round | $(basename "${bins[$i]}") | $hr | $mr | $rr | $hc | $mc | $cr |"
  done
done
echo
for i in "${!bins[@]}"; do
  echo "$(basename "${bins[$i]}"): median /me ÷ /healthz req/s $(awk -v i="$i" '$1 == i {print $2}' "$work/ratios" | median)," \
    "median cost ratio $(awk -v i="$i" '$1 == i {print $3}' "$work/ratios" | median)"
done
