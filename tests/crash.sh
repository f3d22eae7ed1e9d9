#!/usr/bin/env bash
# tests/crash.sh: a worker killed in the middle of a store write.  strace
# attaches to the workers and delivers SIGKILL when one enters write(2) or
# fsync(2) on the store's temporary file, rename(2) over the store, or
# fsync(2) of the store's directory.  Afterwards the store must parse,
# hold every change acknowledged before, hold the killed change wholly or
# not at all, and the parent must have replaced the worker.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require strace pgrep
strace -o /dev/null true 2>/dev/null ||
    t_skip "strace cannot trace here (ptrace not permitted)"
CM_WORKERS=2
cm_setup
seed c-01:tess-ci c-02:tess-ci c-03:tess-ci c-04:tess-ci c-05:tess-ci \
    c-06:tess-ci c-07:tess-ci c-08:tess-ci c-09:tess-ci c-10:tess-ci
cm_start

ACKED=""	# "name:job:build" of every getvacant answered 200

# allocate JOB BUILD DESC: a getvacant that must succeed; remembers it.
allocate() {
	req GET "/getvacant?job=$1&build=$2"
	expect_status 200 "$3"
	[ "$RESP_STATUS" = 200 ] && ACKED="$ACKED ${RESP_BODY%$'\n'}:$1:$2"
}

# Every acknowledged allocation is in the store, each on its own cluster.
check_acked() {
	local a n j b missing="" names
	for a in $ACKED; do
		IFS=: read -r n j b <<<"$a"
		store_records | jq -e --arg n "$n" --arg j "$j" --arg b "$b" \
		    '.[] | select(.name == $n) | .status == "occupied" and .job == $j and .build == $b' \
		    >/dev/null 2>&1 || missing="$missing $a"
	done
	expect_eq "$missing" "" "$1: every change acknowledged with 200 is in the store"
	names=$(for a in $ACKED; do echo "${a%%:*}"; done)
	expect_eq "$(echo "$names" | sort | uniq -d)" "" "$1: no cluster was given out twice"
	expect_eq "$(store_records | jq -r '.[].name' | sort | uniq -d)" "" \
	    "$1: every cluster name is in the store once"
}

# crash LABEL WHAT SYSCALL PATH: one round; LABEL names files and the
# job, WHAT is for people.
crash() {
	local label=$1 what=$2 sc=$3 path=$4 before after killed i p args=()
	local n present
	echo "# crash in the $what"
	allocate "crash-$label" before "$label: a getvacant before the crash is acknowledged"
	before=$(cm_worker_pids)
	for p in $before; do
		args+=(-p "$p")
	done
	strace -f -o "$CM_DIR/strace.$label" -P "$path" -e trace="$sc" \
	    -e inject="$sc:signal=SIGKILL:when=1" "${args[@]}" \
	    2>"$CM_DIR/strace.$label.err" &
	local spid=$!
	for i in $(seq 100); do
		[ "$(grep -c attached "$CM_DIR/strace.$label.err")" -ge "$(echo $before | wc -w)" ] &&
		    break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	if ! kill -0 "$spid" 2>/dev/null ||
	    grep -q 'Operation not permitted' "$CM_DIR/strace.$label.err"; then
		cat "$CM_DIR/strace.$label.err"
		t_skip "strace cannot attach to the workers (ptrace_scope?)"
	fi
	sleep 0.2
	req GET "/getvacant?job=crash-$label&build=killed"
	expect_status 502 "$label: the request whose worker was killed gets nginx's 502"
	expect_body_has "error: backend_unavailable:" "$label: the 502 is a plain-text error"
	for i in $(seq 50); do
		grep -q 'killed by SIGKILL' "$CM_DIR/strace.$label" && break
		sleep 0.1
	done
	killed=$(awk '/killed by SIGKILL/ {print $1}' "$CM_DIR/strace.$label" | head -1)
	kill -TERM "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	expect_true "$label: strace killed a worker at the injected syscall" test -n "$killed"

	expect_true "$label: the store still parses as a ConfigMap" \
	    jq -e '.apiVersion == "v1" and .kind == "ConfigMap" and
		(.metadata.resourceVersion | type == "string") and
		(.data.clusters | fromjson | type == "array")' "$CM_STORE"
	check_acked "$label"
	n=$(store_records | jq '[.[] | select(.job == "crash-'"$label"'" and .build == "killed")] | length')
	case $n in
	0) present=""; pass "$label: the killed change is wholly absent" ;;
	1) present=$(store_records | jq -r '.[] | select(.job == "crash-'"$label"'" and .build == "killed") | .name')
	   expect_store ".[] | select(.name == \"$present\") | .status == \"occupied\"" \
	       "$label: the killed change is wholly present" ;;
	*) fail "$label: the killed change is in the store $n times" ;;
	esac

	for i in $(seq 100); do
		after=$(cm_worker_pids)
		[ "$(echo $after | wc -w)" -eq "$CM_WORKERS" ] &&
		    ! grep -qw -- "$killed" <<<"$after" && break
		sleep 0.1
	done
	expect_true "$label: the killed worker is gone" test -n "$killed" -a -n "${after##*"$killed"*}"
	expect_eq "$(echo $after | wc -w)" "$CM_WORKERS" \
	    "$label: the parent respawned it ($CM_WORKERS workers: $after)"
	# The CI job retries: idempotency gives it the same cluster if the
	# change was written, a fresh one otherwise.
	allocate "crash-$label" killed "$label: the retried request succeeds"
	if [ -n "$present" ]; then
		expect_eq "${RESP_BODY%$'\n'}" "$present" "$label: the retry gets the cluster written before the kill"
	fi
	expect_store '[.[] | select(.job == "crash-'"$label"'" and .build == "killed")] | length == 1' \
	    "$label: the retried request holds one cluster"
	check_acked "$label, after the retry"
}

crash write "write of the temporary file" write "$CM_STORE.tmp"
crash fsync "fsync of the temporary file" fsync "$CM_STORE.tmp"
crash rename "rename over the store" '/^rename(at2?)?$' "$CM_STORE.tmp"
crash dirsync "fsync of the store's directory" fsync "$CM_DIR"

cm_finish
