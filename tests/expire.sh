#!/usr/bin/env bash
# tests/expire.sh: cimaster-expire against the file store (with
# CM_BACKEND=configmap, as tests/expire_k8s.sh runs it: against the
# Kubernetes API double) while cimaster's workers keep allocating through
# nginx.  Exactly the holds that ended
# become vacant and nothing else changes; --dry-run writes and sends
# nothing; webhook messages reach a loopback receiver with the right text,
# once; a failing webhook (500, or nobody listening) does not stop expiry
# and its warning is sent on a later run; two runs at once release each
# hold once; the webhook's secret path never reaches a log.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require python3 xargs sha256sum
EXPIRE_BIN=${EXPIRE_BIN:-$top_builddir/cimaster-expire}
[ -x "$EXPIRE_BIN" ] || t_skip "$EXPIRE_BIN is not built"
CM_WORKERS=3
cm_setup
# The receiver goes with the instance, whatever ends the suite.
trap 'rc=$?; hook_stop; (exit $rc); cm_teardown' EXIT

HOOK_SECRET=T0000/B0000/s3cretXYZ
HOOK_PID=""
HOOK_PORT=""
RUN_N=0

# ---- the webhook receiver ------------------------------------------------

# A Slack-like incoming webhook on a free loopback port: appends one JSON
# line per POST (path, content type, the status it answered, body) to
# hook.log and answers with the status in hook.status.
cat >"$CM_DIR/hook.py" <<'EOF'
import http.server, json, sys

port_file, log_file, status_file = sys.argv[1:4]

class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(status_file) as f:
            status = int(f.read().strip())
        with open(log_file, "a") as f:
            f.write(json.dumps({"path": self.path,
                "type": self.headers.get("Content-Type"),
                "status": status, "body": body.decode()}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass

srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
srv.serve_forever()
EOF

hook_start() {
	local i
	rm -f "$CM_DIR/hook.port"
	python3 "$CM_DIR/hook.py" "$CM_DIR/hook.port" "$CM_DIR/hook.log" \
	    "$CM_DIR/hook.status" </dev/null >/dev/null 2>&1 &
	HOOK_PID=$!
	for i in $(seq 100); do
		[ -s "$CM_DIR/hook.port" ] && break
		sleep 0.05
	done
	HOOK_PORT=$(cat "$CM_DIR/hook.port" 2>/dev/null)
	[ -n "$HOOK_PORT" ] || { echo "the webhook receiver did not start"; exit 99; }
}

hook_stop() {
	[ -n "$HOOK_PID" ] || return 0
	kill "$HOOK_PID" 2>/dev/null
	wait "$HOOK_PID" 2>/dev/null
	HOOK_PID=""
}

# hook_texts: the text of every message received so far, one per line.
hook_texts() {
	jq -r '.body | fromjson | .text' "$CM_DIR/hook.log"
}

# hook_count SUBSTRING: how many messages received so far contain it.
hook_count() {
	hook_texts | grep -cF -- "$1"
}

# ---- the store and the runs ----------------------------------------------

epoch() { date -u -d "$1" +%s; }
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# rec NAME FIELD: one field of one stored record.
rec() {
	store_records | jq -r --arg n "$1" --arg f "$2" \
	    '.[] | select(.name == $n) | .[$f] // ""'
}

# store_edit JQ: applies JQ to the stored cluster array and writes the
# result as the next version, the way an admin with kubectl edit would.
# Only while nothing else writes.
store_edit() {
	local doc
	doc=$(jq '
	    .data.clusters |= (fromjson | '"$1"' | tojson) |
	    .metadata.resourceVersion |= (tonumber + 1 | tostring)' "$CM_STORE") ||
	    { echo "store_edit: $1 failed"; exit 99; }
	store_put "$doc"
}

# expire_run [ARGS...]: one cimaster-expire run with expire.conf; its
# status in RUN_RC, its standard output in RUN_OUT, its log in RUN_LOG.
expire_run() {
	RUN_N=$((RUN_N + 1))
	RUN_LOG=$CM_DIR/expire.$RUN_N.log
	RUN_OUT=$("$EXPIRE_BIN" -c "$CM_DIR/expire.conf" "$@" 2>"$RUN_LOG")
	RUN_RC=$?
}

# write_expire_conf URL: cimaster's configuration plus the expire group.
write_expire_conf() {
	cp "$CM_DIR/cimaster.conf" "$CM_DIR/expire.conf"
	cat >>"$CM_DIR/expire.conf" <<EOF
expire: {
  webhook_url = "$1";
  warn_minutes = 90;
  webhook_timeout_ms = 2000;
};
EOF
}

# alloc_load TAG N: N getvacant calls in a row, each its own build;
# "STATUS BUILD CLUSTER" lines in alloc.TAG.
alloc_load() {
	local i out
	for i in $(seq 1 "$2"); do
		out=$(curl -s -w '\n%{http_code}' "$CM_URL/getvacant?job=load&build=$1-$i")
		echo "${out##*$'\n'} $1-$i ${out%%$'\n'*}"
	done >"$CM_DIR/alloc.$1"
}

# alloc_start TAG: three loads of 8 calls in parallel; alloc_wait waits.
alloc_start() {
	LOAD_PIDS=""
	for k in 1 2 3; do
		alloc_load "$1.$k" 8 &
		LOAD_PIDS="$LOAD_PIDS $!"
	done
	sleep 0.2
}

alloc_wait() {
	local p
	for p in $LOAD_PIDS; do
		wait "$p"
	done
}

# expect_allocations_kept TAG: every getvacant of the load that got a
# cluster still has it, and the load saw nothing but 200 and 503.
expect_allocations_kept() {
	local won bad=0 st b c
	cat "$CM_DIR/alloc.$1".* >"$CM_DIR/alloc.$1"
	won=$(awk '$1 == 200' "$CM_DIR/alloc.$1" | wc -l)
	while read -r st b c; do
		[ "$st" = 200 ] || continue
		[ "$(rec "$c" status)/$(rec "$c" job)/$(rec "$c" build)" = "occupied/load/$b" ] ||
		    bad=$((bad + 1))
	done <"$CM_DIR/alloc.$1"
	expect_true "load $1: the workers allocated while cimaster-expire ran ($won clusters)" \
	    test "$won" -gt 0
	expect_eq "$bad" 0 "load $1: every cluster a worker handed out is still occupied by its build"
	expect_eq "$(awk '$1 != 200 && $1 != 503' "$CM_DIR/alloc.$1")" "" \
	    "load $1: every getvacant answered 200 or 503"
}

expect_no_secret_in_logs() {
	if grep -qF "$HOOK_SECRET" "$CM_DIR"/expire.*.log "$CM_DIR/cimaster.log"; then
		fail "the webhook's secret path never reaches a log" \
		    "$(grep -hF "$HOOK_SECRET" "$CM_DIR"/expire.*.log | head -3)"
	else
		pass "the webhook's secret path never reaches a log"
	fi
}

hold() {	# hold CLUSTER USER HOURS [REASON]
	req GET "/hold?cluster=$1&user=$2&hours=$3&reason=${4:-}"
	[ "$RESP_STATUS" = 200 ] || { fail "hold $1 for $2"; resp_dump; }
}

# ---- the instance --------------------------------------------------------

# pool-*: what the load allocates; debug-*: the holds (another purpose,
# so the load never takes a released one).
specs=()
for i in $(seq -w 1 40); do specs+=("pool-$i:tess-ci"); done
for n in e1 e2 e3 w1 w2 f1 f2 x1 x2 x3 hand; do specs+=("debug-$n:debug"); done
specs+=("busy-1:busy")
seed "${specs[@]}"
echo 1 >"$CM_DIR/hook.status"
: >"$CM_DIR/hook.log"
[ "$(id -u)" -eq 0 ] && chown -R cimaster:cimaster "$CM_DIR"
hook_start
HOOK_URL=http://127.0.0.1:$HOOK_PORT/services/$HOOK_SECRET
write_expire_conf "$HOOK_URL"
cm_start

now=$(date +%s)
hold debug-e1 alice 1 "flaky%20etcd%20%3C!channel%3E%20%26%20co"
hold debug-e2 bob 2
hold debug-e3 carol 3 "bisecting"
hold debug-w1 dave 1 "warn%20me"
hold debug-w2 erin 1
hold debug-f1 frank 6
hold debug-f2 grace 6
req GET '/getvacant?purpose=busy&job=e2e&build=77'
busy=${RESP_BODY%$'\n'}
# e*: ended a minute ago (a hold's hours are whole, so the end is moved
# back by hand); hand: held without an end, as written by hand.
past=$(rfc3339 $((now - 60)))
store_edit "map(if (.name | test(\"^debug-e\")) then .holdUntil = \"$past\" else . end |
    if .name == \"debug-hand\" then .status = \"held\" | .user = \"ivan\" else . end)"
e1_until=$(rec debug-e1 holdUntil)
e1_since=$(rec debug-e1 since)
w1_until=$(rec debug-w1 holdUntil)
w2_until=$(rec debug-w2 holdUntil)

echo "# --dry-run"
sum=$(sha256sum <"$CM_STORE")
echo 200 >"$CM_DIR/hook.status"
expire_run --dry-run
expect_eq "$RUN_RC" 0 "--dry-run exits 0"
expect_eq "$(grep -c '^would release ' <<<"$RUN_OUT")" 3 "--dry-run lists 3 holds to release"
expect_true "--dry-run names the holder, since, holdUntil and reason of each" \
    grep -qF "would release debug-e1: held by alice since $e1_since until $e1_until, reason \"flaky etcd <!channel> & co\"" <<<"$RUN_OUT"
expect_eq "$(grep '^would release ' <<<"$RUN_OUT" | cut -d: -f1 | sort | tr '\n' ' ')" \
    "would release debug-e1 would release debug-e2 would release debug-e3 " \
    "--dry-run would release exactly the ended holds"
expect_eq "$(grep '^would warn ' <<<"$RUN_OUT" | sort)" \
    "would warn dave: the hold of debug-w1 ends at $w1_until"$'\n'"would warn erin: the hold of debug-w2 ends at $w2_until" \
    "--dry-run would warn exactly the holders whose hold ends within warn_minutes"
expect_eq "$(sha256sum <"$CM_STORE")" "$sum" "--dry-run leaves the store byte for byte"
expect_eq "$(wc -l <"$CM_DIR/hook.log")" 0 "--dry-run sends nothing"

echo "# the webhook answers 500, while the workers allocate"
echo 500 >"$CM_DIR/hook.status"
before=$(store_records)
alloc_start a
expire_run
alloc_wait
expect_eq "$RUN_RC" 0 "cimaster-expire exits 0 although the webhook fails"
for n in e1 e2 e3; do
	expect_eq "$(rec debug-$n status)/$(rec debug-$n user)/$(rec debug-$n holdUntil)/$(rec debug-$n reason)" \
	    "vacant///" "debug-$n, whose hold ended, is vacant and forgets holder and reason"
done
expect_true "the release is logged with cluster, holder, since, holdUntil and reason" \
    grep -qF "released debug-e1: held by alice since $e1_since until $e1_until, reason \"flaky etcd <!channel> & co\"" "$RUN_LOG"
expect_eq "$(rec debug-hand status)" held "a hold without an end stays held"
expect_eq "$(rec debug-f1 status)/$(rec debug-f1 user)" held/frank "a hold that has not ended stays held"
expect_eq "$(rec "$busy" status)/$(rec "$busy" build)" occupied/77 "an occupied cluster stays occupied"
expect_allocations_kept a
# Apart from the released holds and the allocations, nothing changed.
changed=$(jq -n -r --argjson a "$before" --argjson b "$(store_records)" '
    ($a | map({(.name): .}) | add) as $old |
    $b[] | select(. != $old[.name]) | .name' | grep -v '^pool-' | sort | tr '\n' ' ')
expect_eq "$changed" "debug-e1 debug-e2 debug-e3 " "no other record changed"
expect_eq "$(rec debug-w1 holdWarned)/$(rec debug-w2 holdWarned)" / \
    "a warning the webhook refused is not recorded as sent"
expect_eq "$(jq -s 'map(select(.status == 500)) | length' "$CM_DIR/hook.log")" 5 \
    "the receiver was sent 3 expiry messages and 2 warnings"
expect_true "a refused warning is logged as tried again on the next run" \
    grep -qF "debug-w1: the warning to dave is tried again on the next run" "$RUN_LOG"
expect_true "the log names the webhook by scheme and host only" \
    grep -qF "webhook http://127.0.0.1:$HOOK_PORT answered 500" "$RUN_LOG"
expect_eq "$(jq -r '.path' "$CM_DIR/hook.log" | sort -u)" "/services/$HOOK_SECRET" \
    "messages go to the webhook's path"
expect_eq "$(jq -r '.type' "$CM_DIR/hook.log" | sort -u)" "application/json" \
    "messages are application/json"
e1_text="CIMaster: the hold of cluster debug-e1 by alice (since $e1_since, reason: flaky etcd &lt;!channel&gt; &amp; co) ended at $e1_until; the cluster is vacant again."
expect_eq "$(hook_texts | grep -F 'debug-e1')" "$e1_text" \
    "the expiry message names cluster, holder, since, reason and end, escaped for Slack"

echo "# nobody listens at the webhook"
hook_stop
expire_run
expect_eq "$RUN_RC" 0 "cimaster-expire exits 0 when the webhook cannot be reached"
expect_eq "$(rec debug-w1 holdWarned)/$(rec debug-w2 holdWarned)" / \
    "an unreachable webhook leaves the warnings unrecorded"
expect_true "the failure is logged with scheme and host" \
    grep -qF "POST http://127.0.0.1:$HOOK_PORT/..." "$RUN_LOG"

echo "# the webhook works again: each warning once"
: >"$CM_DIR/hook.log"
echo 200 >"$CM_DIR/hook.status"
hook_start
HOOK_URL=http://127.0.0.1:$HOOK_PORT/services/$HOOK_SECRET
write_expire_conf "$HOOK_URL"
expire_run
expect_eq "$RUN_RC" 0 "the retry run exits 0"
expect_eq "$(wc -l <"$CM_DIR/hook.log")" 2 "the retry run sends the 2 warnings and nothing else"
w1_text=$(hook_texts | grep -F 'debug-w1')
expect_true "the warning names cluster, holder and end, and how to keep the cluster" \
    grep -qE "^CIMaster: the hold of cluster debug-w1 by dave ends at $w1_until \(in ([1-9]|[1-5][0-9]|60) minutes?\), then the cluster is released\. To keep it, hold it again: hold\?cluster=debug-w1&amp;hours=N$" <<<"$w1_text"
expect_eq "$(rec debug-w1 holdWarned)/$(rec debug-w2 holdWarned)" "$w1_until/$w2_until" \
    "a delivered warning is recorded with the holdUntil it was about"
expect_eq "$(rec debug-w1 status)/$(rec debug-w1 user)/$(rec debug-w1 holdUntil)" "held/dave/$w1_until" \
    "recording a warning changes nothing else of the hold"
expire_run
expect_eq "$RUN_RC" 0 "the next run exits 0"
expect_eq "$(wc -l <"$CM_DIR/hook.log")" 2 "the next run sends no second warning"
req GET '/clusters?format=json'
expect_json '[.clusters[] | select(has("holdWarned"))] | length == 0' \
    "the API's records do not show holdWarned"

echo "# an extended hold is warned about again"
sleep 1
hold debug-w1 dave 1
expire_run
expect_eq "$(hook_count 'debug-w1')" 2 "the extended hold of debug-w1 gets a warning of its own"
expect_eq "$(hook_count 'debug-w2')" 1 "debug-w2 is not warned twice"

echo "# two runs at once, while the workers allocate"
: >"$CM_DIR/hook.log"
hold debug-x1 judy 2 "x%20one"
hold debug-x2 judy 2
hold debug-x3 kim 2
store_edit "map(if (.name | test(\"^debug-x\")) then .holdUntil = \"$(rfc3339 $(($(date +%s) - 5)))\" else . end)"
before=$(store_records)
alloc_start b
"$EXPIRE_BIN" -c "$CM_DIR/expire.conf" 2>"$CM_DIR/expire.p1.log" &
p1=$!
"$EXPIRE_BIN" -c "$CM_DIR/expire.conf" 2>"$CM_DIR/expire.p2.log" &
p2=$!
wait "$p1"; rc1=$?
wait "$p2"; rc2=$?
alloc_wait
expect_eq "$rc1/$rc2" 0/0 "both runs exit 0"
for n in x1 x2 x3; do
	expect_eq "$(rec debug-$n status)" vacant "debug-$n is vacant"
	expect_eq "$(cat "$CM_DIR"/expire.p[12].log | grep -c "released debug-$n:")" 1 \
	    "debug-$n is released by one run only"
	expect_eq "$(hook_count "cluster debug-$n ")" 1 "debug-$n's expiry is announced once"
done
expect_eq "$(wc -l <"$CM_DIR/hook.log")" 3 "the two runs send 3 messages in all"
expect_allocations_kept b
changed=$(jq -n -r --argjson a "$before" --argjson b "$(store_records)" '
    ($a | map({(.name): .}) | add) as $old |
    $b[] | select(. != $old[.name]) | .name' | grep -v '^pool-' | sort | tr '\n' ' ')
expect_eq "$changed" "debug-x1 debug-x2 debug-x3 " "no other record changed"

echo "# without a webhook"
write_expire_conf ""
store_edit "map(if .name == \"debug-f1\" then .holdUntil = \"$past\" else . end)"
: >"$CM_DIR/hook.log"
expire_run
expect_eq "$RUN_RC/$(rec debug-f1 status)" 0/vacant "without a webhook the hold is released all the same"
expect_eq "$(wc -l <"$CM_DIR/hook.log")" 0 "without a webhook nothing is sent"

echo "# a store that cannot be read"
cp "$CM_STORE" "$CM_DIR/store.good"
store_put "$(jq '.data.clusters = "[{\"name\": \"broken"' "$CM_DIR/store.good")"
sum=$(sha256sum <"$CM_STORE")
expire_run
expect_true "a store that does not decode makes cimaster-expire fail" test "$RUN_RC" -ne 0
expect_true "and say why" grep -qF 'error expire: releasing expired holds: ' "$RUN_LOG"
expect_eq "$(sha256sum <"$CM_STORE")" "$sum" "the broken store is left as it was"
expire_run --dry-run
expect_true "--dry-run fails too on a store that does not decode" test "$RUN_RC" -ne 0
expect_true "and says why" grep -qF 'cimaster-expire: cannot read the store: ' "$RUN_LOG"
store_put "$(cat "$CM_DIR/store.good")"
if [ "$CM_BACKEND" = configmap ]; then
	echo "# the API server is down"
	k8s_stop
	expire_run
	expect_true "an unreachable API server makes cimaster-expire fail" test "$RUN_RC" -ne 0
	expect_true "and say why" grep -qF 'error expire: releasing expired holds: ' "$RUN_LOG"
	k8s_restart
	expire_run
	expect_eq "$RUN_RC" 0 "once the API server is back, cimaster-expire succeeds again"
fi

expect_no_secret_in_logs
if grep -lE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' \
    "$CM_DIR"/expire.*.log >/dev/null 2>&1; then
	fail "cimaster-expire's logs have a sanitizer report" \
	    "$(grep -hE -A 20 'Sanitizer|runtime error:' "$CM_DIR"/expire.*.log | head -40)"
else
	pass "cimaster-expire's logs have no sanitizer report"
fi
hook_stop
cm_finish
