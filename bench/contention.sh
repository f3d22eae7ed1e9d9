#!/usr/bin/env bash
# bench/contention.sh: the configmap store under contention.  Two CIMaster
# instances (own nginx, own workers) share the Kubernetes API server
# double (tests/k8s_double.py) with 2 ms added to every ConfigMap request;
# 32 parallel callers each run a fixed number of getvacant + finish cycles
# on 64 clusters, so that at least 32 are always vacant.  The same load
# runs with store.retry.policy "default" and "seed" (3 attempts, 50-200 ms),
# and, as the baseline of the same run, with one instance and the default
# policy.  For each: allocations per second, p50/p99 of getvacant, and
# failed allocations while clusters were free (any getvacant that did not
# answer a cluster, when the ConfigMap still had vacant ones: every one of
# them here).  Ratios are to the baseline.  Not part of make check.
#
#   bench/contention.sh [BUILD_DIR]   (default: builds build-bench/ without
#                                      sanitizers; CALLERS=32 CYCLES=25
#                                      CLUSTERS=64 LATENCY_MS=2)
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/.." && pwd)
CALLERS=${CALLERS:-32}
CYCLES=${CYCLES:-25}
CLUSTERS=${CLUSTERS:-64}
LATENCY_MS=${LATENCY_MS:-2}

. "$srcdir/scripts/common.sh"
builddir=$(cm_bench_build "$srcdir" cimaster "${1:-}") || exit 1
export top_srcdir=$srcdir top_builddir=$builddir
. "$srcdir/tests/lib.sh"

if [ "$CLUSTERS" -lt $((2 * CALLERS)) ]; then
	echo "bench: CLUSTERS must be at least 2 x CALLERS, so that clusters are always free" >&2
	exit 1
fi
CM_BACKEND=configmap
CM_WORKERS=${WORKERS:-4}
cm_setup
cm_start
URL_A=$CM_URL
cm_instance b
cm_setup
cm_start
URL_B=$CM_URL
cm_instance a
specs=()
for i in $(seq -w 1 "$CLUSTERS"); do specs+=("bench-$i:bench"); done

# policy NAME: both instances reload with store.retry.policy NAME.
policy() {
	local name
	CM_RETRY_POLICY=$1
	for name in a b; do
		cm_instance "$name"
		cm_write_config
		cm_reload || exit 1
	done
	cm_instance a
}

# caller ID DIR URL...: CYCLES getvacant + finish cycles, round robin
# over the URLs.  DIR/res.ID gets one line per request: "getvacant STATUS
# SECONDS VACANT_WHEN_FAILED CODE" or "finish STATUS".  A refused finish
# is tried again, up to 5 times, as a CI job would; after that the cluster
# stays occupied, as it would.  Builtins only, besides curl: the callers
# share two cores with everything else.
caller() {
	local id=$1 d=$2 c n=0 u st t name free code try
	shift 2
	local urls=("$@") b w
	b=$d/body.$id
	w=$d/w.$id
	for c in $(seq "$CYCLES"); do
		u=${urls[$((n % ${#urls[@]}))]}
		n=$((n + 1))
		curl -s --max-time 60 -o "$b" -w '%{http_code} %{time_total}\n' \
		    "$u/getvacant?purpose=bench&job=bench-$id&build=$c" >"$w"
		read -r st t <"$w"
		if [ "$st" = 200 ]; then
			read -r name <"$b"
			echo "getvacant $st $t - -"
			for try in 1 2 3 4 5; do
				curl -s --max-time 60 -o /dev/null -w '%{http_code}\n' \
				    "$u/finish?cluster=$name&build=$c" >"$w"
				read -r st <"$w"
				echo "finish $st"
				[ "$st" = 200 ] && break
			done
		else
			free=$(store_records 2>/dev/null |
			    jq '[.[] | select(.purpose == "bench" and .status == "vacant")] | length')
			read -r _ code _ <"$b"
			echo "getvacant $st $t ${free:-?} ${code:-?}"
		fi
	done >"$d/res.$id"
}

# run LABEL URL...: the load; prints "label allocs/s p50 p99 failed_free
# failed_finish leaked conflicts puts" for the table.
run() {
	local label=$1 d i t0 t1 pids=() ok fails ffails leaked
	shift
	d=$CM_DIR/run.$label
	mkdir -p "$d"
	seed "${specs[@]}"
	k8s_stats_reset
	t0=$(date +%s%N)
	for i in $(seq "$CALLERS"); do
		# Callers start on different instances.
		if [ $# -eq 2 ] && [ $((i % 2)) -eq 0 ]; then
			caller "$i" "$d" "$2" "$1" &
		else
			caller "$i" "$d" "$@" &
		fi
		pids+=($!)
	done
	wait "${pids[@]}"
	t1=$(date +%s%N)
	cat "$d"/res.* >"$d/all"
	ok=$(awk '$1 == "getvacant" && $2 == 200' "$d/all" | wc -l)
	fails=$(awk '$1 == "getvacant" && $2 != 200 && $4 != "0"' "$d/all" | wc -l)
	ffails=$(awk '$1 == "finish" && $2 != 200' "$d/all" | wc -l)
	awk '$2 != 200 {print $1, $2, ($1 == "getvacant" ? $NF : "")}' "$d/all" |
	    sort | uniq -c |
	    sed "s/^/    $label: failed /" >&2
	# Nothing but a cycle whose finish failed 5 times may have left its
	# cluster occupied.
	leaks=$(awk 'FNR == 1 { if (p && last != 200) n++; p = 0 }
	    $1 == "getvacant" { if (p && last != 200) n++; p = ($2 == 200); last = "" }
	    $1 == "finish" { last = $2 }
	    END { if (p && last != 200) n++; print n + 0 }' "$d"/res.*)
	leaked=$(store_records | jq '[.[] | select(.status != "vacant")] | length')
	if [ "$leaked" != "$leaks" ]; then
		echo "bench: $label left $leaked clusters occupied, but $leaks cycles failed to finish" >&2
		exit 1
	fi
	read -r p50 p99 < <(awk '$1 == "getvacant" && $2 == 200 {print $3}' "$d/all" | sort -g |
	    awk '{v[NR] = $1 * 1000} END {
		if (NR == 0) { print "0 0"; exit }
		printf "%.1f %.1f\n", v[int(NR * 0.50) + (NR % 2)], v[int(NR * 0.99) + 1] }')
	printf '%s %s %s %s %s %s %s %s %s\n' "$label" \
	    "$(awk -v n="$ok" -v ns=$((t1 - t0)) 'BEGIN {printf "%.1f", n / (ns / 1e9)}')" \
	    "$p50" "$p99" "$fails" "$ffails" "$leaks" "$(k8s_stat conflicts)" \
	    "$(k8s_stat 'PUT 200')"
	echo "$label: $(k8s_stat connections) TLS connections for $(k8s_stat requests) API requests" \
	    >"$CM_DIR/conn.$label"
}

k8s_ctl "{\"latency_ms\": $LATENCY_MS}"
echo "warming up" >&2
CYCLES=2 run warmup "$URL_A" "$URL_B" >/dev/null
policy default
base=$(run baseline "$URL_A")
def=$(run default "$URL_A" "$URL_B")
policy seed
seed_=$(run seed "$URL_A" "$URL_B")

ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf (y > 0 ? "%.2f" : "-"), x / y}'; }
read -r _ ba bp50 bp99 _ _ _ _ _ <<<"$base"
printf '\nCIMaster configmap store under contention: %d callers x %d getvacant+finish cycles,\n' \
    "$CALLERS" "$CYCLES"
printf '%d clusters (>= %d always vacant), API double +%d ms per request, %d workers per instance\n\n' \
    "$CLUSTERS" $((CLUSTERS - CALLERS)) "$LATENCY_MS" "$CM_WORKERS"
fmt='%-21s %5s %7s %7s %7s %7s %11s %13s %6s %9s %5s %7s %5s %5s\n'
# shellcheck disable=SC2059
printf "$fmt" run hosts policy alloc/s p50_ms p99_ms failed_free failed_finish \
    leaked conflicts PUTs x_alloc x_p50 x_p99
row() {
	local l a p50 p99 f ff lk c p
	read -r l a p50 p99 f ff lk c p <<<"$4"
	# shellcheck disable=SC2059
	printf "$fmt" "$1" "$2" "$3" "$a" "$p50" "$p99" "$f" "$ff" "$lk" "$c" "$p" \
	    "$(ratio "$a" "$ba")" "$(ratio "$p50" "$bp50")" "$(ratio "$p99" "$bp99")"
}
row "baseline (1 instance)" 1 default "$base"
row "default" 2 default "$def"
row "seed (3 x 50-200 ms)" 2 seed "$seed_"
read -r _ da dp50 dp99 df dff dl _ _ <<<"$def"
read -r _ sa sp50 sp99 sf sff sl _ _ <<<"$seed_"
printf '\nseed / default (2 instances): alloc/s %s, p50 %s, p99 %s;\n' \
    "$(ratio "$sa" "$da")" "$(ratio "$sp50" "$dp50")" "$(ratio "$sp99" "$dp99")"
printf 'failed allocations while clusters were free: seed %s, default %s;\n' "$sf" "$df"
printf 'failed finish calls: seed %s, default %s; clusters left occupied after 5 tries: seed %s, default %s\n' \
    "$sff" "$dff" "$sl" "$dl"
echo "the double saw $(cat "$CM_DIR/conn.default")"
exit 0	# the EXIT trap (cm_teardown) stops both instances and the double
