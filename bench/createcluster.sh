#!/usr/bin/env bash
# bench/createcluster.sh: what createcluster costs through real nginx and
# workers against the loopback Prow double (tests/prow_double.py, gangway
# over TLS, no added latency), as ratios to GET /healthz measured in the
# same run: a new creation (reserve, one Prow call, record the id: two
# store writes and a TLS connection to Prow) and an identical request
# answered from the pending one (one store read, nothing sent).
#
#   bench/createcluster.sh [BUILD_DIR]   (default: builds build-bench/
#                                         without sanitizers; N=200)
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-200}
# Targets (ratios): see docs/design.md, "Performance".
MAX_NEW_RATIO=${MAX_NEW_RATIO:-60}	# new creation p50 / healthz p50
MAX_PENDING_RATIO=${MAX_PENDING_RATIO:-4}	# pending answer p50 / healthz p50

. "$srcdir/scripts/common.sh"
builddir=$(cm_bench_build "$srcdir" cimaster "${1:-}") || exit 1
export top_srcdir=$srcdir top_builddir=$builddir
. "$srcdir/tests/lib.sh"

CM_WORKERS=${CM_WORKERS:-2}
cm_setup
pd_start "$CM_DIR/prow" bench-create=periodic || exit 1
cat >>"$CM_DIR/cimaster.conf" <<EOC
prow: {
  url = "$PD_URL";
  token_file = "$PD_DIR/token";
  ca_file = "$PD_DIR/ca.crt";
  max_pending = 1000;
  jobs = ( { name = "bench-create"; type = "periodic"; purpose = "tess-ci"; } );
};
EOC
[ "$(id -u)" -eq 0 ] && chown cimaster:cimaster "$CM_DIR/cimaster.conf"
seed tess-ci-01:tess-ci
cm_start

# times FILE: one curl process, keep-alive, one line of seconds per URL.
times() { curl -s -w '%{time_total} %{http_code}\n' -K "$1"; }
urls() { sed 's|.*|url = "&"\noutput = "/dev/null"|'; }
# stats: p50 p99 in microseconds from "seconds status" lines on stdin.
stats() {
	awk '{print $1}' | sort -g | awk '{v[NR] = $1 * 1e6} END {
	    printf "%d %d\n", v[int(NR * 0.50) + (NR % 2)], v[int(NR * 0.99) + 1] }'
}

echo "warming up" >&2
for i in $(seq 50); do echo "$CM_URL/healthz"; done | urls >"$CM_DIR/warm.k"
times "$CM_DIR/warm.k" >/dev/null
for i in $(seq "$N"); do echo "$CM_URL/healthz"; done | urls >"$CM_DIR/healthz.k"
for i in $(seq "$N"); do
	echo "$CM_URL/createcluster?job=bench-create&branch=master&user=new-$i"
done | urls >"$CM_DIR/new.k"
for i in $(seq "$N"); do
	echo "$CM_URL/createcluster?job=bench-create&branch=master&user=pending"
done | urls >"$CM_DIR/pending.k"

# The identical requests first, while the store holds their one pending
# creation (as it would hold a few, prow.max_pending being 20 by
# default); the new creations then fill it up to N.
pd_ctl /_reset
times "$CM_DIR/healthz.k" >"$CM_DIR/healthz.t"
times "$CM_DIR/pending.k" >"$CM_DIR/pending.t"
times "$CM_DIR/new.k" >"$CM_DIR/new.t"

# Every request must have done what it is timed for.
for f in new pending; do
	bad=$(awk '$2 != 202' "$CM_DIR/$f.t" | wc -l)
	[ "$bad" -eq 0 ] || { echo "bench: $bad $f requests did not answer 202" >&2; exit 1; }
done
started=$(pd_requests | jq length)
[ "$started" -eq $((N + 1)) ] ||
    { echo "bench: Prow got $started requests, want $((N + 1)) (one per new creation)" >&2; exit 1; }

read -r h50 h99 < <(stats <"$CM_DIR/healthz.t")
read -r n50 n99 < <(stats <"$CM_DIR/new.t")
read -r p50 p99 < <(stats <"$CM_DIR/pending.t")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v r="$1" -v m="$2" 'BEGIN {print (r <= m) ? "ok" : "OVER"}'; }
nr=$(ratio "$n50" "$h50"); pr=$(ratio "$p50" "$h50")

printf '\ncreatecluster through nginx against the Prow double (%d requests each, %d workers)\n' \
    "$N" "$CM_WORKERS"
printf '%-34s %10s %10s %10s %8s\n' measure p50_us p99_us ratio_p50 target
printf '%-34s %10d %10d %10s %8s\n' "GET /healthz (baseline)" "$h50" "$h99" 1.00 -
printf '%-34s %10d %10d %10s %8s  %s\n' "new creation (Prow asked)" "$n50" "$n99" "$nr" "<= $MAX_NEW_RATIO" "$(verdict "$nr" "$MAX_NEW_RATIO")"
printf '%-34s %10d %10d %10s %8s  %s\n' "identical request (pending)" "$p50" "$p99" "$pr" "<= $MAX_PENDING_RATIO" "$(verdict "$pr" "$MAX_PENDING_RATIO")"
printf 'Prow double: %d requests for %d new creations\n' "$started" $((N + 1))

fails=0
for v in "$(verdict "$nr" "$MAX_NEW_RATIO")" "$(verdict "$pr" "$MAX_PENDING_RATIO")"; do
	[ "$v" = ok ] || fails=$((fails + 1))
done
cm_stop_nginx
cm_stop_backend >/dev/null 2>&1 || true
echo "$((2 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
