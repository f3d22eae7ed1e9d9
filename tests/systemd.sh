#!/usr/bin/env bash
# tests/systemd.sh: the units as make built them.  No placeholder is left
# and they name the configured paths; systemd-analyze verify accepts them;
# systemd-analyze security rates both services at most 2.0.  systemd is
# not PID 1 here, so the units' command lines are run the way systemd
# would: ExecStartPre and ExecStart of cimaster.service as the unit's user
# with the socket on fd 0 (StandardInput=socket) behind nginx, ExecReload,
# and ExecStart of cimaster-expire.service against the same store, each
# under strace to show it makes no system call the unit's
# SystemCallFilter would refuse and opens no socket family
# RestrictAddressFamilies would.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require systemd-analyze strace spawn-fcgi python3
UNITS="cimaster.socket cimaster.service cimaster-expire.service cimaster-expire.timer"
for u in $UNITS; do
	[ -f "$top_builddir/systemd/$u" ] || t_skip "$top_builddir/systemd/$u is not built"
done
[ -n "${CM_SBINDIR:-}" ] && [ -n "${CM_SYSCONFDIR:-}" ] ||
    t_skip "CM_SBINDIR and CM_SYSCONFDIR come from make check"
EXPIRE_BIN=$top_builddir/cimaster-expire
[ -x "$EXPIRE_BIN" ] || t_skip "$EXPIRE_BIN is not built"
CM_WORKERS=2
cm_setup

# unit_get UNIT KEY: the values of KEY= in the built unit, one a line.
unit_get() {
	sed -n "s/^$2=//p" "$top_builddir/systemd/$1"
}

echo "# the built units"
for u in $UNITS; do
	expect_eq "$(grep -n '@[A-Za-z_]*@' "$top_builddir/systemd/$u")" "" \
	    "$u: every @placeholder@ was substituted"
done
conf=$CM_SYSCONFDIR/cimaster/cimaster.conf
expect_eq "$(unit_get cimaster.service ExecStart)" "$CM_SBINDIR/cimaster -c $conf" \
    "cimaster.service runs the installed cimaster with the installed configuration"
expect_eq "$(unit_get cimaster.service ExecStartPre)" "$CM_SBINDIR/cimaster -n -c $conf" \
    "cimaster.service checks the configuration before it starts"
expect_eq "$(unit_get cimaster-expire.service ExecStart)" \
    "$CM_SBINDIR/cimaster-expire -c $conf" \
    "cimaster-expire.service runs the installed cimaster-expire"
expect_eq "$(unit_get cimaster.service ExecReload)" '/bin/kill -HUP $MAINPID' \
    "reload sends SIGHUP to the parent"
expect_eq "$(unit_get cimaster.service StandardInput)" socket \
    "the service takes its socket on fd 0"
expect_eq "$(unit_get cimaster.service KillMode)" mixed \
    "a stop sends SIGTERM to the parent only, which stops its workers"
grace=$(sed -n 's/^ *grace_seconds *= *\([0-9]*\);.*/\1/p' "$top_srcdir/etc/cimaster.conf")
expect_true "TimeoutStopSec ($(unit_get cimaster.service TimeoutStopSec)) leaves the shipped grace_seconds ($grace) time to finish" \
    test "$(unit_get cimaster.service TimeoutStopSec)" -gt "$grace"
expect_eq "$(unit_get cimaster.socket ListenStream)" /run/cimaster/fcgi.sock \
    "the socket is the configuration's default server.socket"
expect_eq "$(unit_get cimaster.socket SocketUser)/$(unit_get cimaster.socket SocketGroup)/$(unit_get cimaster.socket SocketMode)" \
    cimaster/www-data/0660 "only cimaster and nginx's group can connect"
expect_eq "$(unit_get cimaster-expire.service Type)" oneshot "cimaster-expire.service is a oneshot"
expect_eq "$(unit_get cimaster-expire.timer OnCalendar)/$(unit_get cimaster-expire.timer Persistent)" \
    '*:0/10/true' "the timer fires every 10 minutes and catches up after downtime"
expect_true "the timer spreads the runs of several hosts" \
    test -n "$(unit_get cimaster-expire.timer RandomizedDelaySec)"
for u in cimaster.service cimaster-expire.service; do
	expect_eq "$(unit_get $u User)" cimaster "$u runs as cimaster"
	missing=""
	for k in NoNewPrivileges ProtectHome PrivateTmp PrivateDevices \
	    ProtectKernelTunables ProtectKernelModules ProtectKernelLogs \
	    ProtectControlGroups RestrictNamespaces LockPersonality \
	    MemoryDenyWriteExecute RestrictRealtime RestrictSUIDSGID \
	    ProtectClock ProtectHostname; do
		[ "$(unit_get $u $k)" = yes ] || missing="$missing $k"
	done
	expect_eq "$missing" "" "$u: every yes/no hardening switch of the issue is on"
	expect_eq "$(unit_get $u SystemCallFilter | head -1)/$(unit_get $u RestrictAddressFamilies)" \
	    "@system-service/AF_UNIX AF_INET AF_INET6" \
	    "$u: system calls of a service, unix and IP sockets only"
	expect_eq "$(unit_get $u ProtectSystem)/$(unit_get $u CapabilityBoundingSet)x" strict/x \
	    "$u: read-only system, no capabilities"
	expect_eq "$(unit_get $u ReadWritePaths)" "/var/lib/cimaster /run/cimaster" \
	    "$u: writes only the state and runtime directories"
done
expect_eq "$(unit_get cimaster.service IPAddressDeny)" any \
    "cimaster.service has no IP traffic (the file store is local)"

echo "# systemd-analyze"
# verify looks for the programs the units run: point them at the build.
mkdir -p "$CM_DIR/units"
for u in $UNITS; do
	sed "s|$CM_SBINDIR/|$top_builddir/|g" "$top_builddir/systemd/$u" >"$CM_DIR/units/$u"
done
(cd "$CM_DIR/units" && systemd-analyze verify $(printf './%s ' $UNITS)) \
    >"$CM_DIR/verify.out" 2>&1
rc=$?
expect_eq "$rc" 0 "systemd-analyze verify accepts the four units"
expect_eq "$(cat "$CM_DIR/verify.out")" "" "systemd-analyze verify has no complaint"
for u in cimaster.service cimaster-expire.service; do
	score=$(cd "$CM_DIR/units" && systemd-analyze security --offline=true "./$u" 2>&1 |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "# systemd-analyze security: $u $score"
	expect_true "systemd-analyze security rates $u at most 2.0 (it says ${score:-nothing})" \
	    awk -v s="$score" 'BEGIN { exit !(s != "" && s + 0 <= 2.0) }'
done

# ---- the units' command lines, run as systemd would ----------------------

# The system calls @system-service allows minus the ~@privileged
# @resources the units take away, with systemd's own tables.
syscalls_of() {
	systemd-analyze syscall-filter "$1" 2>/dev/null | sed 1d |
	    while read -r line; do
		case $line in
		'' | '#'*) ;;
		@*) syscalls_of "$line" ;;
		*) echo "$line" ;;
		esac
	done
}
syscalls_of @system-service | sort -u >"$CM_DIR/allowed"
{ syscalls_of @privileged; syscalls_of @resources; } | sort -u >"$CM_DIR/denied"
comm -23 "$CM_DIR/allowed" "$CM_DIR/denied" >"$CM_DIR/filter"

# expect_filter_allows UNIT BINARY TRACE: every system call BINARY made
# in the strace output TRACE (from its execve on) passes UNIT's
# SystemCallFilter and every socket() family its RestrictAddressFamilies.
expect_filter_allows() {
	local used bad fams
	awk -v p="execve(\"$2\"" 'index($0, p) { f = 1 } f' "$3" >"$3.own"
	used=$(sed -nE 's/^[0-9]+ +([a-z_0-9]+)\(.*/\1/p' "$3.own" | sort -u)
	bad=$(comm -23 <(echo "$used") "$CM_DIR/filter" | tr '\n' ' ')
	expect_true "$1: the run made system calls ($(echo "$used" | grep -c .) kinds)" \
	    test -n "$used"
	expect_eq "$bad" "" "$1: SystemCallFilter allows every system call the run made"
	fams=$(grep -oE 'socket\(AF_[A-Z0-9]+' "$3.own" | sed 's/socket(//' | sort -u |
	    grep -vxE 'AF_UNIX|AF_INET|AF_INET6' | tr '\n' ' ')
	expect_eq "$fams" "" "$1: RestrictAddressFamilies allows every socket the run opened"
}

# as_unit_user CMD...: runs CMD as the unit's User= would (as root: the
# user cimaster, its group only; otherwise as we are).
as_unit_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid cimaster --regid cimaster --clear-groups "$@"
	else
		"$@"
	fi
}

# unit_cmd UNIT KEY: the command line of KEY with the installed paths
# replaced by the build and this instance's configuration.
unit_cmd() {
	unit_get "$1" "$2" | sed -e "s|$CM_SBINDIR/|$top_builddir/|g" \
	    -e "s|$conf|$CM_DIR/cimaster.conf|g"
}

seed debug-1:debug debug-2:debug tess-ci-01:tess-ci tess-ci-02:tess-ci
# LeakSanitizer does not work under ptrace.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
[ "$(id -u)" -eq 0 ] && chown -R cimaster:cimaster "$CM_DIR"
chmod 0755 "$CM_DIR"

echo "# cimaster.service: ExecStartPre"
read -ra pre <<<"$(unit_cmd cimaster.service ExecStartPre)"
out=$(as_unit_user "${pre[@]}" 2>&1)
expect_eq "$?/$out" "0/$CM_DIR/cimaster.conf: configuration ok" \
    "ExecStartPre passes on a valid configuration"

echo "# cimaster.service: ExecStart with the socket on fd 0"
read -ra start <<<"$(unit_cmd cimaster.service ExecStart)"
# cm_start's backend, started as systemd starts the unit: spawn-fcgi
# creates the socket, switches to the unit's user and execs the command
# with the socket on fd 0; strace follows it and its workers.
STRACE_PID=""
cm_start_backend() {
	local i sargs=(-n -s "$CM_DIR/fcgi.sock" -M 0660)
	[ "$(id -u)" -eq 0 ] && sargs+=(-u cimaster -g cimaster)
	strace -f -qq -o "$CM_DIR/cimaster.trace" spawn-fcgi "${sargs[@]}" -- \
	    "${start[@]}" 2>>"$CM_DIR/cimaster.log" &
	STRACE_PID=$!
	for i in $(seq 100); do
		CM_PID=$(pgrep -P "$STRACE_PID")
		[ -n "$CM_PID" ] && [ -n "$(cm_worker_pids)" ] && return 0
		sleep 0.1
	done
	echo "cimaster did not start; its log:"
	sed 's/^/    /' "$CM_DIR/cimaster.log"
	return 1
}
cm_start
expect_true "cimaster uses the socket handed over on fd 0" \
    grep -q "using the socket inherited on fd 0" "$CM_DIR/cimaster.log"
req GET "/getvacant?job=unit&build=1"
expect_status 200 "a request through nginx reaches the unit's cimaster"
req GET "/hold?cluster=debug-1&user=alice&hours=1"
expect_status 200 "a hold through the unit's cimaster"

echo "# cimaster.service: ExecReload"
read -ra reload <<<"$(unit_get cimaster.service ExecReload | sed "s/\$MAINPID/$CM_PID/")"
"${reload[@]}"
for i in $(seq 50); do
	grep -q "reloaded" "$CM_DIR/cimaster.log" && break
	sleep 0.1
done
expect_true "ExecReload makes cimaster reload" grep -q "reloaded" "$CM_DIR/cimaster.log"
req GET "/getvacant?job=unit&build=2"
expect_status 200 "requests are served after the reload"

echo "# cimaster-expire.service: ExecStart"
# debug-1's hold ends now, as far as the store says.
doc=$(jq --arg t "$(date -u -d @$(($(date +%s) - 1)) +%Y-%m-%dT%H:%M:%SZ)" '
    .data.clusters |= (fromjson | map(if .name == "debug-1" then .holdUntil = $t
    else . end) | tojson) | .metadata.resourceVersion |= (tonumber + 1 | tostring)' "$CM_STORE")
store_put "$doc"
# debug-2's hold is due a warning: the run posts to a webhook (nobody
# listens there), so the trace covers libcurl's resolver and sockets too.
req GET "/hold?cluster=debug-2&user=bob&hours=1"
cat >>"$CM_DIR/cimaster.conf" <<EOF
expire: {
  webhook_url = "http://localhost:$(cm_free_port)/hook";
  warn_minutes = 90;
};
EOF
read -ra exp <<<"$(unit_cmd cimaster-expire.service ExecStart)"
as_unit_user /usr/bin/strace -f -qq -o "$CM_DIR/expire.trace" "${exp[@]}" \
    2>"$CM_DIR/expire.log"
expect_eq "$?" 0 "ExecStart of cimaster-expire.service exits 0"
expect_store '.[] | select(.name == "debug-1") | .status == "vacant"' \
    "it released the hold that had ended"
expect_true "it logged the release" grep -q "released debug-1: held by alice" "$CM_DIR/expire.log"
expect_true "it tried the webhook" grep -qE 'debug-2: the warning to bob is tried again' "$CM_DIR/expire.log"
expect_true "the trace holds the webhook's IP socket" grep -qE 'socket\(AF_INET6?,' "$CM_DIR/expire.trace"
expect_filter_allows cimaster-expire.service "${exp[0]}" "$CM_DIR/expire.trace"

cm_stop_nginx
cm_stop_backend
wait "$STRACE_PID"
expect_filter_allows cimaster.service "${start[0]}" "$CM_DIR/cimaster.trace"
cm_finish
