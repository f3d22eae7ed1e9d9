#!/usr/bin/env bash
# bench/expire.sh: one cimaster-expire run over a store of N clusters
# (default 5,000, one in eight held with an end in the past), against the
# same run over an empty store as the baseline measured in the same run.
# Wall time and peak RSS of the process (getrusage of the child).
#
#   bench/expire.sh [BUILD_DIR]   (default: builds build-bench/ without
#                                  sanitizers; N=5000, RUNS=5: medians)
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-5000}
RUNS=${RUNS:-5}
MAX_TIME_RATIO=${MAX_TIME_RATIO:-40}	# 5,000 clusters / empty store
MAX_RSS_RATIO=${MAX_RSS_RATIO:-6}

. "$srcdir/scripts/common.sh"
builddir=$(cm_bench_build "$srcdir" cimaster-expire "${1:-}") || exit 1
bin=$builddir/cimaster-expire
dir=$(mktemp -d "${TMPDIR:-/tmp}/cimaster-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
[ "$(id -u)" -eq 0 ] && chown cimaster "$dir"

conf() {
	cat <<EOT
server: { user = "$( [ "$(id -u)" -eq 0 ] && echo cimaster || id -un)"; };
store: { backend = "file"; file: { path = "$dir/$1.json"; }; };
EOT
}
conf empty >"$dir/empty.conf"
conf full >"$dir/full.conf"

# The store: N clusters, every eighth held by "dev" until an hour ago.
store() {
	jq -n --argjson n "$1" '
	    [range($n) | {name: ("c-\(.)"), purpose: "tess-ci", osImage: "",
	      status: (if . % 8 == 0 then "held" else "vacant" end),
	      build: "", job: "", user: (if . % 8 == 0 then "dev" else "" end),
	      since: "2026-01-01T00:00:00Z",
	      holdUntil: (if . % 8 == 0 then "2026-01-01T06:00:00Z" else "" end),
	      reason: ""}] as $c
	    | {apiVersion: "v1", kind: "ConfigMap",
	       metadata: {name: "clusters", namespace: "ci", resourceVersion: "1"},
	       data: {clusters: ($c | tojson)}}'
}

# measure CONF STORE_NAME COUNT: prints "seconds maxrss_kB" for one run on
# a fresh copy of the store.
measure() {
	python3 - "$bin" "$1" <<'EOP'
import resource, subprocess, sys, time
t = time.monotonic()
r = subprocess.run([sys.argv[1], "-c", sys.argv[2]], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
dt = time.monotonic() - t
if r.returncode != 0:
    sys.exit("cimaster-expire exited %d" % r.returncode)
print("%.6f %d" % (dt, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
EOP
}

store "$N" >"$dir/full.seed"
: >"$dir/empty.times"
: >"$dir/full.times"
for i in $(seq "$RUNS"); do
	rm -f "$dir/empty.json"
	measure "$dir/empty.conf" >>"$dir/empty.times"
	cp "$dir/full.seed" "$dir/full.json"
	[ "$(id -u)" -eq 0 ] && chown cimaster "$dir/full.json"
	measure "$dir/full.conf" >>"$dir/full.times"
done
# Every held cluster must have been released, or the run measured nothing.
released=$(jq -r '.data.clusters | fromjson | map(select(.status == "vacant")) | length' "$dir/full.json")
[ "$released" -eq "$N" ] || { echo "bench: only $released of $N vacant after the run" >&2; exit 1; }

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
et=$(cut -d' ' -f1 "$dir/empty.times" | median); em=$(cut -d' ' -f2 "$dir/empty.times" | median)
ft=$(cut -d' ' -f1 "$dir/full.times" | median); fm=$(cut -d' ' -f2 "$dir/full.times" | median)
tr=$(awk -v a="$ft" -v b="$et" 'BEGIN {printf "%.1f", a / b}')
mr=$(awk -v a="$fm" -v b="$em" 'BEGIN {printf "%.1f", a / b}')
ok() { awk -v r="$1" -v m="$2" 'BEGIN {print (r <= m) ? "ok" : "OVER"}'; }

printf '\ncimaster-expire, median of %d runs (%d clusters, %d held past their end)\n' \
    "$RUNS" "$N" $(( (N + 7) / 8 ))
printf '%-24s %10s %10s %8s %8s %8s\n' store seconds maxrss_kB t_ratio m_ratio verdict
printf '%-24s %10.3f %10d %8s %8s %8s\n' "empty (baseline)" "$et" "$em" 1.0 1.0 -
printf '%-24s %10.3f %10d %8s %8s %8s\n' "$N clusters" "$ft" "$fm" "$tr" "$mr" \
    "$( [ "$(ok "$tr" "$MAX_TIME_RATIO")" = ok ] && [ "$(ok "$mr" "$MAX_RSS_RATIO")" = ok ] && echo ok || echo OVER)"
fails=0
[ "$(ok "$tr" "$MAX_TIME_RATIO")" = ok ] || fails=$((fails + 1))
[ "$(ok "$mr" "$MAX_RSS_RATIO")" = ok ] || fails=$((fails + 1))
echo "$((2 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
