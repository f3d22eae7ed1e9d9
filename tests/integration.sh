#!/usr/bin/env bash
# tests/integration.sh: the HTTP contract (shared/API.md, docs/api.md)
# checked end to end through a real nginx rendered from the packaged site
# template: every endpoint, format, status, error code and header, the
# transition table, nginx's auth, TLS, limits and request ids.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

TEXT="text/plain; charset=utf-8"
JSON="application/json; charset=utf-8"
HTML="text/html; charset=utf-8"
ADMIN=(-u admin:adminpw)
CAROL=(-u carol:carolpw)

# rec NAME FIELD: one field of one cluster in the store.
rec() {
	store_records | jq -r --arg n "$1" ".[] | select(.name == \$n) | .$2"
}

# near EPOCH TARGET DESC: within two minutes (clock skew of a slow run).
near() {
	local d=$(($1 - $2))
	if [ "${d#-}" -le 120 ]; then
		pass "$3"
	else
		fail "$3" "got $1, want about $2"
	fi
}

epoch() { date -u -d "$1" +%s 2>/dev/null || echo 0; }

s256=$(printf 'a%.0s' $(seq 256))
s257=${s256}a
n64=$(printf 'a%.0s' $(seq 64))

cm_setup
seed tess-ci-01:tess-ci tess-ci-02:tess-ci:ubuntu-22.04 tess-ci-03:tess-ci \
    tnet-ci-01:tnet-ci tnet-ci-02:tnet-ci:ubuntu-22.04
cm_start

echo "# cimaster -n checks the configuration"
"$CIMASTER_BIN" -n -c "$CM_DIR/cimaster.conf" 2>"$CM_DIR/n.err"
expect_eq "$?" 0 "cimaster -n accepts the test configuration"
printf 'server: {\n  wokers = 4;\n};\n' >"$CM_DIR/bad.conf"
"$CIMASTER_BIN" -n -c "$CM_DIR/bad.conf" 2>"$CM_DIR/n.err"
expect_eq "$?" 1 "cimaster -n rejects an unknown key with exit status 1"
expect_true "the message says file:line" grep -q "bad.conf:2: " "$CM_DIR/n.err"

echo "# health"
req GET /healthz
expect_status 200 "/healthz answers 200"
expect_body $'ok\n' "/healthz says ok"
expect_header Content-Type "$TEXT" "/healthz is text/plain; charset=utf-8"
req GET /readyz
expect_status 200 "/readyz answers 200 with a readable store"
expect_body $'ready\n' "/readyz says ready"

echo "# unknown paths and request ids"
req GET /no/such/endpoint
expect_error 404 not_found "an unknown path is 404 not_found"
id=$(hdr X-Request-Id)
expect_true "X-Request-Id is nginx's 32 hex digit \$request_id" \
    grep -qE '^[0-9a-f]{32}$' <<<"$id"
expect_true "cimaster logged the 404 with the same request id" cm_log_has_id "$id"
req GET /no/such/endpoint -H 'Accept: application/json'
expect_json_error 404 not_found "an unknown path is 404 not_found in JSON too"
req GET '/no/such/endpoint?format=json'
expect_json_error 404 not_found "format=json selects JSON errors"
req GET /getvacant -H 'X-Request-Id: forged'
expect_true "a client's own X-Request-Id is not echoed" \
    grep -qE '^[0-9a-f]{32}$' <<<"$(hdr X-Request-Id)"

echo "# the cluster list"
want_list='tess-ci-01 vacant tess-ci - - - - -
tess-ci-02 vacant tess-ci ubuntu-22.04 - - - -
tess-ci-03 vacant tess-ci - - - - -
tnet-ci-01 vacant tnet-ci - - - - -
tnet-ci-02 vacant tnet-ci ubuntu-22.04 - - - -
'
req GET /
expect_status 200 "GET / answers 200"
expect_header Content-Type "$TEXT" "the list defaults to text/plain"
expect_body "$want_list" "the text list has one 'name status purpose osImage build job user holdUntil' line per cluster"
id=$(hdr X-Request-Id)
expect_true "cimaster logged GET / with nginx's request id" cm_log_has_id "$id"
req GET /clusters
expect_body "$want_list" "GET /clusters is the same list"
req GET /clusters -H 'Accept: application/json'
expect_header Content-Type "$JSON" "Accept: application/json gives application/json; charset=utf-8"
expect_json '.clusters | length == 5' "the JSON list has every cluster"
expect_json '.summary == {"vacant":5,"occupied":0,"held":0,"disabled":0,"creating":0}' \
    "the JSON list has the summary by status"
expect_json '.clusters[1] == {"name":"tess-ci-02","purpose":"tess-ci","osImage":"ubuntu-22.04","status":"vacant","build":"","job":"","user":"","since":"2026-01-01T00:00:00Z","holdUntil":"","reason":""}' \
    "a JSON record has exactly the API's fields"
req GET '/clusters?format=json'
expect_json '.clusters | length == 5' "format=json selects the JSON list"
req GET '/?format=json' -H 'Accept: text/html'
expect_header Content-Type "$JSON" "format=json wins over Accept: text/html"
req GET / -H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
expect_status 200 "a browser gets the list"
expect_header Content-Type "$HTML" "a browser's Accept gives text/html; charset=utf-8"
expect_body_has "<table" "the HTML list is a table"
expect_body_has "tnet-ci-02" "the HTML list names the clusters"
req GET '/clusters?purpose=tnet-ci'
expect_body 'tnet-ci-01 vacant tnet-ci - - - - -
tnet-ci-02 vacant tnet-ci ubuntu-22.04 - - - -
' "purpose= filters the list"
req GET '/clusters?name=tess-ci-03'
expect_body $'tess-ci-03 vacant tess-ci - - - - -\n' "name= filters the list"
req GET '/clusters?status=held'
expect_status 200 "a filter matching nothing is still 200"
expect_body "" "a filter matching nothing gives an empty text list"
req GET '/clusters?status=vacant&purpose=tess-ci&format=json'
expect_json '[.clusters[].name] == ["tess-ci-01","tess-ci-02","tess-ci-03"]' \
    "status= and purpose= combine"
req GET '/clusters?status=bogus'
expect_error 400 bad_param "an unknown status filter is 400 bad_param" status
req GET '/clusters?purpose=a/b'
expect_error 400 bad_param "an invalid purpose filter is 400 bad_param" purpose

echo "# getvacant"
req GET '/getvacant?build=100&job=e2e&os=ubuntu-22.04'
expect_status 200 "getvacant with os= answers 200"
expect_body $'tess-ci-02\n' "getvacant prints only the name and a newline; os= picks that image"
expect_header Content-Type "$TEXT" "getvacant answers text/plain"
expect_store '.[] | select(.name == "tess-ci-02") |
    .status == "occupied" and .build == "100" and .job == "e2e"' \
    "the store records the cluster as occupied by (job, build)"
near "$(epoch "$(rec tess-ci-02 since)")" "$(date +%s)" "since is set to now"
req GET '/getvacant?build=101&job=e2e'
expect_status 200 "getvacant answers 200"
c101=${RESP_BODY%$'\n'}
case $c101 in
tess-ci-01 | tess-ci-03) pass "the default purpose (tess-ci) is used" ;;
*) fail "the default purpose (tess-ci) is used" "got '$c101'" ;;
esac
ver=$(jq -r .metadata.resourceVersion "$CM_STORE")
req GET '/getvacant?build=101&job=e2e'
expect_body "$c101"$'\n' "getvacant is idempotent per (job, build)"
expect_eq "$(jq -r .metadata.resourceVersion "$CM_STORE")" "$ver" \
    "a repeated getvacant writes nothing"
expect_store '[.[] | select(.job == "e2e" and .build == "101")] | length == 1' \
    "a retried getvacant does not take a second cluster"
req GET '/getvacant?build=102&job=e2e'
c102=${RESP_BODY%$'\n'}
expect_status 200 "another build gets a cluster"
expect_true "another build gets another cluster" \
    test "$c102" != "$c101" -a "$c102" != tess-ci-02
req GET '/getvacant?build=101&job=other-job'
expect_error 503 no_vacant_cluster "the same build of another job is another allocation; none is left"
expect_header Retry-After "$CM_RETRY_AFTER" "503 no_vacant_cluster has Retry-After from clusters.retry_after_seconds"
req GET '/getvacant?build=103&job=e2e' -H 'Accept: application/json'
expect_json_error 503 no_vacant_cluster "503 no_vacant_cluster in JSON"
expect_header Retry-After "$CM_RETRY_AFTER" "the JSON 503 has Retry-After too"
req GET '/getvacant?build=101&job=e2e'
expect_body "$c101"$'\n' "the idempotent retry works when the pool is exhausted"
req GET '/getvacant?build=200&job=e2e&purpose=tnet-ci&format=json'
expect_status 200 "getvacant purpose=tnet-ci answers 200"
expect_header Content-Type "$JSON" "getvacant format=json is JSON"
expect_json '.cluster.purpose == "tnet-ci" and .cluster.status == "occupied" and
    .cluster.build == "200" and .cluster.job == "e2e" and
    (.cluster.name | test("^tnet-ci-0[12]$"))' \
    "getvacant in JSON is {\"cluster\": record}"
req GET '/getvacant?build=1&job=e2e&purpose=nope'
expect_error 404 no_such_purpose "an unknown purpose is 404 no_such_purpose"
req GET '/getvacant?build=1&job=e2e&os=windows'
expect_error 404 no_such_purpose "an OS image no cluster of the purpose has is 404 no_such_purpose"
req GET '/getvacant?build=1&job=e2e&purpose=nope&format=json'
expect_json_error 404 no_such_purpose "404 no_such_purpose in JSON"

echo "# getvacant parameters"
seed tess-ci-01:tess-ci tess-ci-02:tess-ci tess-ci-03:tess-ci
req GET '/getvacant?job=e2e'
expect_error 400 bad_param "a missing build is 400 bad_param naming build" build
req GET '/getvacant?build=1'
expect_error 400 bad_param "a missing job is 400 bad_param naming job" job
req GET "/getvacant?job=e2e&build=$s257"
expect_error 400 bad_param "a 257 byte build is 400 bad_param naming build" build
req GET '/getvacant?job=e2e&build=a%01b'
expect_error 400 bad_param "a control character in build is 400 bad_param" build
req GET "/getvacant?build=1&job=$s257"
expect_error 400 bad_param "a 257 byte job is 400 bad_param naming job" job
req GET '/getvacant?build=1&job=e2e&purpose=tess%20ci'
expect_error 400 bad_param "a purpose with a space is 400 bad_param naming purpose" purpose
req GET '/getvacant?build=1&job=e2e&os=ubuntu/22.04'
expect_error 400 bad_param "an OS image with a slash is 400 bad_param naming os" os
req GET '/getvacant?build=1&build=2&job=e2e'
expect_error 400 bad_param "a repeated parameter is 400 bad_param" build
req GET '/getvacant?build=%zz&job=e2e'
expect_error 400 bad_param "a malformed %-escape is 400 bad_param"
req GET '/getvacant?job=e2e' -H 'Accept: application/json'
expect_json_error 400 bad_param "400 bad_param in JSON"
expect_store 'all(.[]; .status == "vacant")' "no bad request changed the store"
req GET "/getvacant?job=e2e&build=$s256&unknown=1"
expect_status 200 "a 256 byte build is accepted and unknown parameters are ignored"
req GET '/getvacant?build=%C3%A9t%C3%A9-1&job=e2e%2Fnightly'
expect_status 200 "UTF-8 and %-escaped values are accepted"
expect_store '[.[] | select(.build == "été-1" and .job == "e2e/nightly")] | length == 1' \
    "values are stored decoded"

echo "# POST"
seed tess-ci-01:tess-ci tess-ci-02:tess-ci tess-ci-03:tess-ci
req POST /getvacant -d 'build=300&job=post'
expect_status 200 "POST getvacant with a form body answers 200"
c300=${RESP_BODY%$'\n'}
expect_store ".[] | select(.name == \"$c300\") | .build == \"300\" and .job == \"post\"" \
    "POST form parameters are used"
req POST '/getvacant?build=301&job=post' -d ''
expect_status 200 "POST with the parameters in the query string answers 200"
c301=${RESP_BODY%$'\n'}
expect_store ".[] | select(.name == \"$c301\") | .build == \"301\" and .job == \"post\"" \
    "POST query parameters are used"
req POST /finish --data-urlencode "cluster=$c300" --data-urlencode build=300
expect_status 200 "POST finish with a form body answers 200"
expect_store ".[] | select(.name == \"$c300\") | .status == \"vacant\"" \
    "POST finish freed the cluster"

echo "# finish"
seed tess-ci-01:tess-ci tess-ci-02:tess-ci
req GET '/getvacant?build=1&job=j'
fa=${RESP_BODY%$'\n'}
req GET "/finish?cluster=$fa&build=2"
expect_error 409 not_owner "finish with another build is 409 not_owner"
req GET "/finish?cluster=$fa&build=2&format=json"
expect_json_error 409 not_owner "409 not_owner in JSON"
expect_store ".[] | select(.name == \"$fa\") | .status == \"occupied\"" \
    "a refused finish leaves the cluster occupied"
req GET "/finish?cluster=$fa&build=1"
expect_status 200 "finish with the right build answers 200"
expect_body "$fa vacant tess-ci - - - - -"$'\n' "finish prints the cluster's list line"
expect_store ".[] | select(.name == \"$fa\") |
    .status == \"vacant\" and .build == \"\" and .job == \"\"" \
    "finish: occupied -> vacant, build and job cleared"
req GET "/finish?cluster=$fa"
expect_status 200 "finish of a vacant cluster is 200 (a retried finish must not fail a job)"
expect_body "$fa vacant tess-ci - - - - -"$'\n' "and it stays vacant"
req GET '/getvacant?build=5&job=j'
b=${RESP_BODY%$'\n'}
req GET "/finish?cluster=$b&format=json"
expect_json ".cluster.name == \"$b\" and .cluster.status == \"vacant\"" \
    "finish without build frees the cluster; JSON is {\"cluster\": record}"
req GET '/hold?cluster=tess-ci-02&user=alice'
req GET '/finish?cluster=tess-ci-02'
expect_status 200 "finish of a held cluster is 200"
expect_store '.[] | select(.name == "tess-ci-02") | .status == "held" and .user == "alice"' \
    "finish: held stays held (a developer is debugging it)"
req GET '/finish?cluster=tess-ci-99'
expect_error 404 no_such_cluster "finish of an unknown cluster is 404 no_such_cluster"
req GET '/finish?cluster=tess-ci-99' -H 'Accept: application/json'
expect_json_error 404 no_such_cluster "404 no_such_cluster in JSON"
req GET '/finish?cluster=Tess_CI'
expect_error 400 bad_param "a cluster name outside [a-z0-9-] is 400 bad_param naming cluster" cluster
req GET '/finish?cluster=-tess'
expect_error 400 bad_param "a cluster name starting with - is 400 bad_param" cluster
req GET "/finish?cluster=$n64"
expect_error 400 bad_param "a 64 character cluster name is 400 bad_param" cluster
req GET '/finish'
expect_error 400 bad_param "a missing cluster is 400 bad_param naming cluster" cluster

echo "# hold"
seed tess-ci-01:tess-ci tess-ci-02:tess-ci tess-ci-03:tess-ci tess-ci-04:tess-ci
now=$(date +%s)
req GET '/hold?cluster=tess-ci-01&user=alice&reason=debugging%20a%20flake'
expect_status 200 "hold of a vacant cluster answers 200"
hu=$(rec tess-ci-01 holdUntil)
expect_body "tess-ci-01 held tess-ci - - - alice $hu"$'\n' "hold prints the list line with user and holdUntil"
expect_true "holdUntil is RFC 3339 UTC" grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' <<<"$hu"
near "$(epoch "$hu")" $((now + 6 * 3600)) "hours defaults to clusters.hold_hours (6)"
expect_store '.[] | select(.name == "tess-ci-01") | .status == "held" and .user == "alice" and .reason == "debugging a flake"' \
    "the store records holder and reason"
req GET '/hold?cluster=tess-ci-01&user=alice&hours=10&format=json'
expect_json '.cluster.status == "held" and .cluster.user == "alice"' "the holder may hold again"
near "$(epoch "$(rec tess-ci-01 holdUntil)")" $((now + 10 * 3600)) "holding again extends holdUntil"
hu=$(rec tess-ci-01 holdUntil)
req GET '/hold?cluster=tess-ci-01&user=bob'
expect_error 409 held_by_other "hold of a cluster held by someone else is 409 held_by_other" alice
expect_body_has "$hu" "the held_by_other message says until when"
req GET '/hold?cluster=tess-ci-01&user=bob&format=json'
expect_json_error 409 held_by_other "409 held_by_other in JSON"
expect_eq "$(rec tess-ci-01 user)" alice "a refused hold keeps the holder"
req GET '/hold?cluster=tess-ci-02&user=bob&hours=2'
near "$(epoch "$(rec tess-ci-02 holdUntil)")" $((now + 2 * 3600)) "hours=2 holds for two hours"
req GET '/hold?cluster=tess-ci-03&user=dave&hours=73'
expect_error 400 bad_param "hours over clusters.max_hold_hours is 400 bad_param naming hours" hours
req GET '/hold?cluster=tess-ci-03&user=dave&hours=0'
expect_error 400 bad_param "hours=0 is 400 bad_param" hours
req GET '/hold?cluster=tess-ci-03&user=dave&hours=two'
expect_error 400 bad_param "hours=two is 400 bad_param" hours
req GET '/hold?cluster=tess-ci-03'
expect_error 400 bad_param "hold without user (and no REMOTE_USER) is 400 bad_param naming user" user
req GET "/hold?cluster=tess-ci-03&user=$s257"
expect_error 400 bad_param "a 257 byte user is 400 bad_param" user
req GET "/hold?cluster=tess-ci-03&user=dave&reason=$s257"
expect_error 400 bad_param "a 257 byte reason is 400 bad_param" reason
req GET '/hold?cluster=tess-ci-03&user=dave&user=eve'
expect_error 400 bad_param "a repeated user is 400 bad_param" user
req GET '/hold?cluster=tess-ci-99&user=dave'
expect_error 404 no_such_cluster "hold of an unknown cluster is 404 no_such_cluster"
req GET '/hold?cluster=tess-ci-03&user=dave&hours=72'
expect_status 200 "hours=72 (the maximum) is accepted"
near "$(epoch "$(rec tess-ci-03 holdUntil)")" $((now + 72 * 3600)) "hours=72 holds for 72 hours"
req GET '/getvacant?build=7&job=j'
occ=${RESP_BODY%$'\n'}
expect_eq "$occ" tess-ci-04 "the one vacant cluster is allocated"
req GET "/hold?cluster=$occ&user=frank"
expect_status 200 "hold of an occupied cluster answers 200"
expect_store ".[] | select(.name == \"$occ\") | .status == \"held\" and .user == \"frank\"" \
    "hold: occupied -> held"
req GET "/release?cluster=$occ&user=frank"
req GET "/hold?cluster=$occ&user=bob" "${CAROL[@]}"
expect_status 200 "an authenticated hold answers 200"
expect_eq "$(rec "$occ" user)" carol "REMOTE_USER (carol) wins over user=bob"
req GET "/hold?cluster=$occ&user=bob" -u carol:wrong
expect_status 401 "a wrong password on a CI verb is 401 (credentials sent are checked)"
expect_header WWW-Authenticate 'Basic realm="CIMaster"' "the 401 asks for basic auth"
expect_body_has "error: unauthorized:" "nginx's 401 body is a plain-text error"
expect_true "nginx's 401 carries X-Request-Id" test -n "$(hdr X-Request-Id)"
req POST /disable "${ADMIN[@]}" -d 'cluster=tess-ci-02'
req GET '/hold?cluster=tess-ci-02&user=bob'
expect_error 409 disabled "hold of a disabled cluster is 409 disabled"

echo "# release"
seed tess-ci-01:tess-ci tess-ci-02:tess-ci tess-ci-03:tess-ci
req GET '/hold?cluster=tess-ci-01&user=alice&reason=x'
req GET '/release?cluster=tess-ci-01&user=bob'
expect_error 403 not_holder "release by someone else is 403 not_holder"
req GET '/release?cluster=tess-ci-01&user=bob' -H 'Accept: application/json'
expect_json_error 403 not_holder "403 not_holder in JSON"
req GET '/release?cluster=tess-ci-01&user=alice' "${CAROL[@]}"
expect_error 403 not_holder "an authenticated carol cannot release as user=alice (REMOTE_USER wins)"
req GET '/release?cluster=tess-ci-01&user=admin'
expect_error 403 not_holder "user=admin without credentials is not an admin"
expect_eq "$(rec tess-ci-01 status)" held "refused releases leave the cluster held"
req GET '/release?cluster=tess-ci-01&user=alice'
expect_status 200 "release by the holder answers 200"
expect_body $'tess-ci-01 vacant tess-ci - - - - -\n' "release prints the vacant list line"
expect_store '.[] | select(.name == "tess-ci-01") | .status == "vacant" and .user == "" and .holdUntil == ""' \
    "release: held -> vacant, user and holdUntil cleared"
req GET '/release?cluster=tess-ci-01&user=alice'
expect_error 409 not_held "release of a cluster that is not held is 409 not_held"
req GET '/release?cluster=tess-ci-01&user=alice&format=json'
expect_json_error 409 not_held "409 not_held in JSON"
req GET '/hold?cluster=tess-ci-02&user=bob'
req GET '/release?cluster=tess-ci-02' "${ADMIN[@]}"
expect_status 200 "an admin may release anyone's hold"
expect_eq "$(rec tess-ci-02 status)" vacant "the admin's release made it vacant"
req GET '/hold?cluster=tess-ci-03' "${CAROL[@]}"
expect_eq "$(rec tess-ci-03 user)" carol "REMOTE_USER is the holder when user= is absent"
req POST /release "${CAROL[@]}" -d 'cluster=tess-ci-03'
expect_status 200 "the authenticated holder releases by POST without user="
req GET '/release?cluster=tess-ci-99&user=alice'
expect_error 404 no_such_cluster "release of an unknown cluster is 404 no_such_cluster"
req GET '/release?user=alice'
expect_error 400 bad_param "release without cluster is 400 bad_param" cluster

echo "# admin verbs: authentication and authorisation"
seed tess-ci-01:tess-ci
for v in add delete disable enable; do
	req GET "/$v?cluster=tess-ci-01&purpose=tess-ci" "${ADMIN[@]}"
	expect_error 405 method_not_allowed "GET /$v is 405"
	expect_header Allow POST "GET /$v has Allow: POST"
	req POST "/$v" -d 'cluster=tess-ci-01&purpose=tess-ci'
	expect_status 401 "POST /$v without credentials is nginx's 401"
	expect_true "the 401 of /$v asks for basic auth" test -n "$(hdr WWW-Authenticate)"
	expect_true "the 401 of /$v carries X-Request-Id" test -n "$(hdr X-Request-Id)"
	req POST "/$v" -u admin:wrong -d 'cluster=tess-ci-01&purpose=tess-ci'
	expect_status 401 "POST /$v with a wrong password is 401"
	req POST "/$v" "${CAROL[@]}" -d 'cluster=tess-ci-01&purpose=tess-ci&user=admin'
	expect_error 403 not_admin "POST /$v by carol (not in admins; user=admin ignored) is 403 not_admin"
done
req GET /add "${ADMIN[@]}" -H 'Accept: application/json'
expect_json_error 405 method_not_allowed "405 in JSON"
expect_header Allow POST "the JSON 405 has Allow: POST"
req POST /add "${CAROL[@]}" -d 'cluster=x-1&purpose=p&format=json'
expect_json_error 403 not_admin "403 not_admin in JSON"
expect_store 'length == 1 and .[0].status == "vacant"' "refused admin requests changed nothing"

echo "# add"
req POST /add "${ADMIN[@]}" -d 'cluster=new-01&purpose=gpu-ci&os=ubuntu-22.04'
expect_status 200 "add answers 200"
expect_body $'new-01 vacant gpu-ci ubuntu-22.04 - - - -\n' "add prints the new cluster's list line"
expect_store '.[] | select(.name == "new-01") | .status == "vacant" and .purpose == "gpu-ci" and .osImage == "ubuntu-22.04"' \
    "add stores a vacant cluster"
req POST /add "${ADMIN[@]}" -d 'cluster=new-02&purpose=gpu-ci&format=json'
expect_json '.cluster.name == "new-02" and .cluster.status == "vacant" and .cluster.osImage == ""' \
    "add in JSON is {\"cluster\": record}"
req POST '/add?cluster=new-03&purpose=gpu-ci' "${ADMIN[@]}" -d ''
expect_status 200 "an admin POST may carry its parameters in the query string"
req POST /add "${ADMIN[@]}" -d 'cluster=new-01&purpose=gpu-ci'
expect_error 409 exists "add of an existing name is 409 exists"
req POST /add "${ADMIN[@]}" -d 'cluster=new-01&purpose=gpu-ci&format=json'
expect_json_error 409 exists "409 exists in JSON"
req POST /add "${ADMIN[@]}" -d 'cluster=New_01&purpose=gpu-ci'
expect_error 400 bad_param "add of a bad name is 400 bad_param naming cluster" cluster
req POST /add "${ADMIN[@]}" -d 'cluster=new-04'
expect_error 400 bad_param "add without purpose is 400 bad_param naming purpose" purpose
req POST /add "${ADMIN[@]}" -d 'cluster=new-04&purpose=gpu-ci&os=a%20b'
expect_error 400 bad_param "add with a bad OS image is 400 bad_param naming os" os
req GET '/getvacant?build=1&job=j&purpose=gpu-ci&os=ubuntu-22.04'
expect_body $'new-01\n' "an added cluster is allocated"

echo "# disable and enable"
seed solo-01:solo-ci tess-ci-01:tess-ci tess-ci-02:tess-ci tess-ci-03:tess-ci
req POST /disable "${ADMIN[@]}" --data-urlencode cluster=solo-01 --data-urlencode 'reason=<script>alert(1)</script>'
expect_status 200 "disable answers 200"
expect_body_has 'solo-01 disabled solo-ci - - - ' "disable prints the disabled list line"
expect_store '.[] | select(.name == "solo-01") | .status == "disabled" and .reason == "<script>alert(1)</script>"' \
    "disable stores the status and the reason"
req GET '/getvacant?build=1&job=j&purpose=solo-ci'
expect_error 503 no_vacant_cluster "a disabled cluster is never allocated"
req GET '/' -H 'Accept: text/html'
expect_header Content-Type "$HTML" "the HTML list is text/html"
expect_body_has '&lt;script&gt;alert(1)&lt;/script&gt;' "the HTML list shows the reason escaped"
expect_body_lacks '<script>alert(1)' "the HTML list never contains the raw reason"
req POST /enable "${ADMIN[@]}" -d 'cluster=solo-01'
expect_status 200 "enable answers 200"
expect_body $'solo-01 vacant solo-ci - - - - -\n' "enable: disabled -> vacant"
req GET '/getvacant?build=1&job=j&purpose=solo-ci'
expect_body $'solo-01\n' "an enabled cluster is allocated again"
req POST /disable "${ADMIN[@]}" -d 'cluster=solo-01&format=json'
expect_json '.cluster.status == "disabled"' "disable of an occupied cluster: -> disabled (JSON)"
req GET '/hold?cluster=tess-ci-01&user=alice'
req POST /disable "${ADMIN[@]}" -d 'cluster=tess-ci-01'
expect_eq "$(rec tess-ci-01 status)" disabled "disable of a held cluster: -> disabled"
req POST /disable "${ADMIN[@]}" -d 'cluster=nope-01'
expect_error 404 no_such_cluster "disable of an unknown cluster is 404 no_such_cluster"
req POST /enable "${ADMIN[@]}" -d 'cluster=nope-01'
expect_error 404 no_such_cluster "enable of an unknown cluster is 404 no_such_cluster"
req POST /disable "${ADMIN[@]}" -d ''
expect_error 400 bad_param "disable without cluster is 400 bad_param" cluster

echo "# delete"
seed tess-ci-01:tess-ci tess-ci-02:tess-ci tess-ci-03:tess-ci tess-ci-04:tess-ci
req GET '/getvacant?build=1&job=j'
occ=${RESP_BODY%$'\n'}
req POST /delete "${ADMIN[@]}" -d "cluster=$occ"
expect_error 409 in_use "delete of an occupied cluster is 409 in_use"
req POST /delete "${ADMIN[@]}" -d "cluster=$occ&format=json"
expect_json_error 409 in_use "409 in_use in JSON"
free=$(store_records | jq -r '[.[] | select(.status == "vacant") | .name] | .[0]')
req GET "/hold?cluster=$free&user=alice"
req POST /delete "${ADMIN[@]}" -d "cluster=$free"
expect_error 409 in_use "delete of a held cluster is 409 in_use"
req POST /delete "${ADMIN[@]}" -d "cluster=$occ&force=1"
expect_status 200 "delete force=1 of an occupied cluster answers 200"
expect_store "all(.[]; .name != \"$occ\")" "force=1 deleted the occupied cluster"
vac=$(store_records | jq -r '[.[] | select(.status == "vacant") | .name] | .[0]')
req POST /delete "${ADMIN[@]}" -d "cluster=$vac"
expect_status 200 "delete of a vacant cluster answers 200"
expect_store "all(.[]; .name != \"$vac\")" "the vacant cluster is gone"
dis=$(store_records | jq -r '[.[] | select(.status == "vacant") | .name] | .[0]')
req POST /disable "${ADMIN[@]}" -d "cluster=$dis"
req POST /delete "${ADMIN[@]}" -d "cluster=$dis"
expect_status 200 "delete of a disabled cluster answers 200"
expect_store "length == 1 and .[0].name == \"$free\"" "only the held cluster is left"
req POST /delete "${ADMIN[@]}" -d 'cluster=tess-ci-99'
expect_error 404 no_such_cluster "delete of an unknown cluster is 404 no_such_cluster"

echo "# nginx: metrics, HTTPS, body limit"
req GET /metrics
expect_error 404 not_found "/metrics is 404 on the HTTP port"
req GET "$CM_HTTPS_URL/metrics"
expect_status 404 "/metrics is 404 on the HTTPS port"
req GET "$CM_METRICS_URL/"
expect_status 404 "the metrics port serves nothing but /metrics"
ver=$(jq -r .metadata.resourceVersion "$CM_STORE")
req GET "$CM_METRICS_URL/getvacant?build=1&job=m"
expect_status 404 "the API is not reachable on the metrics port"
expect_eq "$(jq -r .metadata.resourceVersion "$CM_STORE")" "$ver" "and changed nothing"
req GET "$CM_METRICS_URL/metrics"
expect_true "/metrics on the metrics port is passed to cimaster" cm_log_has_id "$(hdr X-Request-Id)"
expect_status 200 "/metrics answers 200 on the metrics port"
expect_header Content-Type "text/plain; version=0.0.4; charset=utf-8" \
    "/metrics is the Prometheus text format 0.0.4"
# metric SAMPLE: the value of the line "SAMPLE value" in the last body, 0
# when there is none (a counter not seen yet).
metric() {
	awk -v k="$1" '$1 == k { v = $2 } END { print v == "" ? 0 : v }' \
	    "$CM_DIR/resp.body"
}
# logged PATTERN: how many request lines cimaster logged whose "METHOD
# PATH STATUS" matches the extended regular expression PATTERN.
logged() {
	grep -cE "^cimaster\[[0-9]+\]: info router_handle: \[[^]]*\] $1 " \
	    "$CM_DIR/cimaster.log"
}
# Both workers log every request they route; the page is scraped before
# its own line is written, so it counts all but that one.
expect_eq "$(metric 'cimaster_requests_total{path="/getvacant",code="200"}')" \
    "$(logged '[A-Z]+ /getvacant 200')" \
    "/metrics counts every getvacant answered 200 so far, by all workers"
expect_eq "$(metric 'cimaster_requests_total{path="other",code="404"}')" \
    "$(logged '[A-Z]+ .* 404 not_found')" \
    "unknown paths are counted together as path=\"other\""
expect_eq "$(awk '/^cimaster_requests_total\{/ { n += $2 } END { print n }' "$CM_DIR/resp.body")" \
    "$(($(logged '[A-Z]+ .+ [0-9]{3}') - 1))" \
    "the request counters add up to every request cimaster logged"
expect_eq "$(metric cimaster_request_duration_seconds_count)" \
    "$(($(logged '[A-Z]+ .+ [0-9]{3}') - 1))" \
    "the latency histogram counts every request too"
expect_eq "$(metric cimaster_workers_configured)" "$CM_WORKERS" \
    "cimaster_workers_configured is server.workers"
expect_eq "$(metric cimaster_store_up)" 1 "cimaster_store_up is 1"
expect_body_has $'# TYPE cimaster_store_transactions_total counter\n' \
    "the store's transactions are counted"
req GET '/getvacant?build=metrics&job=m'
code=$RESP_STATUS
req GET "$CM_METRICS_URL/metrics"
before=$(metric "cimaster_requests_total{path=\"/getvacant\",code=\"$code\"}")
req GET '/getvacant?build=metrics&job=m'
expect_status "$code" "the same getvacant answers the same again"
req GET "$CM_METRICS_URL/metrics"
expect_eq "$(metric "cimaster_requests_total{path=\"/getvacant\",code=\"$code\"}")" \
    "$((before + 1))" "one more getvacant adds one to its counter"
# Concurrent requests land on both workers: the count is exact only if
# both add to the one shared page.
req GET "$CM_METRICS_URL/metrics"
before=$(metric 'cimaster_requests_total{path="/healthz",code="200"}')
seq 40 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    "$CM_URL/healthz" >"$CM_DIR/healthz.codes"
expect_eq "$(sort -u "$CM_DIR/healthz.codes")" 200 "40 concurrent /healthz answer 200"
expect_true "more than one worker served them" test "$(grep -E '\] GET /healthz 200 ' \
    "$CM_DIR/cimaster.log" | tail -n 40 | sed -E 's/^cimaster\[([0-9]+)\].*/\1/' |
    sort -u | wc -l)" -ge "$((CM_WORKERS < 2 ? CM_WORKERS : 2))"
req GET "$CM_METRICS_URL/metrics"
expect_eq "$(metric 'cimaster_requests_total{path="/healthz",code="200"}')" \
    "$((before + 40))" "the workers count into one shared page"
# The cluster gauges say what the list says, zeros included.
req POST /add "${ADMIN[@]}" -d 'cluster=metrics-01&purpose=metrics-ci'
req POST /add "${ADMIN[@]}" -d 'cluster=metrics-02&purpose=metrics-ci'
req GET '/hold?cluster=metrics-02&user=alice'
req GET '/clusters?format=json'
cp "$CM_DIR/resp.body" "$CM_DIR/list.json"
req GET "$CM_METRICS_URL/metrics"
for p in tess-ci metrics-ci; do
	for st in vacant occupied held disabled; do
		expect_eq "$(metric "cimaster_clusters{purpose=\"$p\",status=\"$st\"}")" \
		    "$(jq --arg p "$p" --arg s "$st" \
		    '[.clusters[] | select(.purpose == $p and .status == $s)] | length' \
		    "$CM_DIR/list.json")" \
		    "cimaster_clusters{purpose=\"$p\",status=\"$st\"} is what the list says"
	done
done
expect_eq "$(metric 'cimaster_clusters{purpose="metrics-ci",status="held"}')" 1 \
    "and the held metrics-ci cluster is there"
req POST /delete "${ADMIN[@]}" -d 'cluster=metrics-01'
req POST /delete "${ADMIN[@]}" -d 'cluster=metrics-02&force=1'
expect_store 'all(.[]; .purpose != "metrics-ci")' "the metrics-ci clusters are gone again"
req HEAD "$CM_METRICS_URL/metrics"
expect_status 200 "HEAD /metrics answers 200"
req GET "$CM_HTTPS_URL/healthz" --tlsv1.2 --tls-max 1.2
expect_status 200 "HTTPS with TLS 1.2 works"
req GET "$CM_HTTPS_URL/clusters" --tlsv1.3
expect_status 200 "HTTPS with TLS 1.3 works"
req GET "$CM_HTTPS_URL/healthz" --tls-max 1.1
expect_true "HTTPS refuses TLS 1.1 (curl --tls-max 1.1 fails)" test "$RESP_CURL_RC" -ne 0
req POST "$CM_HTTPS_URL/enable" "${ADMIN[@]}" -d 'cluster=tess-ci-99'
expect_error 404 no_such_cluster "admin verbs work over HTTPS"
head -c 66561 /dev/zero | tr '\0' a >"$CM_DIR/big"
req POST /hold --data-binary @"$CM_DIR/big"
expect_status 413 "a body over 64 KiB is 413"
expect_body_has "error: too_large:" "nginx's 413 body is a plain-text error"
expect_true "nginx's 413 carries X-Request-Id" test -n "$(hdr X-Request-Id)"
req POST /getvacant -d "build=b413&job=j&pad=$(head -c 60000 "$CM_DIR/big")"
expect_error 503 no_vacant_cluster "a 60 KB form body reaches cimaster (nothing is vacant)"
expect_header Server nginx "server_tokens off: no nginx version"

echo "# configuration reload (SIGHUP)"
sed -i 's/^admins = .*/admins = [ "admin", "carol" ];/' "$CM_DIR/cimaster.conf"
kill -HUP "$CM_PID"
for i in $(seq 50); do
	req POST /enable "${CAROL[@]}" -d 'cluster=tess-ci-99'
	[ "$RESP_STATUS" != 403 ] && break
	sleep 0.1
done
expect_error 404 no_such_cluster "after SIGHUP the new admins list is used"
expect_true "the parent survives SIGHUP" kill -0 "$CM_PID"

echo "# the store"
store_put 'this is { not json'
cp "$CM_STORE" "$CM_DIR/corrupt.orig"
req GET '/getvacant?build=1&job=j'
expect_error 500 store_error "getvacant on a corrupt store is 500 store_error"
req GET '/clusters?format=json'
expect_json_error 500 store_error "the list on a corrupt store is 500 store_error (JSON)"
req POST /add "${ADMIN[@]}" -d 'cluster=x-01&purpose=p'
expect_error 500 store_error "add on a corrupt store is 500 store_error"
req GET /readyz
expect_error 503 store_error "/readyz is 503 store_error on a corrupt store"
req GET /healthz
expect_status 200 "/healthz still answers 200"
expect_true "a corrupt store file is never overwritten" cmp -s "$CM_STORE" "$CM_DIR/corrupt.orig"
store_put '{"apiVersion":"v1","kind":"Secret","metadata":{"resourceVersion":"1"},"data":{}}'
cp "$CM_STORE" "$CM_DIR/corrupt.orig"
req GET '/getvacant?build=1&job=j'
expect_error 500 store_error "a document that is not a ConfigMap is 500 store_error"
expect_true "and it is not overwritten" cmp -s "$CM_STORE" "$CM_DIR/corrupt.orig"
rm -f "$CM_STORE"
req GET /
expect_status 200 "a missing store file is an empty store"
expect_body "" "the empty store lists nothing"
req GET /readyz
expect_status 200 "/readyz is 200 with a missing store file"
req POST /add "${ADMIN[@]}" -d 'cluster=first-01&purpose=tess-ci'
expect_status 200 "add to the empty store answers 200"
expect_true "the first write creates the store file as a ConfigMap" \
    jq -e '.apiVersion == "v1" and .kind == "ConfigMap" and (.data.clusters | fromjson | .[0].name == "first-01")' "$CM_STORE"

echo "# the backend down"
cm_stop_backend
req GET /healthz
expect_status 502 "with cimaster stopped nginx answers 502"
expect_body_has "error: backend_unavailable: " "the 502 body is a plain-text backend_unavailable error"
expect_header Content-Type "$TEXT" "the 502 is text/plain"
expect_true "the 502 carries X-Request-Id" test -n "$(hdr X-Request-Id)"
cm_start_backend || fail "cimaster starts again over its old socket"
cm_wait_healthy && pass "cimaster answers again after a restart" ||
    fail "cimaster answers again after a restart"
req GET '/clusters'
expect_body $'first-01 vacant tess-ci - - - - -\n' "the state survived the restart"

expect_all_had_request_id
cm_finish
