#!/usr/bin/env bash
# Store throughput of this tree against another build, side by side:
# POST /refresh, POST /posts and GET /posts on SQLite and (with
# JWTGATE_BENCH_POSTGRES_URL) PostgreSQL. Each round starts one instance
# of each build in turn, the order alternating between rounds, and the
# script prints every round and the median of the per-round ratios
# (this tree / the other build). Each build keeps its own data folder and
# PostgreSQL schema, so neither meets the other's migrations.
#
#   ./stores.sh BASE_REV          # R=9 D=3s C=16 by default
set -euo pipefail
cd "$(dirname "$0")"
base_rev=${1:?usage: ./stores.sh BASE_REV}
R=${R:-9}
D=${D:-3s}
C=${C:-16}
OPS=${OPS:-refresh,post-posts,get-posts}
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/base-src"
git -C .. archive "$base_rev" | tar -x -C "$work/base-src"
(cd "$work/base-src" && go build -o "$work/base" ./cmd/jwtgate)
(cd .. && go build -o "$work/head" ./cmd/jwtgate)
go build -o "$work/throughput" ./throughput
export BENCH_PASSWORD=bench-password-123

# run BUILD STORE: one measurement, printed as "BUILD STORE rate rate rate".
run() {
  local build=$1 store=$2 args
  case $store in
    sqlite) args=(--data "$work/data-$build") ;;
    postgres)
      psql -q "$JWTGATE_BENCH_POSTGRES_URL" -c "SET client_min_messages = warning" -c "CREATE SCHEMA IF NOT EXISTS bench_$build" >/dev/null
      args=(--db "$JWTGATE_BENCH_POSTGRES_URL&search_path=bench_$build") ;;
  esac
  printf '%s\n' "$BENCH_PASSWORD" | "$work/$build" user add bench --role editor "${args[@]}" >/dev/null 2>&1 || true
  "$work/$build" serve --addr 127.0.0.1:18193 --login-ip-burst 0 --login-user-net-burst 0 --login-user-burst 0 --log-level error "${args[@]}" \
    >>"$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 200); do curl -sf http://127.0.0.1:18193/healthz >/dev/null && break; sleep 0.1; done
  "$work/throughput" -urls http://127.0.0.1:18193 -c "$C" -d "$D" -ops "$OPS" -label x |
    awk -F' *[|] *' -v b="$build" -v s="$store" '{print b, s, $3, $4, $5, $6}' | tee -a "$work/rounds"
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
}

stores=(sqlite)
if [ -n "${JWTGATE_BENCH_POSTGRES_URL:-}" ]; then stores+=(postgres); else echo "(PostgreSQL skipped: set JWTGATE_BENCH_POSTGRES_URL)"; fi
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version)"
echo "# base $base_rev, head $(git -C .. rev-parse --short HEAD)$(git -C .. diff --quiet || echo +changes); $C clients, $D per cell, $R rounds"
for store in "${stores[@]}"; do
  for r in $(seq "$R"); do
    if [ $((r % 2)) = 1 ]; then order=(base head); else order=(head base); fi
    for b in "${order[@]}"; do run "$b" "$store"; done
  done
done
echo "# median of per-round ratios head/base (refresh, POST /posts, GET /posts); requests/s medians base -> head"
for store in "${stores[@]}"; do
  paste <(awk -v s="$store" '$1=="base" && $2==s' "$work/rounds") <(awk -v s="$store" '$1=="head" && $2==s' "$work/rounds") |
    awk -v s="$store" '
      function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      { n++; for (c = 0; c < 3; c++) { r[c, n] = $(c + 9) / $(c + 3); b[c, n] = $(c + 3); h[c, n] = $(c + 9) } }
      END { line = s; for (c = 0; c < 3; c++) { for (i = 1; i <= n; i++) { x[i] = r[c, i]; y[i] = b[c, i]; z[i] = h[c, i] }
        line = line sprintf("  %.2fx (%d -> %d)", median(x, n), median(y, n), median(z, n)) } print line }'
done
if grep -q . "$work/serve.log"; then echo "# server log:"; tail -5 "$work/serve.log"; fi
