#!/usr/bin/env bash
# tests/createcluster.sh: createcluster (issue 5) end to end, through a
# real nginx and real workers against tests/prow_double.py: the 202 and
# its id, idempotency (also under 16 parallel identical requests), the
# allow-list, REMOTE_USER, Prow's failures (500, 401 once and twice, too
# slow, down) and the reservation given back after each, the pending
# creations in the list and the store, POST /add ...&creation=ID,
# expiry (by the next createcluster and by cimaster-expire), and
# auto-provisioning from getvacant; then the manual-trigger dialect, and
# two instances sharing the configmap store (the API server double).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require python3
EXPIRE_BIN=${EXPIRE_BIN:-$top_builddir/cimaster-expire}
[ -x "$EXPIRE_BIN" ] || t_skip "$EXPIRE_BIN is not built"

CM_WORKERS=4
SHA=0123456789abcdef0123456789abcdef01234567
ADMIN=(-u admin:adminpw)
CAROL=(-u carol:carolpw)
# Slow Prow is latency above TIMEOUT_MS; the parallel requests' latency is
# below it, so they overlap but succeed.
CONNECT_MS=500
TIMEOUT_MS=1500
SLOW_MS=3000
OVERLAP_MS=800
# A sanity bound on a 502 for slow Prow, not a performance claim.
SLOW_BOUND_S=10

# prow_conf DIALECT URL AUTO_PROVISION: appends the prow group to the
# current instance's configuration (readable by the service user).
prow_conf() {
	cat >>"$CM_DIR/cimaster.conf" <<EOF
prow: {
  dialect = "$1";
  url = "$2";
  token_file = "$PD_DIR/token";
  ca_file = "$PD_DIR/ca.crt";
  connect_timeout_ms = $CONNECT_MS;
  timeout_ms = $TIMEOUT_MS;
  pending_minutes = 60;
  max_pending = ${PD_MAX_PENDING:-100};
  auto_provision = $3;
  jobs = (
    { name = "e2e-create"; type = "periodic"; },
    { name = "post-create"; type = "postsubmit";
      refs = { org = "acme"; repo = "infra"; base_ref = "main";
               base_sha = "$SHA"; }; },
    { name = "tnet-create"; type = "periodic"; purpose = "tnet-ci";
      max_clusters = 2; }
  );
};
EOF
	[ "$(id -u)" -eq 0 ] && chown cimaster:cimaster "$CM_DIR/cimaster.conf"
	return 0
}

# cc QUERY [curl args...]: createcluster with this query string.
cc() {
	local q=$1
	shift
	req GET "/createcluster?$q" "$@"
}

body_id() { printf '%s' "$RESP_BODY" | tr -d '\n'; }

# is_id_line TEXT: TEXT is one Prow job id (gangway's are UUIDs) and "\n".
is_id_line() { [[ $1 =~ ^[0-9a-f-]{36}$'\n'$ ]]; }

# creations: the pending creations in the store (data.creations, decoded;
# [] when the key is absent).
creations() {
	jq -r '.data.creations // "[]"' "$CM_STORE" | jq -c .
}

# creations_edit JQ: applies JQ to the stored creations and writes the
# result as the next version, as an admin with kubectl edit would.  Only
# while nothing else writes.
creations_edit() {
	local doc
	doc=$(jq '
	    .data.creations |= ((. // "[]") | fromjson | '"$1"' | tojson) |
	    .metadata.resourceVersion |= (tonumber + 1 | tostring)' "$CM_STORE") ||
	    { echo "creations_edit: $1 failed"; exit 99; }
	store_put "$doc"
}

# lapse ID: the creation's expires (and since) are in the past.
lapse() {
	creations_edit 'map(if .id == "'"$1"'" then
	    .since = "2020-01-01T00:00:00Z" | .expires = "2020-01-01T01:00:00Z"
	    else . end)'
}

# pd_count: how many requests reached the double since the last reset.
pd_count() { pd_requests | jq length; }

# expect_pd JQ DESC: the filter is true of the double's request record.
expect_pd() {
	local r
	r=$(pd_requests)
	if printf '%s' "$r" | jq -e "$1" >/dev/null 2>&1; then
		pass "$2"
	else
		fail "$2 (Prow double: jq -e '$1' is not true)" \
		    "requests: $(printf '%s' "$r" | jq -c '[.[] | {path, auth, status, json}]' | head -c 3000)"
	fi
}

# The double first: the instances' configurations name its URL, CA and
# token.
cm_setup
pd_start "$CM_DIR/prow" e2e-create=periodic post-create=postsubmit \
    tnet-create=periodic || exit 99
prow_conf gangway "$PD_URL" false
seed tess-ci-01:tess-ci tnet-ci-01:tnet-ci
cm_start

# ---- 1. gangway: a creation and its idempotency ------------------------------

echo "# gangway: the first request starts the job, an identical one does not"
cc 'user=alice&branch=master&job=e2e-create'
expect_status 202 "createcluster answers 202"
expect_header Content-Type "text/plain; charset=utf-8" "the 202 is text/plain"
ID1=$(body_id)
expect_true "the body is the job id and a newline (${ID1})" is_id_line "$RESP_BODY"
expect_eq "$(pd_count)" 1 "exactly one request reached Prow"
expect_pd '.[0] | .method == "POST" and .path == "/v1/executions"' \
    "it went to gangway's /v1/executions"
expect_pd '.[0].json == {job_name: "e2e-create", job_execution_type: "PERIODIC",
    pod_spec_options: {envs: {AUTHOR: "alice", BRANCH: "master"}}}' \
    "the job, PERIODIC, AUTHOR=alice, BRANCH=master and no refs reached Prow"
expect_pd 'all(.[]; .auth == "ok")' "Prow saw the configured bearer token"
expect_pd '.[0].status == 200' "Prow answered 200"
expect_eq "$(curl -sS "$PD_CTL/_executions" | jq -r '.[-1].name')" "$ID1" \
    "the id is the one Prow gave its execution"

cc 'user=alice&branch=master&job=e2e-create&format=json'
expect_status 202 "an identical request answers 202"
expect_json '.new == false and .creation.id == "'"$ID1"'"' \
    "with the same id and new=false"
expect_json '(.creation | keys) == ["branch","expires","id","job","purpose","since","user"] and
    .creation.job == "e2e-create" and .creation.user == "alice" and
    .creation.branch == "master" and .creation.purpose == ""' \
    "the JSON creation has its id, job, user, branch, purpose, since, expires (no ticket)"
expect_eq "$(pd_count)" 1 "and nothing more reached Prow"

cc 'user=alice&branch=release-1&job=e2e-create&format=json'
expect_json '.new == true and .creation.id != "'"$ID1"'"' \
    "another branch is another creation"
ID1B=$(printf '%s' "$RESP_BODY" | jq -r .creation.id)
expect_eq "$(pd_count)" 2 "which reached Prow"

expect_eq "$(creations | jq -r --arg i "$ID1" \
    '[.[] | select(.id == $i and .job == "e2e-create" and .user == "alice" and
      .branch == "master" and (.ticket | length) > 0)] | length')" 1 \
    "the store holds the pending creation in data.creations"

echo "# the list shows pending creations"
req GET /clusters
expect_status 200 "the text list answers 200"
expect_true "a text line 'ID creating - - - e2e-create alice EXPIRES'" \
    grep -qE "^$ID1 creating - - - e2e-create alice 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z\$" \
    "$CM_DIR/resp.body"
expect_eq "$(head -n 1 "$CM_DIR/resp.body" | cut -d' ' -f1)" tess-ci-01 \
    "the creations come after the cluster lines"
req GET '/clusters?format=json'
expect_json '[.creations[] | select(.id == "'"$ID1"'")] | length == 1' \
    "the JSON list has it under creations"
expect_json '.summary.creating == 2 and (.creations | length) == 2' \
    "summary.creating counts the pending creations"
req GET / -H 'Accept: text/html'
expect_body_has "<h2>Being created</h2>" "the HTML page has a 'Being created' table"
expect_body_has "<td>$ID1</td>" "with the creation's id"
req GET '/clusters?status=vacant'
expect_body_lacks "$ID1" "a status= filter hides creations"
req GET '/clusters?name=tess-ci-01&format=json'
expect_json '.creations == [] and .summary.creating == 0' "a name= filter hides creations"

# ---- 2. parallel identical requests -------------------------------------------

echo "# 16 parallel identical requests start one job"
pd_ctl /_reset
pd_ctl /_faults '{"latency_ms": '"$OVERLAP_MS"'}'
pids=()
for i in $(seq 16); do
	curl -sS -o "$CM_DIR/par.$i.body" -w '%{http_code}' --max-time 30 \
	    "$CM_URL/createcluster?user=paula&branch=master&job=e2e-create" \
	    >"$CM_DIR/par.$i.status" 2>"$CM_DIR/par.$i.err" &
	pids+=($!)
done
wait "${pids[@]}"
pd_ctl /_faults '{"latency_ms": 0}'
expect_eq "$(for f in "$CM_DIR"/par.*.status; do cat "$f"; echo; done |
    sort | uniq -c | awk '{print $1, $2}')" \
    "16 202" "all 16 answer 202"
expect_eq "$(cat "$CM_DIR"/par.*.body | sort -u | wc -l)" 1 "all with the same id"
nw=$(grep -F 'GET /createcluster 202 ok user=paula ' "$CM_DIR/cimaster.log" |
    sed -n 's/^cimaster\[\([0-9]*\)\].*/\1/p' | sort -u | wc -l)
expect_true "they overlapped: $nw of $CM_WORKERS workers answered them" test "$nw" -ge 2
PAR_ID=$(tr -d '\n' <"$CM_DIR/par.1.body")
expect_eq "$(pd_count)" 1 "exactly one request reached Prow"
expect_pd '.[0].json.pod_spec_options.envs.AUTHOR == "paula"' "it was paula's"
expect_eq "$(curl -sS "$PD_CTL/_executions" | jq -r '.[0].name')" "$PAR_ID" \
    "and the id they all got is that execution's"
expect_eq "$(creations | jq '[.[] | select(.user == "paula")] | length')" 1 \
    "the store holds one creation for it"

echo "# while Prow is being asked the list shows the creation without an id"
pd_ctl /_faults '{"latency_ms": '"$OVERLAP_MS"'}'
curl -sS -o "$CM_DIR/bg.body" -w '%{http_code}' --max-time 30 \
    "$CM_URL/createcluster?user=quinn&branch=master&job=e2e-create" \
    >"$CM_DIR/bg.status" 2>"$CM_DIR/bg.err" &
bg=$!
for _ in $(seq 50); do
	[ "$(creations | jq '[.[] | select(.user == "quinn")] | length')" = 1 ] && break
	sleep 0.02
done
req GET /clusters
expect_true "a text line '- creating - - - e2e-create quinn EXPIRES'" \
    grep -qE '^- creating - - - e2e-create quinn ' "$CM_DIR/resp.body"
req GET / -H 'Accept: text/html'
expect_body_has "<td>(asking Prow)</td>" "the HTML page says Prow is being asked"
wait "$bg"
pd_ctl /_faults '{"latency_ms": 0}'
expect_eq "$(cat "$CM_DIR/bg.status")" 202 "and the request is then served"
req GET /clusters
expect_true "the line then has the id" \
    grep -qE "^$(tr -d '\n' <"$CM_DIR/bg.body") creating - - - e2e-create quinn " \
    "$CM_DIR/resp.body"

# ---- 3. refused before anything is sent ---------------------------------------

echo "# the allow-list, the user"
pd_ctl /_reset
cc 'user=alice&branch=master&job=nope'
expect_error 400 bad_param "a job not on the allow-list is 400 bad_param" \
    "job: nope is not on the allow-list"
cc 'user=alice&branch=dev&job=post-create'
expect_error 400 bad_param "a postsubmit on another branch than its base_ref is 400" \
    "branch: job post-create builds main"
expect_true "the message starts with 'branch:'" \
    grep -q '^error: bad_param: branch:' "$CM_DIR/resp.body"
cc 'branch=master&job=e2e-create'
expect_error 400 bad_param "no user and no authentication is 400 naming user" user
expect_eq "$(pd_count)" 0 "nothing of these reached Prow"
expect_eq "$(creations | jq '[.[] | select(.job == "nope" or .branch == "dev")] | length')" 0 \
    "and nothing of them is in the store"

cc 'user=alice&branch=main&job=post-create'
expect_status 202 "a postsubmit on its base_ref is started"
expect_pd '.[-1].json == {job_name: "post-create", job_execution_type: "POSTSUBMIT",
    refs: {org: "acme", repo: "infra", base_ref: "main", base_sha: "'"$SHA"'"},
    pod_spec_options: {envs: {AUTHOR: "alice", BRANCH: "main"}}}' \
    "with POSTSUBMIT and the job's refs"

cc 'user=mallory&branch=master&job=e2e-create&format=json' "${CAROL[@]}"
expect_status 202 "an authenticated caller is served"
expect_json '.creation.user == "carol"' "REMOTE_USER (carol) wins over user=mallory"
expect_pd '.[-1].json.pod_spec_options.envs.AUTHOR == "carol"' "and is the job's AUTHOR"
cc 'branch=master&job=e2e-create' "${CAROL[@]}"
expect_status 202 "authentication alone is enough for the user"

# ---- 4. Prow answers 500 --------------------------------------------------------

echo "# Prow answers 500"
pd_ctl /_reset
pd_ctl /_faults '{"fail_next": 1, "fail_status": 500}'
cc 'user=bob&branch=master&job=e2e-create'
expect_error 502 prow_error "Prow's 500 is 502 prow_error" \
    "prow answered 500: injected by the Prow double"
expect_eq "$(creations | jq '[.[] | select(.user == "bob")] | length')" 0 \
    "the reservation is given back"
req GET '/clusters?format=json'
expect_json '[.creations[] | select(.user == "bob")] == []' "the list shows no creation for it"
cc 'user=bob&branch=master&job=e2e-create'
expect_status 202 "the next identical request is served"
expect_eq "$(pd_count)" 2 "and reached Prow again"

# ---- 5. 401 ----------------------------------------------------------------------

echo "# Prow answers 401"
pd_ctl /_reset
pd_ctl /_faults '{"fail_next": 1, "fail_status": 401}'
cc 'user=carl&branch=master&job=e2e-create'
expect_status 202 "one 401: the retry succeeds"
expect_eq "$(pd_count)" 2 "two requests reached Prow"
expect_pd '[.[].status] == [401, 200] and all(.[]; .auth == "ok")' \
    "a 401, then a 200, both with the token"
pd_ctl /_reset
pd_ctl /_faults '{"fail_next": 2, "fail_status": 401}'
cc 'user=cora&branch=master&job=e2e-create'
expect_error 502 prow_error "two 401s are 502 prow_error" "prow answered 401: "
expect_eq "$(pd_count)" 2 "after exactly two requests"
expect_eq "$(creations | jq '[.[] | select(.user == "cora")] | length')" 0 \
    "the reservation is given back"

echo "# identical requests wait as long as the first may take: two calls after a 401"
pd_ctl /_reset
# Each call takes 1100 ms, over connect_timeout_ms + timeout_ms (2000) for
# the two: waiters that gave up after one call's worth would answer 502.
pd_ctl /_faults '{"latency_ms": 1100, "fail_next": 1, "fail_status": 401}'
pids=()
for i in 1 2 3; do
	curl -sS -o "$CM_DIR/w401.$i.body" -w '%{http_code}' --max-time 30 \
	    "$CM_URL/createcluster?user=wendy&branch=master&job=e2e-create" \
	    >"$CM_DIR/w401.$i.status" 2>"$CM_DIR/w401.$i.err" &
	pids+=($!)
	sleep 0.1
done
wait "${pids[@]}"
pd_ctl /_faults '{"latency_ms": 0}'
expect_eq "$(cat "$CM_DIR"/w401.*.status | tr -d '\n')" 202202202 \
    "all three answer 202"
expect_eq "$(cat "$CM_DIR"/w401.*.body | sort -u | wc -l)" 1 "with one id"
expect_pd '[.[].status] == [401, 200]' "Prow saw one 401 and one 200"

# ---- 6. slow Prow ------------------------------------------------------------------

echo "# Prow slower than prow.timeout_ms"
pd_ctl /_reset
pd_ctl /_faults '{"latency_ms": '"$SLOW_MS"'}'
t0=$(date +%s%N)
cc 'user=sam&branch=master&job=e2e-create'
ms=$((($(date +%s%N) - t0) / 1000000))
pd_ctl /_faults '{"latency_ms": 0}'
expect_error 502 prow_error "slow Prow is 502 prow_error" "prow unreachable: "
expect_true "the answer came within ${SLOW_BOUND_S} s (${ms} ms)" \
    test "$ms" -lt $((SLOW_BOUND_S * 1000))
expect_eq "$(creations | jq '[.[] | select(.user == "sam")] | length')" 0 \
    "the reservation is given back"

# ---- 7. Prow down --------------------------------------------------------------------

echo "# Prow down"
pd_stop
cc 'user=dora&branch=master&job=e2e-create'
expect_error 502 prow_error "Prow down is 502 prow_error" "prow unreachable: "
expect_eq "$(creations | jq '[.[] | select(.user == "dora")] | length')" 0 \
    "the reservation is given back"
pd_restart || exit 99
cc 'user=dora&branch=master&job=e2e-create'
expect_status 202 "when Prow is back the identical request is served"
expect_eq "$(pd_count)" 1 "and reached it"

# ---- 8. /add closes the creation ------------------------------------------------------

echo "# POST /add ...&creation=ID"
req POST /add "${ADMIN[@]}" --data "cluster=tess-ci-02&purpose=tess-ci&creation=$ID1"
expect_status 200 "the admin adds the cluster with creation=ID"
expect_eq "$(creations | jq --arg i "$ID1" '[.[] | select(.id == $i)] | length')" 0 \
    "the creation is gone from data.creations"
expect_eq "$(creations | jq --arg i "$ID1B" '[.[] | select(.id == $i)] | length')" 1 \
    "the other creations stay"
req GET /clusters
expect_body_lacks "$ID1" "and from the list"
expect_body_has "tess-ci-02 vacant tess-ci" "which has the new cluster"
req POST /add "${ADMIN[@]}" --data "cluster=tess-ci-03&purpose=tess-ci&creation=Bad_ID!"
expect_error 400 bad_param "a creation that is no Kubernetes object name is 400" creation
req GET '/clusters?name=tess-ci-03&format=json'
expect_json '.clusters == []' "and adds nothing"

# ---- 9. expiry --------------------------------------------------------------------------

echo "# a lapsed creation is forgotten"
pd_ctl /_reset
cc 'user=erin&branch=master&job=e2e-create'
EXP1=$(body_id)
lapse "$EXP1"
req GET /clusters
expect_body_lacks "$EXP1" "a lapsed creation is not listed"
cc 'user=erin&branch=master&job=e2e-create&format=json'
expect_status 202 "an identical request after it lapsed is served"
expect_json '.new == true and .creation.id != "'"$EXP1"'"' "by a new job with a new id"
EXP1B=$(printf '%s' "$RESP_BODY" | jq -r .creation.id)
expect_eq "$(pd_count)" 2 "which reached Prow"
expect_eq "$(creations | jq -c --arg i "$EXP1" --arg n "$EXP1B" \
    '[.[] | select(.id == $i or .id == $n) | .id]')" "[\"$EXP1B\"]" \
    "the lapsed record was dropped, the new one kept"

cc 'user=fred&branch=master&job=e2e-create'
EXP2=$(body_id)
lapse "$EXP2"
"$EXPIRE_BIN" -c "$CM_DIR/cimaster.conf" >"$CM_DIR/expire.out" 2>"$CM_DIR/expire.log"
expect_eq "$?" 0 "cimaster-expire succeeds"
expect_true "it logs 'forgot creation $EXP2'" \
    grep -qF "forgot creation $EXP2" "$CM_DIR/expire.log"
expect_eq "$(creations | jq --arg i "$EXP2" '[.[] | select(.id == $i)] | length')" 0 \
    "and removes it from the store"
expect_eq "$(creations | jq --arg i "$EXP1B" '[.[] | select(.id == $i)] | length')" 1 \
    "a live creation stays"

# ---- 10. auto-provisioning ----------------------------------------------------------------

echo "# getvacant without auto-provisioning says nothing of Prow"
pd_ctl /_reset
req GET '/getvacant?purpose=tnet-ci&job=ci&build=1'
expect_status 200 "the only tnet-ci cluster is taken"
req GET '/getvacant?purpose=tnet-ci&job=ci&build=2'
expect_error 503 no_vacant_cluster "no vacant tnet-ci cluster is 503 no_vacant_cluster"
expect_body_lacks "Prow" "and the message says nothing of Prow"
expect_eq "$(pd_count)" 0 "nothing reached Prow"

echo "# auto-provisioning"
cm_instance b
cm_setup
prow_conf gangway "$PD_URL" true
seed tnet-ci-01:tnet-ci
cm_start
req GET '/getvacant?purpose=tnet-ci&job=ci&build=1'
expect_status 200 "the only tnet-ci cluster is taken"
req GET '/getvacant?purpose=tnet-ci&job=ci&build=2'
expect_error 503 no_vacant_cluster "the next getvacant is 503 no_vacant_cluster" \
    "; asked Prow for another: job tnet-create, id "
AUTO_ID=${RESP_BODY##*, id }
AUTO_ID=${AUTO_ID%$'\n'}
expect_eq "$(pd_count)" 1 "one request reached Prow"
expect_pd '.[0].json == {job_name: "tnet-create", job_execution_type: "PERIODIC",
    pod_spec_options: {envs: {AUTHOR: "cimaster", BRANCH: "master"}}}' \
    "for tnet-create with AUTHOR=cimaster, BRANCH=master"
expect_eq "$(curl -sS "$PD_CTL/_executions" | jq -r '.[0].name')" "$AUTO_ID" \
    "the message names the id Prow gave"
expect_eq "$(creations | jq -c '[.[] | {id, job, user, purpose}]')" \
    "[{\"id\":\"$AUTO_ID\",\"job\":\"tnet-create\",\"user\":\"cimaster\",\"purpose\":\"tnet-ci\"}]" \
    "the store holds the creation with its purpose"
req GET '/getvacant?purpose=tnet-ci&job=ci&build=3'
expect_error 503 no_vacant_cluster "again: 503 no_vacant_cluster" \
    "; another is being created: job tnet-create, id $AUTO_ID"
expect_eq "$(pd_count)" 1 "and no second request reached Prow"
req GET '/clusters?purpose=tnet-ci'
expect_true "the list shows the creation with its purpose" \
    grep -qE "^$AUTO_ID creating tnet-ci - - tnet-create cimaster " "$CM_DIR/resp.body"
req POST /add "${ADMIN[@]}" --data "cluster=tnet-ci-02&purpose=tnet-ci&creation=$AUTO_ID"
expect_status 200 "the creation job adds its cluster"
expect_eq "$(creations)" "[]" "which closes the creation"
req GET '/getvacant?purpose=tnet-ci&job=ci&build=4'
expect_body "tnet-ci-02"$'\n' "getvacant takes the new cluster"
req GET '/getvacant?purpose=tnet-ci&job=ci&build=5'
expect_error 503 no_vacant_cluster "with both taken: 503 no_vacant_cluster" \
    "; 2 tnet-ci clusters exist or are being created, the most auto-provisioning makes"
expect_eq "$(pd_count)" 1 "and nothing more reached Prow"
req POST /delete "${ADMIN[@]}" --data "cluster=tnet-ci-02&force=1"
expect_status 200 "one tnet-ci cluster is deleted"
pd_ctl /_faults '{"fail_next": 1, "fail_status": 500}'
req GET '/getvacant?purpose=tnet-ci&job=ci&build=6'
expect_error 503 no_vacant_cluster "below the most again, Prow failing: 503 no_vacant_cluster" \
    "; asking Prow for another failed: prow answered 500: injected by the Prow double"
expect_eq "$(creations)" "[]" "and no creation is left"
req POST /delete "${ADMIN[@]}" --data "cluster=tnet-ci-01&force=1"
expect_status 200 "the last tnet-ci cluster is deleted"
pd_ctl /_reset
req GET '/getvacant?purpose=tnet-ci&job=ci&build=7'
expect_error 404 no_such_purpose "no tnet-ci cluster at all: 404 no_such_purpose" \
    "; asked Prow for one: job tnet-create, id "
expect_eq "$(pd_count)" 1 "and the purpose's creation job was started from nothing"
req GET '/getvacant?purpose=nothing-ci&job=ci&build=8'
expect_error 404 no_such_purpose "a purpose without a creation job: 404, nothing started" \
    "no cluster of purpose nothing-ci"
expect_body_lacks "Prow" "its message says nothing of Prow"
expect_eq "$(pd_count)" 1 "and nothing more reached Prow"

# ---- 11. manual-trigger ---------------------------------------------------------------------

echo "# the manual-trigger dialect"
cm_instance c
cm_setup
PD_MAX_PENDING=2 prow_conf manual-trigger "$PD_URL$PD_MANUAL_PATH" false
seed tess-ci-01:tess-ci
cm_start
pd_ctl /_reset
cc 'user=gina&branch=master&job=e2e-create'
expect_status 202 "manual-trigger: createcluster answers 202"
MT_ID=$(body_id)
expect_eq "$(curl -sS "$PD_CTL/_executions" | jq -c '[.[] | {name, dialect}]')" \
    "[{\"name\":\"$MT_ID\",\"dialect\":\"manual-trigger\"}]" \
    "the body is the ProwJob's name"
expect_pd 'length == 1 and .[0].path == "'"$PD_MANUAL_PATH"'" and .[0].auth == "ok"' \
    "one request with the token reached the manual-trigger path"
expect_pd '.[0].json == {job: "e2e-create", type: "periodic",
    envs: {AUTHOR: "gina", BRANCH: "master"}}' \
    "it was {job, type: periodic, envs} and no refs"
cc 'user=gina&branch=main&job=post-create'
expect_status 202 "manual-trigger: a postsubmit is started"
expect_pd '.[1].json == {job: "post-create", type: "postsubmit",
    refs: {org: "acme", repo: "infra", base_ref: "main", base_sha: "'"$SHA"'"},
    envs: {AUTHOR: "gina", BRANCH: "main"}}' \
    "with its refs"
cc 'user=gina&branch=release-1&job=e2e-create'
expect_error 503 too_many_creations "a third creation while prow.max_pending (2) are pending" \
    "2 creations are pending, the most prow.max_pending allows"
expect_header Retry-After 7 "with Retry-After"
expect_eq "$(pd_count)" 2 "and nothing reached Prow"
cc 'user=gina&branch=master&job=e2e-create'
expect_status 202 "an identical request still gets its pending id"

# ---- 12. two hosts on the configmap store -----------------------------------------------

echo "# two instances on one ConfigMap: parallel identical requests start one job"
CM_BACKEND=configmap
cm_instance k1
cm_setup
prow_conf gangway "$PD_URL" false
seed tess-ci-01:tess-ci
cm_start
K1_URL=$CM_URL
cm_instance k2
cm_setup
prow_conf gangway "$PD_URL" false
cm_start
K2_URL=$CM_URL
pd_ctl /_reset
pd_ctl /_faults '{"latency_ms": '"$OVERLAP_MS"'}'
pids=()
for i in $(seq 16); do
	if [ $((i % 2)) -eq 0 ]; then u=$K1_URL; else u=$K2_URL; fi
	curl -sS -o "$CM_DIR/k8s.$i.body" -w '%{http_code}' --max-time 30 \
	    "$u/createcluster?user=hana&branch=master&job=e2e-create" \
	    >"$CM_DIR/k8s.$i.status" 2>"$CM_DIR/k8s.$i.err" &
	pids+=($!)
done
wait "${pids[@]}"
pd_ctl /_faults '{"latency_ms": 0}'
expect_eq "$(for f in "$CM_DIR"/k8s.*.status; do cat "$f"; echo; done |
    sort | uniq -c | awk '{print $1, $2}')" "16 202" "all 16 answer 202"
expect_eq "$(cat "$CM_DIR"/k8s.*.body | sort -u | wc -l)" 1 "all with the same id"
expect_eq "$(pd_count)" 1 "exactly one request reached Prow"
K8S_ID=$(tr -d '\n' <"$CM_DIR/k8s.1.body")
expect_eq "$(creations | jq -c '[.[] | {id, user}]')" \
    "[{\"id\":\"$K8S_ID\",\"user\":\"hana\"}]" \
    "the ConfigMap's data.creations holds it"
expect_eq "$(jq -r '.data.clusters | fromjson | map(.name) | join(",")' "$CM_STORE")" \
    tess-ci-01 "and data.clusters is as it was"
# Its write takes effect but the API server's answer is a 500: the retry
# finds the cluster there, added for this creation, and says 200.
k8s_ctl '{"fail500_after_next": 1, "methods": ["PUT"]}'
req POST /add "${ADMIN[@]}" \
    --data "cluster=tess-ci-02&purpose=tess-ci&creation=$K8S_ID"
k8s_ctl '{"fail500_after_next": 0, "methods": []}'
expect_status 200 "the creation job's /add through the other instance, its answer lost once"
expect_eq "$(jq -r '.data.clusters | fromjson | map(select(.name == "tess-ci-02")) |
    .[0].creation' "$CM_STORE")" "$K8S_ID" "the cluster records its creation"
req POST /add "${ADMIN[@]}" --data "cluster=tess-ci-02&purpose=tess-ci"
expect_error 409 exists "an add of that name without the creation is 409 exists"
expect_true "closes it: data.creations is gone from the ConfigMap" \
    test "$(jq -r '.data | has("creations")' "$CM_STORE")" = false

echo "# a reservation whose write took effect but whose answer was lost stays this request's"
pd_ctl /_reset
k8s_ctl '{"fail500_after_next": 1, "methods": ["PUT"]}'
cc 'user=lorna&branch=master&job=e2e-create'
k8s_ctl '{"fail500_after_next": 0, "methods": []}'
expect_status 202 "202 although the API server answered the reservation's PUT with 500"
expect_eq "$(pd_count)" 1 "and it asked Prow itself, once"
expect_eq "$(creations | jq -r '.[] | select(.user == "lorna") | .id')" "$(body_id)" \
    "the store has the id it answered"

expect_all_had_request_id
cm_finish
