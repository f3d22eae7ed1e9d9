#!/usr/bin/env bash
# tests/prow_double.sh: tests/prow_double.py against its contract, with
# curl: both dialects (gangway's /v1/executions and the manual-trigger
# endpoint) over TLS with the test CA, every rejection with its exact
# status and body, the request record and the fault injection.  The
# createcluster suites rely on this double; this suite keeps it honest.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require curl jq openssl python3

SHA=0123456789abcdef0123456789abcdef01234567

CM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/prow-double-test.XXXXXX") ||
    t_skip "cannot create a temporary directory"
# No instance here: the teardown stops the double and removes CM_DIR.
trap cm_teardown EXIT
trap 'exit 130' INT TERM
pd_start "$CM_DIR/prow" e2e-create=periodic post-create=postsubmit \
    pre-create=presubmit || exit 99
TOKEN=$PD_TOKEN
URL=https://localhost:$PD_PORT

# preq PATH JSON [curl args...]: POSTs JSON with the token; sets
# RESP_STATUS, RESP_BODY and the headers for hdr (as lib.sh's req does).
preq() {
	local path=$1 body=$2
	shift 2
	: >"$CM_DIR/resp.body"
	RESP_REQ="POST $path $body"	# the token stays out of failure reports
	RESP_STATUS=$(curl -sS -o "$CM_DIR/resp.body" -D "$CM_DIR/resp.raw" \
	    -w '%{http_code}' --max-time 10 --cacert "$PD_DIR/ca.crt" \
	    -H 'Content-Type: application/json' -X POST --data-binary "$body" \
	    "$@" "$URL$path" 2>"$CM_DIR/resp.err")
	[ -n "$RESP_STATUS" ] || RESP_STATUS=000
	RESP_BODY=$(cat "$CM_DIR/resp.body"; printf x)
	RESP_BODY=${RESP_BODY%x}
	tr -d '\r' <"$CM_DIR/resp.raw" >"$CM_DIR/resp.headers"
}
AUTH=(-H "Authorization: Bearer $TOKEN")

# gw JSON: a gangway request with the token.  mt JSON: manual-trigger.
gw() { preq /v1/executions "$1" "${AUTH[@]}"; }
mt() { preq /manual-trigger "$1" "${AUTH[@]}"; }

# expect_grpc STATUS CODE MESSAGE DESC: a gangway error, exactly.
expect_grpc() {
	local want
	want=$(jq -cn --argjson c "$2" --arg m "$3" '{code: $c, message: $m, details: []}')
	if [ "$RESP_STATUS" = "$1" ] &&
	    [ "$(printf '%s' "$RESP_BODY" | jq -c . 2>/dev/null)" = "$want" ] &&
	    [ "$(hdr Content-Type)" = application/json ]; then
		pass "$4"
	else
		fail "$4 (want $1 $want)"
		resp_dump
	fi
}

# expect_text STATUS MESSAGE DESC: a manual-trigger error, exactly.
expect_text() {
	if [ "$RESP_STATUS" = "$1" ] && [ "$RESP_BODY" = "$2"$'\n' ] &&
	    [ "$(hdr Content-Type)" = "text/plain; charset=utf-8" ]; then
		pass "$3"
	else
		fail "$3 (want $1 '$2')"
		resp_dump
	fi
}


REFS='{"org":"acme","repo":"infra","base_ref":"master","base_sha":"'$SHA'"}'
PULL='{"number":1,"author":"john","sha":"'$SHA'"}'

# ---- gangway: what it accepts ---------------------------------------------

gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","pod_spec_options":{"envs":{"AUTHOR":"john","BRANCH":"master"}}}'
expect_status 200 "gangway: a periodic execution is triggered"
expect_json '(.id | test("^[0-9a-f-]{36}$")) and .job_name == "e2e-create" and .job_type == "PERIODIC" and .job_status == "TRIGGERED" and (has("refs") | not) and .pod_spec_options.envs.AUTHOR == "john"' \
    "gangway: the answer is the JobExecution HandleProwJob returns"
GW_ID=$(printf '%s' "$RESP_BODY" | jq -r .id)

gw '{"job_name":"post-create","job_execution_type":"POSTSUBMIT","refs":'"$REFS"'}'
expect_status 200 "gangway: a postsubmit execution with refs is triggered"
expect_json '.job_type == "POSTSUBMIT" and .refs.base_sha == "'$SHA'"' \
    "gangway: the postsubmit answer echoes its refs"

gw '{"jobName":"e2e-create","jobExecutionType":1}'
expect_status 200 "gangway: lowerCamelCase names and an enum number are accepted (protojson)"

preq /v1/executions/e2e-create '{"job_execution_type":"PERIODIC"}' "${AUTH[@]}"
expect_json '.job_name == "e2e-create" and .job_status == "TRIGGERED"' \
    "gangway: the older per-job path takes the job from the URL"

# ---- gangway: what it rejects ---------------------------------------------

gw '{"job_execution_type":"PERIODIC"}'
expect_grpc 400 3 "job_name field cannot be empty" "gangway: no job_name is 400"
gw '{"job_name":"e2e-create"}'
expect_grpc 400 3 "unsupported JobExecutionType: JOB_EXECUTION_TYPE_UNSPECIFIED" \
    "gangway: no job_execution_type is 400"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","refs":'"$REFS"'}'
expect_grpc 400 3 "periodic jobs cannot also have gitRefs" "gangway: refs on a periodic job are 400"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","refs":{}}'
expect_grpc 400 3 "periodic jobs cannot also have gitRefs" "gangway: even empty refs on a periodic job are 400"
gw '{"job_name":"post-create","job_execution_type":"POSTSUBMIT"}'
expect_grpc 400 3 'gitRefs must be defined for "POSTSUBMIT"' "gangway: a postsubmit without refs is 400"
gw '{"job_name":"post-create","job_execution_type":"POSTSUBMIT","refs":{"org":"acme","repo":"infra","base_ref":"master"}}'
expect_grpc 400 3 "gitRefs: failed to validate: gitRefs: BaseSha cannot be empty" \
    "gangway: a missing base_sha is 400"
gw '{"job_name":"post-create","job_execution_type":"POSTSUBMIT","refs":{"repo":"infra","base_ref":"master","base_sha":"'$SHA'"}}'
expect_grpc 400 3 "gitRefs: failed to validate: gitRefs: Org cannot be empty" \
    "gangway: a missing org is 400"
gw '{"job_name":"pre-create","job_execution_type":"PRESUBMIT","refs":{"org":"acme","repo":"infra","base_ref":"master","base_sha":"'$SHA'","pulls":[{"number":1,"sha":"abc"}]}}'
expect_grpc 400 3 'gitRefs: failed to validate: pull: invalid SHA: "abc"' \
    "gangway: a pull whose sha is not 40 hex is 400"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","pod_spec_options":{"envs":{"AUTHOR":""}}}'
expect_grpc 400 3 'invalid environment variable key/value pair: "AUTHOR", ""' \
    "gangway: an empty env value is 400"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","pod_spec_options":{"labels":{"a":""}}}'
expect_grpc 400 3 'invalid label key/value pair: "a", ""' "gangway: an empty label value is 400"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","pod_spec_options":{"annotations":{"a":""}}}'
expect_grpc 400 3 'invalid annotation key/value pair: "a", ""' "gangway: an empty annotation is 400"
gw '{"job_name":"nope","job_execution_type":"PERIODIC"}'
expect_grpc 500 2 'failed to find associated periodic job "nope"' \
    "gangway: an unknown periodic job is 500 (codes.Unknown)"
gw '{"job_name":"e2e-create","job_execution_type":"POSTSUBMIT","refs":'"$REFS"'}'
expect_grpc 500 2 'failed to find associated postsubmit job "e2e-create" from orgRepo "acme/infra"' \
    "gangway: a job of another type is unknown too"
gw '{"job_name":"pre-create","job_execution_type":"PRESUBMIT","refs":'"$REFS"'}'
expect_grpc 500 2 "at least 1 Pulls is required" "gangway: a presubmit without pulls is 500 (validateRefs)"
gw '{"job_name":"pre-create","job_execution_type":"PRESUBMIT","refs":'"${REFS%\}}"',"pulls":['"$PULL"']}}'
expect_status 200 "gangway: a presubmit with a pull is triggered"
gw '{"job_name":"e2e-create","job_execution_type":"BATCH"}'
expect_grpc 400 3 'gitRefs must be defined for "BATCH"' "gangway: BATCH without refs is 400 (Validate first)"
gw '{"job_name":"e2e-create","job_execution_type":"BATCH","refs":'"$REFS"'}'
expect_grpc 500 2 "unsupported JobExecutionType type: BATCH" "gangway: BATCH with refs is 500 (getJobHandler)"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC","colour":"red"}'
expect_status 400 "gangway: an unknown field is 400"

preq /v1/executions '{"job_name":"e2e-create","job_execution_type":"PERIODIC"}'
expect_status 401 "gangway: no token is 401"
expect_json '. == {"code": 401, "message": "Jwt is missing"}' "gangway: the 401 body is the proxy's"
preq /v1/executions '{"job_name":"e2e-create","job_execution_type":"PERIODIC"}' \
    -H "Authorization: Bearer wrong"
expect_json '. == {"code": 401, "message": "Jwt verification fails"}' "gangway: a wrong token is 401"

# ---- manual-trigger --------------------------------------------------------

mt '{"job":"e2e-create","type":"periodic","envs":{"AUTHOR":"john"}}'
expect_status 200 "manual-trigger: a periodic job is created"
expect_json '(keys == ["name"]) and (.name | test("^[0-9a-f-]{36}$"))' \
    "manual-trigger: the answer is the ProwJob's name"
MT_NAME=$(printf '%s' "$RESP_BODY" | jq -r .name)
mt '{"job":"post-create","type":"postsubmit","refs":'"$REFS"',"envs":{"AUTHOR":"john"}}'
expect_status 200 "manual-trigger: a postsubmit with refs is created"

mt '{"job":"e2e-create","type":"periodic","refs":'"$REFS"'}'
expect_text 400 "periodic jobs cannot have refs" "manual-trigger: refs on a periodic job are 400"
mt '{"job":"post-create","type":"postsubmit"}'
expect_text 400 "refs are required for postsubmit jobs" "manual-trigger: a postsubmit without refs is 400"
mt '{"job":"post-create","type":"postsubmit","refs":{"org":"acme","repo":"infra","base_ref":"master"}}'
expect_text 400 "refs.base_sha is required" "manual-trigger: a missing base_sha is 400"
mt '{"job":"post-create","type":"postsubmit","refs":{"org":"acme","repo":"infra","base_ref":"master","base_sha":"abc"}}'
expect_text 400 "refs.base_sha must be 40 lowercase hex digits" "manual-trigger: a short base_sha is 400"
mt '{"job":"e2e-create","type":"periodic","envs":{"AUTHOR":""}}'
expect_text 400 'env "AUTHOR" has an empty value' "manual-trigger: an empty env value is 400"
mt '{"job":"e2e-create","type":"weekly"}'
expect_text 400 "type must be periodic, postsubmit or presubmit" "manual-trigger: an unknown type is 400"
mt 'not json'
expect_text 400 "the body is not JSON" "manual-trigger: a body that is not JSON is 400"
mt '{"job":"nope","type":"periodic"}'
expect_text 404 "unknown job: nope" "manual-trigger: an unknown job is 404"
preq /manual-trigger '{"job":"e2e-create","type":"periodic"}'
expect_text 401 "unauthorized" "manual-trigger: no token is 401"
expect_header WWW-Authenticate Bearer "manual-trigger: the 401 asks for a bearer token"
preq /manual-trigger '{"job":"e2e-create","type":"periodic"}' -H "Authorization: Bearer wrong"
expect_text 401 "unauthorized" "manual-trigger: a wrong token is 401"

# The token file is read on every request: a rotated token works at once.
NEW=$(k8s_new_token)
pd_token_set "$NEW"
mt '{"job":"e2e-create","type":"periodic"}'
expect_status 401 "the old token stops working when the file changes"
preq /manual-trigger '{"job":"e2e-create","type":"periodic"}' -H "Authorization: Bearer $NEW"
expect_status 200 "the new token works at once"
pd_token_set "$TOKEN"

# ---- the record ------------------------------------------------------------

R=$(pd_requests)
expect_eq "$(printf '%s' "$R" | jq -r '[.[] | select(.path == "/v1/executions" and .json.job_name == "e2e-create" and .status == 200)] | length > 0')" \
    true "the record has the gangway request with its parsed body and status"
expect_eq "$(printf '%s' "$R" | jq -r '[.[].headers[] | select(.[0] | ascii_downcase == "authorization") | .[1]] | unique | join(",")')" \
    "Bearer <redacted>" "the record keeps no token value"
expect_true "no token value anywhere in the record" bash -c "! grep -qF -e '$TOKEN' -e '$NEW' <<<'$R'"
expect_eq "$(printf '%s' "$R" | jq -r '[.[] | .auth] | unique | join(",")')" \
    "bad,missing,ok" "the record says whether each token matched"
expect_eq "$(printf '%s' "$R" | jq -r '[.[] | select(.path == "/manual-trigger" and .json.envs.AUTHOR == "john")] | length')" \
    2 "the record has both manual-trigger requests that named the author"
E=$(curl -sS "$PD_CTL/_executions")
expect_eq "$(printf '%s' "$E" | jq -r --arg g "$GW_ID" --arg m "$MT_NAME" '[.[] | select(.name == $g or .name == $m)] | length')" \
    2 "the created executions are listed by id"
pd_ctl /_reset
expect_eq "$(pd_requests | jq length)" 0 "POST /_reset forgets the requests"

# ---- faults ------------------------------------------------------------------

pd_ctl /_faults '{"fail_next": 2, "fail_status": 503}'
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC"}'
expect_grpc 503 14 "injected by the Prow double" "fault: gangway answers 503 (codes.Unavailable)"
mt '{"job":"e2e-create","type":"periodic"}'
expect_text 503 "injected by the Prow double" "fault: manual-trigger answers 503"
mt '{"job":"e2e-create","type":"periodic"}'
expect_status 200 "fault: after N failures the double answers again"
pd_ctl /_faults '{"fail_next": 1, "fail_status": 500}'
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC"}'
expect_grpc 500 13 "injected by the Prow double" "fault: gangway answers 500"
pd_ctl /_faults '{"fail_next": 1, "fail_status": 401}'
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC"}'
expect_status 401 "fault: a valid token gets 401 once"
gw '{"job_name":"e2e-create","job_execution_type":"PERIODIC"}'
expect_status 200 "fault: and the next request passes"
expect_eq "$(curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary '{"fail_status": 418}' "$PD_CTL/_faults")" \
    400 "fault: a status other than 500, 401, 503 is refused"

pd_ctl /_faults '{"latency_ms": 600}'
t0=$(date +%s%N)
mt '{"job":"e2e-create","type":"periodic"}'
ms=$((($(date +%s%N) - t0) / 1000000))
expect_true "fault: latency delays the answer (${ms} ms >= 600)" test "$ms" -ge 600
expect_status 200 "fault: a slow answer is still an answer"
pd_ctl /_faults '{"latency_ms": 0, "hang": true}'
preq /manual-trigger '{"job":"e2e-create","type":"periodic"}' "${AUTH[@]}" --max-time 1
expect_eq "$RESP_STATUS" 000 "fault: a hung request gets no answer (curl times out)"
expect_eq "$(pd_requests | jq -r '.[-1].status')" 0 "fault: the hung request is recorded, unanswered"
pd_ctl /_faults '{"hang": false}'
mt '{"job":"e2e-create","type":"periodic"}'
expect_status 200 "fault: after the hang is cleared the double answers"

pd_check_log

echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
[ "$TESTS_FAILED" -eq 0 ]
