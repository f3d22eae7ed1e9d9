#!/usr/bin/env bash
# tests/k8s.sh: the configmap store backend through nginx, against the
# Kubernetes API server double (tests/k8s_double.py).  First kubectl, a
# real client, checks the double; then: every endpoint with the configmap
# backend; two complete instances (own nginx, own workers, one API server)
# under 64 parallel callers; a conflict storm with 20 % injected 500s;
# token rotation mid-run; kubectl writing while the service writes; the
# API server down or hung; create_if_missing; and the migration between
# the file store and a ConfigMap (docs/kubernetes.md).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require kubectl xargs python3
CM_BACKEND=configmap
CM_WORKERS=4
CM_K8S_CONNECT_TIMEOUT_MS=1000
CM_K8S_TIMEOUT_MS=2000
ADMIN=(-u admin:adminpw)

# ms: milliseconds since the epoch.
ms() { echo $(($(date +%s%N) / 1000000)); }

# fan OUT P: runs the "ID URL" lines of stdin, P at a time; writes each
# body to OUT/body.ID and "STATUS ID" lines to OUT/results.
fan() {
	mkdir -p "$1"
	xargs -P "$2" -L 1 sh -c \
	    'curl -s --max-time 60 -o "$0/body.$1" -w "%{http_code} $1\n" "$2"' \
	    "$1" >"$1/results"
}

# body OUT ID: a response body without its newline.
body() { tr -d '\n' <"$1/body.$2"; }

# holder NAME: "job build" of a cluster in the store.
holder() {
	store_records | jq -r --arg n "$1" '.[] | select(.name == $n) | "\(.job) \(.build)"'
}

# record NAME PURPOSE: one vacant cluster record, as the codec wants it.
record() {
	jq -cn --arg n "$1" --arg p "$2" '{name: $n, purpose: $p, osImage: "",
	    status: "vacant", build: "", job: "", user: "",
	    since: "2026-01-01T00:00:00Z", holdUntil: "", reason: ""}'
}

# seed_n PREFIX PURPOSE N: N vacant clusters PREFIX-01... of PURPOSE.
seed_n() {
	local i specs=()
	for i in $(seq -w 1 "$3"); do specs+=("$1-$i:$2"); done
	seed "${specs[@]}"
}

cm_setup
KC=$K8S_DIR/kubectl
mkdir -p "$KC"

# ---------------------------------------------------------------------------
echo "# kubectl, a real client, against the double ($(kc version 2>/dev/null |
    awk '/^Client/ {print $3}'))"
store_json "[$(record c-01 tess-ci),$(record c-02 tess-ci)]" >"$KC/file-store.json"
jq 'del(.metadata.resourceVersion)' "$KC/file-store.json" >"$KC/manifest.json"
out=$(kc create -f "$KC/manifest.json" 2>&1)
expect_eq "$out" "configmap/clusters created" "kubectl create -f creates the ConfigMap"
kc get configmap clusters -o json >"$KC/got.json" 2>&1
expect_true "kubectl get -o json shows the data, a uid and a decimal resourceVersion" \
    jq -e '(.data.clusters | fromjson | map(.name)) == ["c-01","c-02"] and
    (.metadata.uid | length) == 36 and (.metadata.resourceVersion | test("^[0-9]+$"))' \
    "$KC/got.json"
expect_true "kubectl get prints the server-side table: NAME DATA AGE" \
    grep -qE '^clusters +1 +[0-9]+s$' <<<"$(kc get configmap clusters --no-headers 2>&1)"
rv0=$(jq -r .metadata.resourceVersion "$KC/got.json")
jq --argjson r "$(record c-03 tess-ci)" \
    '.data.clusters |= (fromjson + [$r] | tojson)' "$KC/got.json" >"$KC/add.json"
out=$(kc replace -f "$KC/add.json" 2>&1)
expect_eq "$out" "configmap/clusters replaced" "kubectl replace with the version it read succeeds"
expect_store 'map(.name) == ["c-01","c-02","c-03"]' "the replaced data is stored"
expect_true "and the resourceVersion moved on" \
    test "$(jq -r .metadata.resourceVersion "$CM_STORE")" -gt "$rv0"
out=$(kc replace -f "$KC/add.json" 2>&1)
expect_eq "$out" "Error from server (Conflict): error when replacing \"$KC/add.json\": Operation cannot be fulfilled on configmaps \"clusters\": the object has been modified; please apply your changes to the latest version and try again" \
    "kubectl replace with a stale resourceVersion gets the real 409 Conflict"
out=$(kc create -f "$KC/manifest.json" 2>&1)
expect_eq "$out" "Error from server (AlreadyExists): error when creating \"$KC/manifest.json\": configmaps \"clusters\" already exists" \
    "kubectl create of an existing name gets 409 AlreadyExists"
out=$(kc get configmap nosuch 2>&1)
expect_eq "$out" 'Error from server (NotFound): configmaps "nosuch" not found' \
    "kubectl get of a missing ConfigMap gets 404 NotFound"
head -c 1048577 /dev/zero | tr '\0' x >"$KC/big"
jq --rawfile b "$KC/big" '.data.big = $b' "$KC/got.json" >"$KC/big.json"
out=$(kc replace -f "$KC/big.json" 2>&1)
expect_eq "$out" 'The ConfigMap "clusters" is invalid: []: Too long: must have at most 1048576 bytes' \
    "kubectl shows the 422 Invalid of data over 1 MiB from its causes"
jq '.spec = {}' "$KC/manifest.json" >"$KC/unknown.json"
out=$(kc create -f "$KC/unknown.json" 2>&1)
expect_eq "$out" "Error from server (BadRequest): error when creating \"$KC/unknown.json\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"spec\"" \
    "kubectl's default fieldValidation=Strict refuses an unknown field"
k8s_stats_reset
k8s_ctl '{"fail429_next": 2}'
out=$(kc get configmap clusters -o name 2>&1)
expect_eq "$out" "configmap/clusters" "kubectl rides out two plain-text 429s (Retry-After: 1)"
expect_eq "$(k8s_stat injected_429)" 2 "the double sent those two 429s"
k8s_ctl '{"fail500_next": 1}'
out=$(kc get configmap clusters 2>&1)
expect_eq "$out" "Error from server (InternalError): Internal error occurred: injected by the API server double" \
    "kubectl reads an injected 500 as the InternalError Status"
out=$(kubectl --kubeconfig /dev/null --server "$K8S_URL" --token wrong \
    --certificate-authority "$K8S_DIR/ca.crt" -n ci get configmap clusters 2>&1 | tail -1)
expect_eq "$out" "error: You must be logged in to the server (the server has asked for the client to provide credentials)" \
    "kubectl with a wrong token gets 401"
out=$(kubectl --kubeconfig /dev/null --server "$K8S_URL" --token "$(cat "$K8S_DIR/token")" \
    -n ci get configmap clusters -o name 2>&1 | tail -1)
case $out in
*"certificate signed by unknown authority"*) pass "kubectl without the test CA refuses the double's certificate" ;;
*) fail "kubectl without the test CA refuses the double's certificate" "got: $out" ;;
esac

echo "# the double's rules that kubectl does not exercise"
# cpost/cput: the API with the token, as cimaster's backend talks to it.
capi() {
	curl -sS --cacert "$K8S_DIR/ca.crt" -H "Authorization: Bearer $(cat "$K8S_DIR/token")" \
	    -H 'Content-Type: application/json' -o "$KC/api.out" -w '%{http_code}' "$@"
}
cmurl=$K8S_URL/api/v1/namespaces/ci/configmaps
expect_eq "$(capi -X POST --data-binary @"$KC/file-store.json" "$cmurl")" 500 \
    "POST with a resourceVersion is refused, as by the real storage layer"
expect_eq "$(cat "$KC/api.out")" '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"resourceVersion should not be set on objects to be created","code":500}' \
    "with the real server's body (reason Unknown, omitted)"
jq 'del(.metadata.resourceVersion) | .data.extra = "1"' "$KC/got.json" >"$KC/norv.json"
rv1=$(jq -r .metadata.resourceVersion "$CM_STORE")
expect_eq "$(capi -X PUT --data-binary @"$KC/norv.json" "$cmurl/clusters")" 200 \
    "PUT without a resourceVersion is an unconditional update (ConfigMaps allow it)"
expect_true "it took the next resourceVersion" \
    test "$(jq -r .metadata.resourceVersion "$KC/api.out")" -gt "$rv1"
expect_eq "$(capi -X PUT --data-binary @"$KC/norv.json" "$cmurl/nosuch")" 400 \
    "PUT of a body whose name differs from the URL is 400 BadRequest"
jq '.metadata.name = "nosuch"' "$KC/norv.json" >"$KC/nosuch.json"
expect_eq "$(capi -X PUT --data-binary @"$KC/nosuch.json" "$cmurl/nosuch")" 404 \
    "PUT of a missing ConfigMap is 404 (no create on update)"
expect_eq "$(curl -sS --cacert "$K8S_DIR/ca.crt" -o "$KC/api.out" -w '%{http_code}' "$cmurl/clusters")" 401 \
    "a request without a token is 401"
expect_eq "$(cat "$KC/api.out")" '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}' \
    "with the real server's Unauthorized Status"

# ---------------------------------------------------------------------------
echo "# every endpoint through nginx with the configmap backend"
cm_start
URL_A=$CM_URL
seed c-01:tess-ci c-02:tess-ci c-03:tess-ci:ubuntu-22.04 g-01:gpu-ci
# Another writer's label and data key, which the service must keep.
kc get configmap clusters -o json |
    jq '.metadata.labels.team = "ci" | .data.notes = "kept"' >"$KC/label.json"
kc replace -f "$KC/label.json" >/dev/null
req GET /readyz
expect_status 200 "/readyz reads the ConfigMap: 200"
req GET '/clusters?format=json'
expect_json '.summary == {"vacant":4,"occupied":0,"held":0,"disabled":0,"creating":0}' \
    "the list comes from the ConfigMap"
k8s_stats_reset
rv=$(jq -r .metadata.resourceVersion "$CM_STORE")
req GET '/getvacant?job=e2e&build=1&os=ubuntu-22.04'
expect_body $'c-03\n' "getvacant answers the cluster of that image"
expect_store '.[] | select(.name == "c-03") | .status == "occupied" and .job == "e2e" and .build == "1"' \
    "the ConfigMap records it as occupied by (job, build)"
expect_eq "$(k8s_stat 'PUT 200')" 1 "one PUT wrote it"
rv=$(jq -r .metadata.resourceVersion "$CM_STORE")
req GET '/getvacant?job=e2e&build=1&os=ubuntu-22.04'
expect_body $'c-03\n' "a repeated getvacant answers the same cluster"
expect_eq "$(jq -r .metadata.resourceVersion "$CM_STORE")" "$rv" "and writes nothing"
expect_true "the service's PUT keeps the labels and data keys others set" \
    jq -e '.metadata.labels.team == "ci" and .data.notes == "kept"' "$CM_STORE"
# Each worker keeps its connection: twenty transactions (forty requests)
# must not cost forty TCP+TLS handshakes.
k8s_stats_reset
for i in $(seq 10); do
	req GET "/getvacant?job=keep&build=$i"
	req GET "/finish?cluster=${RESP_BODY%$'\n'}&build=$i"
done
expect_true "40 API requests from $CM_WORKERS workers used at most $((2 * CM_WORKERS)) connections ($(k8s_stat connections))" \
    test "$(k8s_stat requests)" -ge 40 -a "$(k8s_stat connections)" -le $((2 * CM_WORKERS))
req GET '/finish?cluster=c-03&build=2'
expect_error 409 not_owner "finish with another build is 409 not_owner"
req GET '/finish?cluster=c-03&build=1'
expect_status 200 "finish answers 200"
expect_store '.[] | select(.name == "c-03") | .status == "vacant" and .job == ""' "finish frees it"
req GET '/hold?cluster=c-01&user=alice&hours=2&reason=debug'
expect_status 200 "hold answers 200"
expect_store '.[] | select(.name == "c-01") | .status == "held" and .user == "alice"' "hold is stored"
req GET '/release?cluster=c-01&user=alice'
expect_status 200 "release answers 200"
expect_store '.[] | select(.name == "c-01") | .status == "vacant" and .user == ""' "release is stored"
req POST /add "${ADMIN[@]}" -d 'cluster=n-01&purpose=gpu-ci&os=ubuntu-24.04'
expect_status 200 "add answers 200"
expect_store '.[] | select(.name == "n-01") | .purpose == "gpu-ci" and .osImage == "ubuntu-24.04"' "add is stored"
req POST /add "${ADMIN[@]}" -d 'cluster=n-01&purpose=gpu-ci'
expect_error 409 exists "a second add of the name is 409 exists"
req POST /disable "${ADMIN[@]}" -d 'cluster=n-01&reason=broken'
expect_status 200 "disable answers 200"
expect_store '.[] | select(.name == "n-01") | .status == "disabled" and .reason == "broken"' "disable is stored"
req POST /enable "${ADMIN[@]}" -d 'cluster=n-01'
expect_status 200 "enable answers 200"
expect_store '.[] | select(.name == "n-01") | .status == "vacant"' "enable is stored"
req POST /delete "${ADMIN[@]}" -d 'cluster=n-01'
expect_status 200 "delete answers 200"
expect_store 'map(.name) | index("n-01") == null' "delete is stored"
req GET '/getvacant?job=e2e&build=3&purpose=none'
expect_error 404 no_such_purpose "getvacant of an unknown purpose is 404 no_such_purpose"
req GET '/getvacant?job=g&build=1&purpose=gpu-ci'
req GET '/getvacant?job=g&build=2&purpose=gpu-ci'
expect_error 503 no_vacant_cluster "getvacant with none vacant is 503 no_vacant_cluster"
expect_header Retry-After "$CM_RETRY_AFTER" "with Retry-After from the configuration"
req GET /clusters
expect_body "c-01 vacant tess-ci - - - - -
c-02 vacant tess-ci - - - - -
c-03 vacant tess-ci ubuntu-22.04 - - - -
g-01 occupied gpu-ci - 1 g - -
" "the text list shows what the ConfigMap holds"
expect_all_had_request_id

echo "# the API server's 429, 500 and 1 MiB limit, through nginx"
k8s_stats_reset
k8s_ctl '{"fail429_next": 2}'
t0=$(ms)
req GET '/getvacant?job=e2e&build=4'
t=$(($(ms) - t0))
expect_status 200 "getvacant succeeds through two plain-text 429s"
expect_true "after waiting out Retry-After: 1 twice (${t} ms)" test "$t" -ge 2000
expect_eq "$(k8s_stat injected_429)" 2 "the double sent the two 429s"
c4=${RESP_BODY%$'\n'}
k8s_ctl '{"fail500_next": 2}'
req GET "/finish?cluster=$c4&build=4"
expect_status 200 "finish succeeds through two 500s"
expect_store ".[] | select(.name == \"$c4\") | .status == \"vacant\"" "and the cluster is vacant"
head -c $((1048576 - 400)) /dev/zero | tr '\0' x >"$KC/pad"
k8s_put_object "$(jq --rawfile p "$KC/pad" '.data.notes = $p' "$CM_STORE")"
k8s_stats_reset
req POST /add "${ADMIN[@]}" -d 'cluster=n-02&purpose=gpu-ci'
expect_error 500 store_error "an add that would take the data over 1 MiB is a store error" 1048576
expect_eq "$(k8s_stat 'PUT 200')/$(k8s_stat 'PUT 422')" 0/0 "refused before sending: no PUT reached the API server"

# ---------------------------------------------------------------------------
echo "# two instances, one API server: 64 parallel getvacant for 10 clusters"
cm_instance b
cm_setup
cm_start
URL_B=$CM_URL
workers_b=$(cm_worker_pids)
cm_instance a
expect_true "the two instances have their own nginx and workers" \
    test "$URL_A" != "$URL_B" -a "$workers_b" != "$(cm_worker_pids)"
seed_n p race 10
k8s_stats_reset
for round in 1 2; do
	r=$CM_DIR/race.$round
	for i in $(seq 64); do
		u=$URL_A
		[ $((i % 2)) -eq 0 ] && u=$URL_B
		echo "$i $u/getvacant?purpose=race&job=race-$round&build=$i"
	done | fan "$r" 64
	expect_eq "$(awk '$1 == 200' "$r/results" | wc -l)" 10 \
	    "round $round: exactly 10 of 64 callers on 2 instances got a cluster"
	losers=$(awk '$1 != 200 {print $2}' "$r/results")
	bad=0
	for i in $losers; do
		case $(cat "$r/body.$i") in
		"error: no_vacant_cluster: "*) ;;
		*) bad=$((bad + 1)) ;;
		esac
	done
	expect_eq "$bad" 0 "round $round: the other 54 got 503 no_vacant_cluster"
	winners=$(awk '$1 == 200 {print $2}' "$r/results")
	expect_eq "$(for i in $winners; do body "$r" "$i"; echo; done | sort -u | grep -c .)" 10 \
	    "round $round: the 10 winners got 10 different clusters"
	bad=0
	for i in $winners; do
		[ "$(holder "$(body "$r" "$i")")" = "race-$round $i" ] || bad=$((bad + 1))
	done
	expect_eq "$bad" 0 "round $round: the ConfigMap holds each cluster for the caller told it"
	for i in $(seq -w 1 10); do
		u=$URL_A
		[ $((10#$i % 2)) -eq 0 ] && u=$URL_B
		echo "$i $u/finish?cluster=p-$i"
	done | fan "$r/finish" 10
	expect_eq "$(awk '{print $1}' "$r/finish/results" | sort -u)" 200 \
	    "round $round: 10 parallel finish calls on both instances answer 200"
	expect_store '[.[] | select(.status == "vacant")] | length == 10' \
	    "round $round: every cluster is vacant again"
done
echo "    (the double answered $(k8s_stat conflicts) PUTs with 409 Conflict)"

# ---------------------------------------------------------------------------
echo "# a conflict storm and 20 % injected 500s: 32 callers, 24 clusters"
seed_n s storm 24
k8s_stats_reset
# Another writer bumps the ConfigMap 5 times a second, a few times per
# transaction of the service (a GET and a PUT).  Half of the 500s on a
# write (and surely the first 3 writes) come after the write took effect,
# as when etcd commits and the answer is lost: the service is told
# "error" for a change that was made.
k8s_ctl '{"storm_hz": 5, "fail500": 0.2, "fail500_after": 0.5, "fail500_after_next": 3}'
r=$CM_DIR/storm
for i in $(seq 32); do
	u=$URL_A
	[ $((i % 2)) -eq 0 ] && u=$URL_B
	echo "$i $u/getvacant?purpose=storm&job=storm&build=$i"
done | fan "$r" 32
winners=$(awk '$1 == 200 {print $2}' "$r/results")
nwin=$(echo "$winners" | grep -c .)
expect_true "callers got clusters through the storm ($nwin of 32)" test "$nwin" -gt 0
bad=$(awk '$1 != 200 && $1 != 503 && $1 != 500' "$r/results")
expect_eq "$bad" "" "every other caller got a 503 or 500, no other status"
bad=0
for i in $(awk '$1 != 200 {print $2}' "$r/results"); do
	case $(cat "$r/body.$i") in
	"error: store_busy: "* | "error: store_error: "* | "error: no_vacant_cluster: "*) ;;
	*) bad=$((bad + 1)) ;;
	esac
done
expect_eq "$bad" 0 "each failure says store_busy, store_error or no_vacant_cluster"
expect_eq "$(for i in $winners; do body "$r" "$i"; echo; done | sort -u | grep -c .)" "$nwin" \
    "no cluster was given to two callers"
bad=0
for i in $winners; do
	[ "$(holder "$(body "$r" "$i")")" = "storm $i" ] || bad=$((bad + 1))
done
expect_eq "$bad" 0 "every acknowledged allocation is in the ConfigMap, held by its caller"
expect_store "[.[] | select(.status == \"occupied\" and (.job != \"storm\" or
    (.build | tonumber) < 1 or (.build | tonumber) > 32))] | length == 0" \
    "every occupied cluster belongs to one of the 32 callers"
expect_store 'length == 24' "all 24 clusters are still there"
expect_true "the faults happened: 500s before and after writes, storm writes, conflicts" \
    test "$(k8s_stat injected_500)" -gt 0 -a "$(k8s_stat injected_500_after)" -gt 0 \
    -a "$(k8s_stat storm_writes)" -gt 0 -a "$(k8s_stat conflicts)" -gt 0
echo "    (500s: $(k8s_stat injected_500) before, $(k8s_stat injected_500_after) after the write; storm writes: $(k8s_stat storm_writes); conflicts: $(k8s_stat conflicts))"
for i in $winners; do
	u=$URL_A
	[ $((i % 2)) -eq 0 ] && u=$URL_B
	echo "$i $u/finish?cluster=$(body "$r" "$i")&build=$i"
done | fan "$r/finish" 32
k8s_ctl '{"storm_hz": 0, "fail500": 0, "fail500_after": 0}'
bad=0
for i in $(awk '$1 == 200 {print $2}' "$r/finish/results"); do
	[ "$(holder "$(body "$r" "$i")")" = " " ] || bad=$((bad + 1))
done
expect_eq "$bad" 0 "every acknowledged finish left its cluster vacant"
bad=0
for i in $(awk '$1 != 200 {print $2}' "$r/finish/results"); do
	case $(holder "$(body "$r" "$i")") in
	" " | "storm $i") ;;
	*) bad=$((bad + 1)) ;;
	esac
done
expect_eq "$bad" 0 "a failed finish left its cluster vacant or still with its caller"
# A caller told "error" whose allocation was made all the same (its last
# PUT took effect, the answer was lost) gets that very cluster when it
# retries: nothing is lost, nothing given twice.
ghosts=0
bad=0
for i in $(awk '$1 != 200 {print $2}' "$r/results"); do
	c=$(store_records | jq -r --arg b "$i" '.[] | select(.job == "storm" and .build == $b) | .name')
	[ -n "$c" ] || continue
	ghosts=$((ghosts + 1))
	req GET "/getvacant?purpose=storm&job=storm&build=$i"
	[ "$RESP_STATUS $RESP_BODY" = "200 $c"$'\n' ] || bad=$((bad + 1))
done
expect_eq "$bad" 0 "every cluster the ConfigMap holds for a caller was reported to it ($ghosts only on a retry after a lost answer)"

# ---------------------------------------------------------------------------
echo "# token rotation mid-run"
seed_n t rot 4
k8s_stats_reset
stop=$CM_DIR/rot.stop
(
	n=0
	while [ ! -e "$stop" ] && [ "$n" -lt 400 ]; do
		n=$((n + 1))
		t=$(ms)
		u=$URL_A
		[ $((n % 2)) -eq 0 ] && u=$URL_B
		s1=$(curl -s --max-time 30 -o "$CM_DIR/rot.body" -w '%{http_code}' \
		    "$u/getvacant?purpose=rot&job=rot&build=$n")
		c=$(tr -d '\n' <"$CM_DIR/rot.body")
		s2=$(curl -s --max-time 30 -o /dev/null -w '%{http_code}' \
		    "$u/finish?cluster=$c&build=$n")
		echo "$n $s1 $s2 $c $t"
	done >"$CM_DIR/rot.log"
) &
rot_pid=$!
sleep 1
k8s_ctl '{"token_grace_ms": 1500}'
k8s_token_set "$(k8s_new_token)"
rot1=$(ms)
sleep 2.5
k8s_ctl '{"token_grace_ms": 0}'
k8s_token_set "$(k8s_new_token)"
rot2=$(ms)
sleep 2
touch "$stop"
wait "$rot_pid"
n=$(wc -l <"$CM_DIR/rot.log")
expect_true "cycles ran before, between and after the two rotations ($n cycles)" \
    test "$(awk -v t="$rot1" '$5 < t' "$CM_DIR/rot.log" | wc -l)" -gt 0 -a \
    "$(awk -v a="$rot1" -v b="$rot2" '$5 > a && $5 < b' "$CM_DIR/rot.log" | wc -l)" -gt 0 -a \
    "$(awk -v t="$rot2" '$5 > t' "$CM_DIR/rot.log" | wc -l)" -gt 1
expect_eq "$(awk '$2 != 200 || $3 != 200 || $4 !~ /^t-/' "$CM_DIR/rot.log")" "" \
    "every getvacant and finish answered 200 with a cluster"
expect_true "the old token was refused once its grace ended ($(k8s_stat unauthorized) 401s), and the service re-read the file" \
    test "$(k8s_stat unauthorized)" -gt 0
expect_eq "$(kc get configmap clusters -o name 2>&1)" configmap/clusters \
    "kubectl reads the new token from the same file"

# ---------------------------------------------------------------------------
echo "# kubectl replacing the ConfigMap while the service writes"
seed_n w kw 30
k8s_ctl '{"latency_ms": 5}'
r=$CM_DIR/kw
for i in $(seq 30); do
	u=$URL_A
	[ $((i % 2)) -eq 0 ] && u=$URL_B
	echo "$i $u/getvacant?purpose=kw&job=kw&build=$i"
done | fan "$r" 3 &
fan_pid=$!
retries=0
for j in 1 2 3 4 5; do
	for try in $(seq 30); do
		kc get configmap clusters -o json >"$KC/kw.json" 2>/dev/null
		jq --argjson rec "$(record "k-0$j" kw)" \
		    '.data.clusters |= (fromjson + [$rec] | tojson)' \
		    "$KC/kw.json" >"$KC/kw.new.json"
		out=$(kc replace -f "$KC/kw.new.json" 2>&1) && break
		case $out in
		*"(Conflict)"*) retries=$((retries + 1)) ;;
		*) fail "kubectl replace failed otherwise than by a conflict" "$out"; break ;;
		esac
	done
done
wait "$fan_pid"
k8s_ctl '{"latency_ms": 0}'
echo "    (kubectl lost $retries races to the service and retried)"
expect_store '[.[] | select(.name | startswith("k-0"))] | length == 5' \
    "all 5 clusters kubectl added survived the service's writes"
expect_eq "$(awk '$1 != 200' "$r/results")" "" "all 30 getvacant calls answered 200"
bad=0
for i in $(awk '{print $2}' "$r/results"); do
	[ "$(holder "$(body "$r" "$i")")" = "kw $i" ] || bad=$((bad + 1))
done
expect_eq "$bad" 0 "all 30 allocations survived kubectl's writes"

# ---------------------------------------------------------------------------
echo "# /readyz when the API server is down or hung"
k8s_stop
t0=$(ms)
req GET /readyz
t=$(($(ms) - t0))
expect_error 503 store_error "/readyz is 503 store_error when the API server is down"
expect_true "and says so at once (${t} ms)" test "$t" -lt 2000
k8s_restart
req GET /readyz
expect_status 200 "/readyz is 200 again once the API server is back"
k8s_ctl '{"hang": "handshake"}'
t0=$(ms)
req GET /readyz
t=$(($(ms) - t0))
expect_error 503 store_error "/readyz is 503 when the API server accepts but never does TLS"
expect_true "within connect_timeout_ms + 1.5 s (${t} ms)" \
    test "$t" -lt $((CM_K8S_CONNECT_TIMEOUT_MS + 1500))
k8s_ctl '{"hang": "request"}'
t0=$(ms)
req GET /readyz
t=$(($(ms) - t0))
expect_error 503 store_error "/readyz is 503 when the API server never answers"
expect_true "within timeout_ms + 1.5 s (${t} ms)" \
    test "$t" -lt $((CM_K8S_TIMEOUT_MS + 1500))
k8s_ctl '{"hang": ""}'
req GET /readyz
expect_status 200 "/readyz is 200 once the API server answers again"

# ---------------------------------------------------------------------------
echo "# a missing ConfigMap, and create_if_missing"
k8s_delete_object
req GET /readyz
expect_error 503 store_error "without create_if_missing a missing ConfigMap is a store error" clusters
req POST /add "${ADMIN[@]}" -d 'cluster=m-01&purpose=made'
expect_true "and nothing creates it ($RESP_STATUS)" test ! -e "$CM_STORE"
CM_K8S_CREATE=true
cm_write_config
expect_true "the instance reloads its configuration" cm_reload
req POST /add "${ADMIN[@]}" -d 'cluster=m-01&purpose=made'
expect_status 200 "with create_if_missing an add succeeds on a missing ConfigMap"
kc get configmap clusters -o json >"$KC/made.json" 2>&1
expect_true "kubectl sees the ConfigMap the service created, with the cluster" \
    jq -e '.data.clusters | fromjson | map(.name) == ["m-01"]' "$KC/made.json"
expect_true "the double counted a POST create" test "$(k8s_stat creates)" -ge 1

# ---------------------------------------------------------------------------
echo "# migration: a file store into the ConfigMap and back (docs/kubernetes.md)"
k8s_delete_object
store_json "[$(record f-01 mig),$(record f-02 mig)]" | jq . >"$KC/clusters.json"
out=$(jq 'del(.metadata.resourceVersion)' "$KC/clusters.json" | kc create -f - 2>&1)
expect_eq "$out" "configmap/clusters created" \
    "the file store's manifest, without its resourceVersion, loads with kubectl create -f"
req GET '/clusters?purpose=mig'
expect_body $'f-01 vacant mig - - - - -\nf-02 vacant mig - - - - -\n' \
    "the service serves the migrated clusters"
req GET '/getvacant?purpose=mig&job=m&build=1'
expect_body $'f-01\n' "and allocates from them"
# The reverse, with the commands of docs/kubernetes.md.
kc -n ci get configmap clusters -o json |
    jq '.metadata |= (del(.managedFields, .uid, .creationTimestamp,
                          .annotations["kubectl.kubernetes.io/last-applied-configuration"])
                      | .resourceVersion = "1")' >"$KC/saved.json"
expect_true "the saved ConfigMap passes the documented check" \
    jq -e '.kind == "ConfigMap" and (.data.clusters | fromjson | type) == "array"' "$KC/saved.json"
CM_BACKEND=file
cm_instance c
cm_setup
store_put "$(cat "$KC/saved.json")"
cm_start
req GET '/clusters?purpose=mig'
expect_body $'f-01 occupied mig - 1 m - -\nf-02 vacant mig - - - - -\n' \
    "a file-backend instance serves the saved ConfigMap"
req GET '/finish?cluster=f-01'
expect_status 200 "and writes it"
expect_eq "$(jq -r .metadata.resourceVersion "$CM_STORE")" 2 "counting writes from the documented \"1\""
cm_instance a

cm_finish
