#!/usr/bin/env bash
# tests/concurrency.sh: "no two callers ever get the same cluster".  64
# parallel getvacant calls through nginx to 4 workers compete for 5
# vacant clusters: exactly 5 win, each a different cluster, the rest get
# 503 no_vacant_cluster, and the store agrees with what the winners were
# told.  Then parallel retries of one (job, build) take one cluster only.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require xargs
CM_WORKERS=4
N=64
cm_setup
cm_start

# race ROUND: N parallel getvacant calls, each its own job and build.
race() {
	local r=$CM_DIR/race.$1 winners losers names
	mkdir -p "$r"
	seq 1 "$N" | xargs -P "$N" -I{} curl -s -o "$r/body.{}" \
	    -w '%{http_code} {}\n' "$CM_URL/getvacant?job=race-$1-{}&build={}" \
	    >"$r/results"
	expect_eq "$(wc -l <"$r/results")" "$N" "round $1: all $N requests were answered"
	winners=$(awk '$1 == 200 {print $2}' "$r/results" | sort -n)
	losers=$(awk '$1 == 503 {print $2}' "$r/results")
	expect_eq "$(echo "$winners" | grep -c .)" 5 "round $1: exactly 5 callers got a cluster"
	expect_eq "$(echo "$losers" | grep -c .)" $((N - 5)) \
	    "round $1: the other $((N - 5)) got 503"
	expect_eq "$(awk '$1 != 200 && $1 != 503' "$r/results")" "" \
	    "round $1: no other status"
	local bad=0 i
	for i in $losers; do
		case $(cat "$r/body.$i") in
		"error: no_vacant_cluster: "*) ;;
		*) bad=$((bad + 1)) ;;
		esac
	done
	expect_eq "$bad" 0 "round $1: every 503 says no_vacant_cluster"
	names=$(for i in $winners; do cat "$r/body.$i"; done | sort)
	expect_eq "$(echo "$names" | sort -u | grep -c .)" 5 \
	    "round $1: the 5 winners got 5 different clusters"
	expect_store '[.[] | select(.status == "occupied")] | length == 5' \
	    "round $1: the store has 5 occupied clusters"
	for i in $winners; do
		expect_store ".[] | select(.name == \"$(tr -d '\n' <"$r/body.$i")\") |
		    .status == \"occupied\" and .job == \"race-$1-$i\" and .build == \"$i\"" \
		    "round $1: $(tr -d '\n' <"$r/body.$i") is occupied by winner $i's job and build"
	done
	# Give everything back, in parallel too.
	echo "$names" | xargs -P 5 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
	    "$CM_URL/finish?cluster={}" >"$r/finish"
	expect_eq "$(sort -u "$r/finish")" 200 "round $1: 5 parallel finish calls answer 200"
	expect_store 'all(.[]; .status == "vacant")' "round $1: every cluster is vacant again"
}

seed c-01:tess-ci c-02:tess-ci c-03:tess-ci c-04:tess-ci c-05:tess-ci
for round in 1 2 3; do
	echo "# round $round: $N parallel getvacant for 5 clusters"
	race "$round"
done

echo "# parallel retries of one (job, build)"
seq 1 16 | xargs -P 16 -I{} curl -s -o "$CM_DIR/retry.{}" -w '%{http_code}\n' \
    "$CM_URL/getvacant?job=retry&build=7&n={}" >"$CM_DIR/retries"
expect_eq "$(sort -u "$CM_DIR/retries")" 200 "16 parallel retries all answer 200"
expect_eq "$(cat "$CM_DIR"/retry.* | sort -u | wc -l)" 1 "they all name the same cluster"
expect_store '[.[] | select(.status == "occupied")] | length == 1' \
    "one (job, build) occupies one cluster"

expect_eq "$(jq -r '.data.clusters | fromjson | map(.name) | length' "$CM_STORE")" 5 \
    "the store still has exactly the 5 clusters"
cm_finish
