#!/usr/bin/env bash
# Runs the cross-library benchmarks side by side and summarises them.
#
#   ./run.sh            # bench/ only: jwtgate vs peers vs stdlib floors
#   ./run.sh all        # also the in-package jwt/ benchmarks, every algorithm
#   COUNT=10 ./run.sh   # more rounds (default 6: benchstat's confidence
#                       # intervals need at least 6 samples)
#
# Each round is one `go test -run '^$' -bench . -benchmem -count 1 -cpu 1`
# of a test binary built once; COUNT rounds give the same samples as
# -count $COUNT, but interleaved, so that a burst of load on a noisy
# machine hits every library rather than one. Raw output goes to out/
# (bench.txt, jwt.txt); ./benchtable prints the Markdown tables (medians,
# ratios) used in ../BENCHMARKS.md, then benchstat summarises when it can
# be had (go run golang.org/x/perf/cmd/benchstat@latest).
set -euo pipefail
cd "$(dirname "$0")"
COUNT=${COUNT:-6}
mkdir -p out
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(go version)"

go test -c -o out/bench.test .
files=(out/bench.txt)
: >out/bench.txt
if [[ ${1:-} == all ]]; then
	(cd ../jwt && go test -c -o ../bench/out/jwt.test .)
	files+=(out/jwt.txt)
	: >out/jwt.txt
fi
for round in $(seq "$COUNT"); do
	echo "## round $round/$COUNT" >&2
	out/bench.test -test.run '^$' -test.bench . -test.benchmem -test.count 1 -test.cpu 1 | tee -a out/bench.txt
	if [[ ${1:-} == all ]]; then
		(cd ../jwt && ../bench/out/jwt.test -test.run '^$' -test.bench '^Benchmark(Sign|Verify|Floor)' -test.benchmem -test.count 1 -test.cpu 1) | tee -a out/jwt.txt
	fi
done

echo
echo "## Medians and ratios"
echo
go run ./benchtable "${files[@]}"

if command -v benchstat >/dev/null 2>&1; then
	benchstat "${files[@]}"
elif go run golang.org/x/perf/cmd/benchstat@latest "${files[@]}" 2>/dev/null; then
	:
else
	echo "(benchstat not available; medians above)"
fi
