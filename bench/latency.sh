#!/usr/bin/env bash
# bench/latency.sh: latency of the CI cycle and of the list through real
# nginx and workers, and the memory of one worker.  Every figure is also
# given as a ratio to a baseline measured in the same run, on the same
# machine: GET /healthz (nginx -> FastCGI -> worker, no store) for time,
# the idle parent process (the same binary, no request served) for
# memory.  Targets are on the ratios, never on absolute times.
#
#   bench/latency.sh [BUILD_DIR]   (default: builds build-bench/ without
#                                   sanitizers; N=500 cycles, LIST=50)
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-500}
LIST=${LIST:-50}
# Targets (ratios): see docs/design.md, "Performance".
MAX_CYCLE_RATIO=${MAX_CYCLE_RATIO:-30}	# getvacant+finish p50 / healthz p50: two durable writes
MAX_LIST_RATIO=${MAX_LIST_RATIO:-4}	# GET /clusters p50 / healthz p50
MAX_RSS_RATIO=${MAX_RSS_RATIO:-3}	# worker USS / idle parent USS

. "$srcdir/scripts/common.sh"
builddir=$(cm_bench_build "$srcdir" cimaster "${1:-}") || exit 1
export top_srcdir=$srcdir top_builddir=$builddir
. "$srcdir/tests/lib.sh"

CM_WORKERS=${CM_WORKERS:-2}
cm_setup
specs=(bench-01:bench)
for i in $(seq -w 2 "$LIST"); do specs+=("list-$i:tess-ci"); done
seed "${specs[@]}"
cm_start

# times FILE: one curl process, keep-alive, one line of seconds per URL
# (each url line of FILE is followed by output = /dev/null).
times() {
	curl -s -w '%{time_total}\n' -K "$1"
}
# urls: url lines on stdin, each with its own output line, for curl -K.
urls() {
	sed 's|.*|url = "&"\noutput = "/dev/null"|'
}
# stats: p50 p99 in microseconds from seconds on stdin.
stats() {
	sort -g | awk '{v[NR] = $1 * 1e6} END {
	    printf "%d %d\n", v[int(NR * 0.50) + (NR % 2)], v[int(NR * 0.99) + 1] }'
}

echo "warming up" >&2
for i in $(seq 50); do echo "$CM_URL/healthz"; done | urls >"$CM_DIR/warm.k"
times "$CM_DIR/warm.k" >/dev/null

for i in $(seq "$N"); do echo "$CM_URL/healthz"; done | urls >"$CM_DIR/healthz.k"
for i in $(seq "$N"); do
	echo "$CM_URL/getvacant?build=$i&job=bench&purpose=bench"
	echo "$CM_URL/finish?cluster=bench-01&build=$i"
done | urls >"$CM_DIR/cycle.k"
for i in $(seq "$N"); do echo "$CM_URL/clusters"; done | urls >"$CM_DIR/list.k"

times "$CM_DIR/healthz.k" >"$CM_DIR/healthz.t"
times "$CM_DIR/cycle.k" >"$CM_DIR/cycle.t"
times "$CM_DIR/list.k" >"$CM_DIR/list.t"

read -r h50 h99 < <(stats <"$CM_DIR/healthz.t")
# A cycle is one getvacant plus the finish after it.
read -r c50 c99 < <(paste -d' ' - - <"$CM_DIR/cycle.t" | awk '{print $1 + $2}' | stats)
read -r l50 l99 < <(stats <"$CM_DIR/list.t")

# Every cycle must have worked, or the figures mean nothing.
req GET "/clusters?name=bench-01"
case $RESP_BODY in
"bench-01 vacant bench"*) ;;
*) echo "bench: bench-01 is not vacant after the cycles: $RESP_BODY" >&2; exit 1 ;;
esac
[ "$(grep -c . "$CM_DIR/cycle.t")" -eq $((2 * N)) ] || { echo "bench: lost requests" >&2; exit 1; }

# What a worker costs is its private memory (USS: pages no other process
# shares), after serving every request above; the baseline is the idle
# parent's, the same binary with the same libraries, no request served.
uss() {
	awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$1/smaps_rollup"
}
parent_rss=$(uss "$CM_PID")
worker_hwm=0
for p in $(cm_worker_pids); do
	w=$(uss "$p")
	[ "$w" -gt "$worker_hwm" ] && worker_hwm=$w
done
worker_peak=$(for p in $(cm_worker_pids); do awk '/^VmHWM:/ {print $2}' "/proc/$p/status"; done | sort -n | tail -1)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v r="$1" -v m="$2" 'BEGIN {print (r <= m) ? "ok" : "OVER"}'; }
cr=$(ratio "$c50" "$h50"); lr=$(ratio "$l50" "$h50"); mr=$(ratio "$worker_hwm" "$parent_rss")

printf '\nCIMaster latency through nginx (%d requests each, %d clusters listed, %d workers)\n' \
    "$N" "$LIST" "$CM_WORKERS"
printf '%-28s %10s %10s %12s %8s\n' measure p50_us p99_us ratio_p50 target
printf '%-28s %10d %10d %12s %8s\n' "GET /healthz (baseline)" "$h50" "$h99" 1.00 -
printf '%-28s %10d %10d %12s %8s  %s\n' "getvacant + finish cycle" "$c50" "$c99" "$cr" "<= $MAX_CYCLE_RATIO" "$(verdict "$cr" "$MAX_CYCLE_RATIO")"
printf '%-28s %10d %10d %12s %8s  %s\n' "GET /clusters ($LIST)" "$l50" "$l99" "$lr" "<= $MAX_LIST_RATIO" "$(verdict "$lr" "$MAX_LIST_RATIO")"
printf '\n%-28s %10s %12s %8s\n' memory kB ratio target
printf '%-28s %10d %12s %8s\n' "idle parent, private (USS)" "$parent_rss" 1.00 -
printf '%-28s %10d %12s %8s  %s\n' "worker, private (USS)" "$worker_hwm" "$mr" "<= $MAX_RSS_RATIO" "$(verdict "$mr" "$MAX_RSS_RATIO")"
printf '%-28s %10d\n' "worker peak RSS (VmHWM)" "$worker_peak"

fails=0
for v in "$(verdict "$cr" "$MAX_CYCLE_RATIO")" "$(verdict "$lr" "$MAX_LIST_RATIO")" "$(verdict "$mr" "$MAX_RSS_RATIO")"; do
	[ "$v" = ok ] || fails=$((fails + 1))
done
cm_stop_nginx
cm_stop_backend >/dev/null 2>&1 || true
echo "$((3 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
