#!/usr/bin/env bash
# tests/lifecycle.sh: the parent process's promises.  A SIGTERM lets the
# request in flight finish; no process runs as root; a dead worker is
# replaced; workers die with their parent; a socket handed over on fd 0
# (spawn-fcgi, systemd) is used instead of a new one.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require strace pgrep spawn-fcgi
strace -o /dev/null true 2>/dev/null ||
    t_skip "strace cannot trace here (ptrace not permitted)"
CM_WORKERS=2
cm_setup
seed l-01:tess-ci l-02:tess-ci l-03:tess-ci
cm_start

uid_of() { awk '/^Uid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

echo "# nobody runs as root"
for p in $CM_PID $(cm_worker_pids); do
	u=$(uid_of "$p")
	expect_true "process $p runs as uid $u, not root" test -n "$u" -a "$u" != 0
done

echo "# a killed worker is replaced"
before=$(cm_worker_pids)
victim=${before%% *}
kill -KILL "$victim"
for i in $(seq 50); do
	after=$(cm_worker_pids)
	[ "$(echo $after | wc -w)" -eq "$CM_WORKERS" ] &&
	    ! grep -qw -- "$victim" <<<"$after" && break
	sleep 0.1
done
expect_eq "$(echo $after | wc -w)" "$CM_WORKERS" "the parent keeps $CM_WORKERS workers"
expect_true "the killed worker $victim is not among them" test -n "${after##*"$victim"*}"
expect_true "the parent logged the death" grep -q "worker $victim killed by signal 9" "$CM_DIR/cimaster.log"
req GET "/getvacant?job=life&build=1"
expect_status 200 "requests are served after the respawn"

echo "# SIGTERM lets the request in flight finish"
# Every worker's rename of the store is held back 1.5 s: the request is
# in flight when the parent is told to stop.
args=()
for p in $(cm_worker_pids); do args+=(-p "$p"); done
strace -f -o "$CM_DIR/strace.grace" -e trace='/^rename(at2?)?$' \
    -e inject='/^rename(at2?)?$:delay_enter=1500000' "${args[@]}" \
    2>"$CM_DIR/strace.grace.err" &
spid=$!
for i in $(seq 100); do
	[ "$(grep -c attached "$CM_DIR/strace.grace.err")" -ge "$CM_WORKERS" ] && break
	sleep 0.05
done
sleep 0.2
curl -sS -o "$CM_DIR/inflight.body" -w '%{http_code}' \
    "$CM_URL/getvacant?job=life&build=inflight" >"$CM_DIR/inflight.code" &
cpid=$!
sleep 0.5
parent=$CM_PID
workers=$(cm_worker_pids)
kill -TERM "$parent"
wait "$cpid"
expect_eq "$(cat "$CM_DIR/inflight.code")" 200 "the in-flight getvacant still gets 200"
expect_true "its rename was held back, so SIGTERM came mid-request" \
    grep -q DELAYED "$CM_DIR/strace.grace"
name=$(cat "$CM_DIR/inflight.body")
name=${name%$'\n'}
expect_store ".[] | select(.name == \"$name\") | .status == \"occupied\" and .build == \"inflight\"" \
    "the in-flight allocation ($name) is in the store"
rc=0
wait "$parent" || rc=$?
expect_eq "$rc" 0 "the parent exits 0: every worker ended within the grace period"
kill -TERM "$spid" 2>/dev/null
wait "$spid" 2>/dev/null
for p in $workers; do
	expect_true "worker $p has exited" test ! -e "/proc/$p"
done
CM_PID=""
expect_true "the socket file is removed on a clean stop" test ! -e "$CM_DIR/fcgi.sock"

echo "# workers do not outlive a parent killed with SIGKILL"
cm_start_backend || exit 99
workers=$(cm_worker_pids)
kill -KILL "$CM_PID"
wait "$CM_PID" 2>/dev/null
CM_PID=""
for p in $workers; do
	for i in $(seq 50); do
		[ -e "/proc/$p" ] || break
		sleep 0.1
	done
	expect_true "worker $p died with its parent" test ! -e "/proc/$p"
done

echo "# a socket inherited on fd 0 (spawn-fcgi)"
rm -f "$CM_DIR/fcgi.sock"
sargs=(-n -s "$CM_DIR/fcgi.sock" -M 0660)
if [ "$(id -u)" -eq 0 ]; then
	sargs+=(-u cimaster -g cimaster)
fi
spawn-fcgi "${sargs[@]}" -- "$CIMASTER_BIN" -c "$CM_DIR/cimaster.conf" \
    2>>"$CM_DIR/cimaster.log" &
CM_PID=$!
for i in $(seq 100); do
	[ -n "$(cm_worker_pids)" ] && break
	sleep 0.1
done
expect_true "cimaster says it uses the inherited socket" \
    grep -q "using the socket inherited on fd 0" "$CM_DIR/cimaster.log"
req GET "/getvacant?job=life&build=fd0"
expect_status 200 "requests arrive through the inherited socket"
expect_store '[.[] | select(.build == "fd0")] | length == 1' \
    "the allocation through the inherited socket is stored"

cm_finish
