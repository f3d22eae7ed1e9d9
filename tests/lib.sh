# tests/lib.sh: what the integration suites share.  Sourced by
# tests/integration.sh, tests/concurrency.sh, tests/crash.sh, tests/k8s.sh,
# tests/prow_double.sh, tests/createcluster.sh
# and the benchmarks.
#
# cm_start runs one CIMaster instance (cimaster + its own nginx, rendered
# from the same nginx/cimaster.conf.in as the packaged site) in a fresh
# temporary directory on free loopback ports; req sends one request
# through that nginx; the expect_* assertions count passes and failures;
# cm_finish stops everything and prints "N passed, M failed".
#
# CM_BACKEND=configmap (set before cm_setup) gives the instance the
# configmap store backend against tests/k8s_double.py, the Kubernetes API
# server double, which cm_setup starts (k8s_start); the store_* helpers
# then read and write the ConfigMap held by the double.  cm_instance NAME
# switches between several instances (each cm_setup + cm_start), which
# then share the one double.
#
# pd_start starts tests/prow_double.py, the Prow double (both dialects of
# docs/prow.md behind one TLS listener, with a control port); the
# teardown stops it and cm_finish fails the suite if it raised.
#
# automake runs the suites from the build directory with top_srcdir and
# top_builddir exported; by hand: cd build && ../tests/integration.sh.
# CIMASTER_TESTS_KEEP=1 keeps the temporary directory for a post-mortem.

set -uo pipefail

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$PWD}"
. "$top_srcdir/scripts/common.sh"

CIMASTER_BIN=${CIMASTER_BIN:-$top_builddir/cimaster}

TESTS_PASSED=0
TESTS_FAILED=0
CM_DIR=""		# the instance's temporary directory
CM_PID=""		# the cimaster parent
CM_NGINX_PID=""
CM_WORKERS=${CM_WORKERS:-2}
CM_RETRY_AFTER=7	# not the default 30: the header must come from the config
CM_MISSING_IDS=""	# requests whose response had no X-Request-Id
CM_NREQ=0
CM_BACKEND=${CM_BACKEND:-file}	# "file" or "configmap" (the API double)
CM_RETRY_POLICY=${CM_RETRY_POLICY:-default}	# store.retry.policy
CM_K8S_CREATE=${CM_K8S_CREATE:-false}	# store.configmap.create_if_missing
CM_K8S_CONNECT_TIMEOUT_MS=${CM_K8S_CONNECT_TIMEOUT_MS:-1000}
CM_K8S_TIMEOUT_MS=${CM_K8S_TIMEOUT_MS:-5000}

# ---- outcomes ------------------------------------------------------------

# Exit codes automake understands: 77 skip, 99 hard error.  scripts/check
# sets CIMASTER_TESTS_NO_SKIP so that a missing tool fails CI instead.
t_skip() {
	if [ -n "${CIMASTER_TESTS_NO_SKIP:-}" ]; then
		echo "ERROR: cannot run: $*"
		exit 99
	fi
	echo "SKIP: $*"
	exit 77
}

t_require() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || t_skip "$c is not installed"
	done
}

pass() {
	TESTS_PASSED=$((TESTS_PASSED + 1))
	echo "ok - $1"
}

# fail DESC [DETAIL...]
fail() {
	local l
	TESTS_FAILED=$((TESTS_FAILED + 1))
	echo "FAIL - $1"
	shift
	for l in "$@"; do
		printf '    %s\n' "$l"
	done
}

# The last request and its response, for failure messages.
resp_dump() {
	printf '    request:  %s\n' "$RESP_REQ"
	printf '    status:   %s\n' "$RESP_STATUS"
	sed 's/^/    header:   /' "$CM_DIR/resp.headers" 2>/dev/null | head -20
	printf '%s' "$RESP_BODY" | head -c 2000 | sed 's/^/    body:     /'
	echo
}

# ---- requests ------------------------------------------------------------

# req METHOD PATH [curl args...]: sends one request through nginx and sets
# RESP_STATUS (000 when curl failed), RESP_BODY (exact, trailing newline
# kept), RESP_CURL_RC and RESP_REQ.  PATH is relative to CM_URL (plain
# HTTP) unless it is a full URL.  Headers: hdr NAME.
req() {
	local method=$1 path=$2 url
	shift 2
	case $path in
	http://* | https://*) url=$path ;;
	*) url=$CM_URL$path ;;
	esac
	local -a a=(-sS -o "$CM_DIR/resp.body" -D "$CM_DIR/resp.raw"
	    -w '%{http_code}' --max-time 30 -H 'Expect:'
	    --cacert "$CM_DIR/tls.crt")
	case $method in
	GET) ;;
	HEAD) a+=(--head) ;;
	*) a+=(-X "$method") ;;
	esac
	: >"$CM_DIR/resp.body"
	: >"$CM_DIR/resp.raw"
	RESP_REQ="$method $url $*"
	RESP_STATUS=$(curl "${a[@]}" "$@" "$url" 2>"$CM_DIR/resp.err")
	RESP_CURL_RC=$?
	[ -n "$RESP_STATUS" ] || RESP_STATUS=000
	RESP_BODY=$(cat "$CM_DIR/resp.body"; printf x)
	RESP_BODY=${RESP_BODY%x}
	# The last header block only, without CRs.
	tr -d '\r' <"$CM_DIR/resp.raw" |
	    awk '/^HTTP\//{n=0; delete h} {h[n++]=$0} END{for(i=0;i<n;i++) print h[i]}' \
	    >"$CM_DIR/resp.headers"
	CM_NREQ=$((CM_NREQ + 1))
	if [ "$RESP_CURL_RC" -eq 0 ] && [ -z "$(hdr X-Request-Id)" ]; then
		CM_MISSING_IDS="$CM_MISSING_IDS $RESP_STATUS:$method:$path"
	fi
	return 0
}

# hdr NAME: the value of header NAME in the last response ("" if none).
hdr() {
	awk -v n="$1" 'BEGIN{n=tolower(n)} {
	    i = index($0, ":"); if (i == 0) next
	    if (tolower(substr($0, 1, i - 1)) == n) {
		v = substr($0, i + 1); sub(/^[ \t]+/, "", v); print v; exit } }' \
	    "$CM_DIR/resp.headers"
}

# ---- assertions on the last response ------------------------------------

expect_status() {
	if [ "$RESP_STATUS" = "$1" ]; then
		pass "$2"
	else
		fail "$2 (status $RESP_STATUS, want $1)"
		resp_dump
	fi
}

# expect_body EXACT DESC
expect_body() {
	if [ "$RESP_BODY" = "$1" ]; then
		pass "$2"
	else
		fail "$2 (body differs)" "want: $(printf '%q' "$1")"
		resp_dump
	fi
}

expect_body_has() {
	case $RESP_BODY in
	*"$1"*) pass "$2" ;;
	*) fail "$2 (body lacks $(printf '%q' "$1"))"; resp_dump ;;
	esac
}

expect_body_lacks() {
	case $RESP_BODY in
	*"$1"*) fail "$2 (body has $(printf '%q' "$1"))"; resp_dump ;;
	*) pass "$2" ;;
	esac
}

# expect_header NAME EXACT DESC
expect_header() {
	local v
	v=$(hdr "$1")
	if [ "$v" = "$2" ]; then
		pass "$3"
	else
		fail "$3 ($1: '$v', want '$2')"
		resp_dump
	fi
}

expect_no_header() {
	local v
	v=$(hdr "$1")
	if [ -z "$v" ]; then
		pass "$2"
	else
		fail "$2 (has $1: $v)"
		resp_dump
	fi
}

# expect_json JQ_FILTER DESC: the body is JSON and the filter is true.
expect_json() {
	if printf '%s' "$RESP_BODY" | jq -e "$1" >/dev/null 2>&1; then
		pass "$2"
	else
		fail "$2 (jq -e '$1' is not true)"
		resp_dump
	fi
}

# expect_error STATUS CODE DESC [SUBSTRING]: an error response in text
# format: the status, "error: CODE: message" on one line, text/plain, and
# the message contains SUBSTRING (e.g. the parameter's name).
expect_error() {
	local st=$1 code=$2 desc=$3 sub=${4:-} why=""
	[ "$RESP_STATUS" = "$st" ] || why="status $RESP_STATUS, want $st; "
	case $RESP_BODY in
	"error: $code: "*) ;;
	*) why="${why}body is not 'error: $code: ...'; " ;;
	esac
	[ "$(printf '%s' "$RESP_BODY" | wc -l)" -eq 1 ] &&
	    [ "${RESP_BODY: -1}" = $'\n' ] || why="${why}not one line; "
	[ "$(hdr Content-Type)" = "text/plain; charset=utf-8" ] ||
	    why="${why}Content-Type '$(hdr Content-Type)'; "
	if [ -n "$sub" ]; then
		case ${RESP_BODY#"error: $code: "} in
		*"$sub"*) ;;
		*) why="${why}message does not name '$sub'; " ;;
		esac
	fi
	if [ -z "$why" ]; then
		pass "$desc"
	else
		fail "$desc ($why)"
		resp_dump
	fi
}

# expect_json_error STATUS CODE DESC: the same in JSON.
expect_json_error() {
	local st=$1 code=$2 desc=$3 why=""
	[ "$RESP_STATUS" = "$st" ] || why="status $RESP_STATUS, want $st; "
	printf '%s' "$RESP_BODY" | jq -e --arg c "$code" \
	    '(.error.code == $c) and (.error.message | type == "string" and length > 0)' \
	    >/dev/null 2>&1 || why="${why}body is not {\"error\":{\"code\":\"$code\",...}}; "
	[ "$(hdr Content-Type)" = "application/json; charset=utf-8" ] ||
	    why="${why}Content-Type '$(hdr Content-Type)'; "
	if [ -z "$why" ]; then
		pass "$desc"
	else
		fail "$desc ($why)"
		resp_dump
	fi
}

# expect_eq GOT WANT DESC
expect_eq() {
	if [ "$1" = "$2" ]; then
		pass "$3"
	else
		fail "$3" "got:  $(printf '%q' "$1")" "want: $(printf '%q' "$2")"
	fi
}

# expect_true DESC COMMAND...: passes when COMMAND succeeds.
expect_true() {
	local desc=$1
	shift
	if "$@" >/dev/null; then
		pass "$desc"
	else
		fail "$desc" "command failed: $*"
	fi
}

# expect_store JQ_FILTER DESC: the filter is true of the store's cluster
# array (data.clusters, decoded).
expect_store() {
	if store_records | jq -e "$1" >/dev/null 2>&1; then
		pass "$2"
	else
		fail "$2 (store: jq -e '$1' is not true)" \
		    "store: $(store_records 2>&1 | jq -c . 2>/dev/null | head -c 3000)"
	fi
}

# Every response so far carried X-Request-Id.
expect_all_had_request_id() {
	if [ -z "$CM_MISSING_IDS" ]; then
		pass "all $CM_NREQ responses carried X-Request-Id"
	else
		# shellcheck disable=SC2086
		set -- $CM_MISSING_IDS
		fail "$# of $CM_NREQ responses had no X-Request-Id" \
		    "first ones: $(printf '%.80s ' "${@:1:5}")"
	fi
}

# ---- the store -----------------------------------------------------------

CM_STORE=""

# store_records: prints the cluster array held in the store (the file,
# or with the configmap backend the double's copy of the ConfigMap).
store_records() {
	jq -e -r '.data.clusters' "$CM_STORE" | jq -e 'if type == "array" then . else error("not an array") end'
}

# store_json JSON_ARRAY: prints a ConfigMap store document holding these
# cluster records (missing fields filled in as empty, status vacant).
store_json() {
	jq -n --argjson a "$1" '
	    [$a[] | {name: .name, purpose: .purpose, osImage: (.osImage // ""),
	     status: (.status // "vacant"), build: (.build // ""),
	     job: (.job // ""), user: (.user // ""),
	     since: (.since // "2026-01-01T00:00:00Z"),
	     holdUntil: (.holdUntil // ""), reason: (.reason // "")}] as $c |
	    {apiVersion: "v1", kind: "ConfigMap",
	     metadata: {name: "clusters", namespace: "ci", resourceVersion: "1"},
	     data: {clusters: ($c | tojson)}}'
}

# store_put FILE_CONTENT: replaces the store file (atomically, owned by
# the service user); with the configmap backend, sets the ConfigMap in the
# double as another writer would (its resourceVersion is ignored).
store_put() {
	if [ "$CM_BACKEND" = configmap ]; then
		k8s_put_object "$1"
		return
	fi
	printf '%s\n' "$1" >"$CM_STORE.new"
	[ "$(id -u)" -eq 0 ] && chown cimaster:cimaster "$CM_STORE.new"
	mv -f "$CM_STORE.new" "$CM_STORE"
}

# seed NAME:PURPOSE[:OS] ...: a store of vacant clusters.
seed() {
	local spec arr="[" sep="" n p o
	for spec in "$@"; do
		IFS=: read -r n p o <<<"$spec"
		arr="$arr$sep{\"name\":\"$n\",\"purpose\":\"$p\",\"osImage\":\"${o:-}\"}"
		sep=,
	done
	store_put "$(store_json "$arr]")"
}

# ---- the instance --------------------------------------------------------

# cm_free_port: a TCP port nothing listens on (nginx start is retried
# with new ports should another process take it meanwhile).
cm_free_port() {
	local used p
	used=" $(ss -Hltn 2>/dev/null | awk '{n = split($4, a, ":"); printf "%s ", a[n]}') $* "
	while :; do
		p=$((20000 + RANDOM % 12000))
		case $used in
		*" $p "*) ;;
		*) echo "$p"; return ;;
		esac
	done
}

# cm_write_config: the instance's cimaster.conf from CM_WORKERS etc.
cm_write_config() {
	local user group admins=${CM_ADMINS:-'"admin"'}
	if [ "$(id -u)" -eq 0 ]; then
		user=cimaster
		group=cimaster
	else
		user=$(id -un)
		group=""
	fi
	cat >"$CM_DIR/cimaster.conf" <<EOF
# Written by tests/lib.sh
server: {
  socket = "$CM_DIR/fcgi.sock";
  workers = $CM_WORKERS;
  user = "$user";
  socket_group = "$group";
  grace_seconds = 5;
};
admins = [ $admins ];
clusters: {
  default_purpose = "tess-ci";
  hold_hours = 6;
  max_hold_hours = 72;
  retry_after_seconds = $CM_RETRY_AFTER;
};
EOF
	{
		echo 'store: {'
		if [ "$CM_BACKEND" = configmap ]; then
			cat <<EOF
  backend = "configmap";
  lock_file = "$CM_DIR/store.lock";
  configmap: {
    server = "$K8S_URL";
    ca_file = "$K8S_DIR/ca.crt";
    token_file = "$K8S_DIR/token";
    namespace = "$K8S_NS";
    name = "$K8S_NAME";
    create_if_missing = $CM_K8S_CREATE;
    connect_timeout_ms = $CM_K8S_CONNECT_TIMEOUT_MS;
    timeout_ms = $CM_K8S_TIMEOUT_MS;
  };
EOF
		else
			printf '  backend = "file";\n  file: {\n    path = "%s";\n  };\n' \
			    "$CM_STORE"
		fi
		printf '  retry: {\n    policy = "%s";\n  };\n};\n' "$CM_RETRY_POLICY"
	} >>"$CM_DIR/cimaster.conf"
}

# ---- several instances -----------------------------------------------------

# What makes up one instance; the rest (the tally, the double) is shared.
CM_INSTANCE_VARS="CM_DIR CM_STORE CM_PID CM_NGINX_PID CM_URL CM_HTTPS_URL CM_METRICS_URL"
CM_INSTANCE=a		# the current instance
CM_INSTANCES=a		# every instance, in the order they were made

# cm_instance NAME: makes NAME (letters, digits, _) the current instance
# and keeps the one that was; a NAME not seen before starts empty, for
# cm_setup and cm_start.  req, hdr, cm_stop_* and the store helpers act on
# the current instance; cm_finish and the teardown on all of them.
cm_instance() {
	local v saved
	for v in $CM_INSTANCE_VARS; do
		printf -v "CM_SAVED_${CM_INSTANCE}_$v" '%s' "${!v-}"
	done
	case " $CM_INSTANCES " in
	*" $1 "*) ;;
	*) CM_INSTANCES="$CM_INSTANCES $1" ;;
	esac
	CM_INSTANCE=$1
	for v in $CM_INSTANCE_VARS; do
		saved=CM_SAVED_${1}_$v
		printf -v "$v" '%s' "${!saved-}"
	done
}

# cm_setup: the temporary directory with config, store, certificate and
# htpasswd (admin/adminpw is an admin, carol/carolpw is not).  Sets
# CM_DIR, CM_STORE; installs the teardown trap.  With CM_BACKEND=configmap
# it starts the API server double first, unless one runs already.
cm_setup() {
	t_require curl jq nginx openssl ss
	[ "$CM_BACKEND" = configmap ] && t_require python3
	[ -x "$CIMASTER_BIN" ] || t_skip "$CIMASTER_BIN is not built"
	if [ "$(id -u)" -eq 0 ] && ! id -u cimaster >/dev/null 2>&1; then
		t_skip "running as root needs the system user cimaster (scripts/check creates it)"
	fi
	CM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cimaster-test.XXXXXX") ||
	    t_skip "cannot create a temporary directory"
	# Canonical, so strace -P matches the paths cimaster uses.
	CM_DIR=$(cd "$CM_DIR" && pwd -P)
	trap cm_teardown EXIT
	trap 'exit 130' INT TERM
	CM_STORE=$CM_DIR/clusters.json
	mkdir -p "$CM_DIR/nginx/logs" "$CM_DIR/nginx/tmp"
	if [ "$CM_BACKEND" = configmap ]; then
		[ -n "$K8S_PID" ] || k8s_start "$CM_DIR/k8s" || exit 99
		CM_STORE=$K8S_DIR/objects/$K8S_NS/$K8S_NAME.json
	fi
	cm_make_cert "$CM_DIR"
	{
		cm_htpasswd_line admin adminpw
		cm_htpasswd_line carol carolpw
	} >"$CM_DIR/htpasswd"
	cm_write_config
	: >"$CM_DIR/cimaster.log"
	if [ "$(id -u)" -eq 0 ]; then
		# cimaster (the store, its lock, the socket) and nginx's
		# workers (htpasswd, the socket) run as cimaster.
		chown -R cimaster:cimaster "$CM_DIR"
	fi
}

# cm_start_backend: starts cimaster and waits for its socket.
cm_start_backend() {
	local i
	"$CIMASTER_BIN" -c "$CM_DIR/cimaster.conf" 2>>"$CM_DIR/cimaster.log" &
	CM_PID=$!
	for i in $(seq 100); do
		[ -S "$CM_DIR/fcgi.sock" ] && [ -n "$(cm_worker_pids)" ] && return 0
		kill -0 "$CM_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "cimaster did not start; its log:"
	sed 's/^/    /' "$CM_DIR/cimaster.log"
	return 1
}

# cm_stop_backend: SIGTERM to the parent, which stops its workers; fails
# (and kills them by pid) when a worker outlives it.
cm_stop_backend() {
	local workers i p rc=0
	[ -n "$CM_PID" ] || return 0
	workers=$(cm_worker_pids)
	kill -TERM "$CM_PID" 2>/dev/null
	for i in $(seq 100); do
		kill -0 "$CM_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$CM_PID" 2>/dev/null; then
		fail "cimaster stops within 10 s of SIGTERM"
		kill -KILL "$CM_PID" 2>/dev/null
		rc=1
	fi
	wait "$CM_PID" 2>/dev/null
	CM_PID=""
	for p in $workers; do
		for i in $(seq 20); do
			cm_is_ours "$p" || break
			sleep 0.1
		done
		if cm_is_ours "$p"; then
			fail "worker $p was left running after its parent stopped"
			kill -KILL "$p" 2>/dev/null
			rc=1
		fi
	done
	return $rc
}

# cm_reload: the current instance reads cimaster.conf again (SIGHUP);
# returns once every worker is a new one, forked with the new settings.
cm_reload() {
	local old w p i
	old=$(cm_worker_pids)
	kill -HUP "$CM_PID"
	for i in $(seq 100); do
		sleep 0.1
		w=$(cm_worker_pids)
		[ "$(echo "$w" | wc -w)" -eq "$CM_WORKERS" ] || continue
		for p in $old; do
			case " $w " in *" $p "*) continue 2 ;; esac
		done
		return 0
	done
	echo "cimaster did not replace its workers within 10 s of SIGHUP"
	return 1
}

# cm_is_ours PID: PID is alive and a cimaster of this instance.
cm_is_ours() {
	tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$CM_DIR/cimaster.conf"
}

# cm_worker_pids: the current workers (children of the cimaster parent).
cm_worker_pids() {
	[ -n "$CM_PID" ] && pgrep -P "$CM_PID" | sort -n | tr '\n' ' '
}

# cm_start: renders the nginx files, starts cimaster and nginx, and waits
# until /healthz answers through nginx.  Sets CM_URL, CM_HTTPS_URL,
# CM_METRICS_URL.
cm_start() {
	local attempt i HTTP_LISTEN HTTPS_LISTEN METRICS_LISTEN p1 p2 p3
	cm_start_backend || exit 99
	for attempt in 1 2 3 4 5; do
		p1=$(cm_free_port)
		p2=$(cm_free_port "$p1")
		p3=$(cm_free_port "$p1" "$p2")
		HTTP_LISTEN=127.0.0.1:$p1
		HTTPS_LISTEN=127.0.0.1:$p2
		METRICS_LISTEN=127.0.0.1:$p3
		SOCKET=$CM_DIR/fcgi.sock HTPASSWD=$CM_DIR/htpasswd \
		    TLS_CERT=$CM_DIR/tls.crt TLS_KEY=$CM_DIR/tls.key \
		    ACCESS_LOG=$CM_DIR/nginx/logs/access.log \
		    cm_render_site "$top_srcdir" >"$CM_DIR/nginx/site.conf"
		cm_render_main "$top_srcdir" "$CM_DIR/nginx" \
		    "$CM_DIR/nginx/site.conf" >"$CM_DIR/nginx/nginx.conf"
		cm_start_nginx "$CM_DIR/nginx" && break
		CM_NGINX_PID=""
	done
	if [ -z "$CM_NGINX_PID" ]; then
		echo "nginx did not start; its log:"
		sed 's/^/    /' "$CM_DIR/nginx/logs/error.log"
		exit 99
	fi
	CM_URL=http://127.0.0.1:$p1
	CM_HTTPS_URL=https://127.0.0.1:$p2
	CM_METRICS_URL=http://127.0.0.1:$p3
	cm_wait_healthy || exit 99
}

cm_wait_healthy() {
	local i
	for i in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$CM_URL/healthz")" = 200 ] &&
		    return 0
		sleep 0.1
	done
	echo "/healthz does not answer 200 through nginx"
	return 1
}

# cm_log_has_id ID: cimaster logged a line for the request with this id.
cm_log_has_id() {
	grep -qF "[$1]" "$CM_DIR/cimaster.log"
}

# Sanitizer reports in cimaster's log are failures of the suite.
cm_check_log() {
	if grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:' \
	    "$CM_DIR/cimaster.log" 2>/dev/null; then
		fail "cimaster's log has a sanitizer report"
		grep -E -A 30 'Sanitizer|runtime error:' "$CM_DIR/cimaster.log" |
		    head -80 | sed 's/^/    /'
	else
		pass "cimaster's log has no sanitizer report"
	fi
}

cm_stop_nginx() {
	[ -n "$CM_NGINX_PID" ] || return 0
	kill -TERM "$CM_NGINX_PID" 2>/dev/null
	wait "$CM_NGINX_PID" 2>/dev/null
	CM_NGINX_PID=""
}

cm_teardown() {
	local rc=$? name dirs=""
	trap - EXIT
	for name in $CM_INSTANCES; do
		cm_instance "$name"
		cm_stop_nginx
		cm_stop_backend >/dev/null 2>&1
		dirs="$dirs $CM_DIR"
	done
	k8s_stop
	pd_stop
	for CM_DIR in $dirs; do
		[ -d "$CM_DIR" ] || continue
		if [ -n "${CIMASTER_TESTS_KEEP:-}" ]; then
			echo "kept $CM_DIR"
		else
			rm -rf "$CM_DIR"
		fi
	done
	exit $rc
}

# cm_finish: stops every instance (a worker left behind or a sanitizer
# report fails the suite) and the double, prints the tally and exits 1 on
# any failure.
cm_finish() {
	local name
	for name in $CM_INSTANCES; do
		cm_instance "$name"
		cm_stop_nginx
		cm_stop_backend
		cm_check_log
		if [ "$TESTS_FAILED" -ne 0 ]; then
			echo "--- last lines of cimaster's log ($CM_DIR)"
			tail -n 40 "$CM_DIR/cimaster.log" | sed 's/^/    /'
			echo "--- last lines of nginx's error log"
			tail -n 20 "$CM_DIR/nginx/logs/error.log" | sed 's/^/    /'
		fi
	done
	if [ -n "$K8S_DIR" ]; then
		if grep -q Traceback "$K8S_DIR/double.log" 2>/dev/null; then
			fail "the API server double raised no exception"
			grep -A 20 Traceback "$K8S_DIR/double.log" | head -60 |
			    sed 's/^/    /'
		fi
		k8s_stop
	fi
	if [ -n "$PD_DIR" ]; then
		pd_check_log
		pd_stop
	fi
	echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
	[ "$TESTS_FAILED" -eq 0 ] && exit 0
	exit 1
}

# ---- the Kubernetes API server double (tests/k8s_double.py) ---------------

K8S_DIR=""		# certificates, token, kubeconfig, objects, its log
K8S_PID=""
K8S_PORT=""		# kept across k8s_restart
K8S_URL=""		# https://127.0.0.1:PORT
K8S_ADMIN=""		# http://127.0.0.1:PORT, its control listener
K8S_NS=${K8S_NS:-ci}
K8S_NAME=${K8S_NAME:-clusters}

# k8s_make_ca DIR: a test CA (DIR/ca.crt) and a server certificate it
# signed for localhost and 127.0.0.1 (DIR/server.crt, DIR/server.key), so
# that clients verify the double against the CA alone, as they verify a
# real API server against the cluster's CA.  ECDSA P-256 keys: the
# double's handshakes cost half what RSA-2048 ones do.
k8s_make_ca() {
	local d=$1 ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -days 2 -subj /CN=cimaster-test-ca \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null &&
	    openssl req "${ec[@]}" -subj /CN=localhost \
	    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null &&
	    printf '%s\n' basicConstraints=CA:FALSE extendedKeyUsage=serverAuth \
	    subjectAltName=DNS:localhost,IP:127.0.0.1 >"$d/server.ext" &&
	    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" \
	    -CAkey "$d/ca.key" -CAcreateserial -days 2 \
	    -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
}

# k8s_new_token: a fresh random bearer token.
k8s_new_token() {
	od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

# k8s_token_set TOKEN: replaces the token file (atomically, readable by
# the service user), as the kubelet rotates a projected token.
k8s_token_set() {
	printf '%s\n' "$1" >"$K8S_DIR/token.new"
	chmod 600 "$K8S_DIR/token.new"
	[ "$(id -u)" -eq 0 ] && chown cimaster:cimaster "$K8S_DIR/token.new"
	mv -f "$K8S_DIR/token.new" "$K8S_DIR/token"
}

# k8s_start DIR: the double in DIR, with a CA, a token and a kubeconfig
# for kubectl.  Sets K8S_DIR, K8S_PID, K8S_URL, K8S_ADMIN.
k8s_start() {
	K8S_DIR=$1
	mkdir -p "$K8S_DIR"
	if ! [ -s "$K8S_DIR/ca.crt" ] && ! k8s_make_ca "$K8S_DIR"; then
		echo "openssl could not make the test CA"
		return 1
	fi
	[ -s "$K8S_DIR/token" ] || k8s_token_set "$(k8s_new_token)"
	k8s_run || return 1
	cat >"$K8S_DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: double
  cluster:
    server: $K8S_URL
    certificate-authority: $K8S_DIR/ca.crt
users:
- name: test
  user:
    tokenFile: $K8S_DIR/token
contexts:
- name: double
  context:
    cluster: double
    user: test
    namespace: $K8S_NS
current-context: double
EOF
}

# k8s_run: starts the double's process (on K8S_PORT when set) and waits
# until it listens.
k8s_run() {
	local i port=()
	rm -f "$K8S_DIR/port" "$K8S_DIR/admin_port"
	[ -n "$K8S_PORT" ] && port=(--port "$K8S_PORT")
	python3 "$top_srcdir/tests/k8s_double.py" --dir "$K8S_DIR" \
	    --cert "$K8S_DIR/server.crt" --key "$K8S_DIR/server.key" \
	    --token-file "$K8S_DIR/token" "${port[@]}" 2>>"$K8S_DIR/double.log" &
	K8S_PID=$!
	for i in $(seq 100); do
		[ -s "$K8S_DIR/port" ] && break
		kill -0 "$K8S_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! [ -s "$K8S_DIR/port" ]; then
		echo "the API server double did not start; its log:"
		sed 's/^/    /' "$K8S_DIR/double.log"
		K8S_PID=""
		return 1
	fi
	K8S_PORT=$(cat "$K8S_DIR/port")
	K8S_URL=https://127.0.0.1:$K8S_PORT
	K8S_ADMIN=http://127.0.0.1:$(cat "$K8S_DIR/admin_port")
}

# k8s_stop: the API server is down (connections are refused).
k8s_stop() {
	[ -n "$K8S_PID" ] || return 0
	kill -TERM "$K8S_PID" 2>/dev/null
	wait "$K8S_PID" 2>/dev/null
	K8S_PID=""
}

# k8s_restart: the API server comes back on the same port with the same
# objects and versions (its faults are reset).
k8s_restart() {
	k8s_stop
	k8s_run
}

# k8s_ctl JSON: changes the double's faults (see Faults in
# tests/k8s_double.py), e.g. k8s_ctl '{"latency_ms": 2, "fail500": 0.2}'.
k8s_ctl() {
	curl -sS -f -o /dev/null -X POST --data-binary "$1" "$K8S_ADMIN/faults"
}

# k8s_stat NAME: one of the double's counters (0 if never counted).
k8s_stat() {
	curl -sS "$K8S_ADMIN/stats" | jq -r --arg k "$1" '.[$k] // 0'
}

k8s_stats_reset() {
	curl -sS -f -o /dev/null -X POST "$K8S_ADMIN/stats/reset"
}

# k8s_put_object JSON: sets the ConfigMap directly, as etcdctl would: the
# next resourceVersion, whatever the document says.
k8s_put_object() {
	# Through a pipe: a document near the 1 MiB limit is too long for
	# an argument of curl.
	printf '%s' "$1" | curl -sS -f -o /dev/null -X PUT --data-binary @- \
	    "$K8S_ADMIN/objects/$K8S_NS/$K8S_NAME"
}

# k8s_delete_object: the ConfigMap is gone.
k8s_delete_object() {
	curl -sS -o /dev/null -X DELETE "$K8S_ADMIN/objects/$K8S_NS/$K8S_NAME"
}

# kc ARGS...: kubectl against the double, with its CA and token file.
kc() {
	kubectl --kubeconfig "$K8S_DIR/kubeconfig" --cache-dir "$K8S_DIR/kcache" \
	    --request-timeout=30s "$@"
}

# ---- the Prow double (tests/prow_double.py) --------------------------------

PD_DIR=""		# its CA, token, port files and log
PD_PID=""
PD_PORT=""		# kept across pd_restart
PD_URL=""		# https://127.0.0.1:PORT, both dialects
PD_CTL=""		# http://127.0.0.1:PORT, its control listener
PD_TOKEN=""		# the bearer token it wants (PD_DIR/token)
PD_JOBS=()		# NAME=TYPE, the jobs it knows
PD_MANUAL_PATH=${PD_MANUAL_PATH:-/manual-trigger}

# pd_token_set TOKEN: replaces the token file (atomically, readable by
# the service user); the double and cimaster both read it on every call.
pd_token_set() {
	PD_TOKEN=$1
	printf '%s\n' "$1" >"$PD_DIR/token.new"
	chmod 600 "$PD_DIR/token.new"
	[ "$(id -u)" -eq 0 ] && chown cimaster:cimaster "$PD_DIR/token.new"
	mv -f "$PD_DIR/token.new" "$PD_DIR/token"
}

# pd_start DIR NAME=TYPE...: the double in DIR (created; owned by the
# service user when root, so that cimaster reads DIR/ca.crt and
# DIR/token) knowing these jobs (TYPE periodic, postsubmit or presubmit),
# with its own test CA and a fresh token.  Sets PD_DIR, PD_PID, PD_URL,
# PD_CTL, PD_TOKEN.  0, or 1 with the reason printed.
pd_start() {
	PD_DIR=$1
	shift
	PD_JOBS=("$@")
	PD_PORT=""
	mkdir -p "$PD_DIR"
	if ! [ -s "$PD_DIR/ca.crt" ] && ! k8s_make_ca "$PD_DIR"; then
		echo "openssl could not make the Prow double's CA"
		return 1
	fi
	pd_token_set "$(k8s_new_token)"
	[ "$(id -u)" -eq 0 ] && chown -R cimaster:cimaster "$PD_DIR"
	pd_run
}

# pd_run: starts the double's process (on PD_PORT when set) and waits
# until both its listeners are up.
pd_run() {
	local i j port=() jobs=()
	rm -f "$PD_DIR/port" "$PD_DIR/admin_port"
	[ -n "$PD_PORT" ] && port=(--port "$PD_PORT")
	for j in "${PD_JOBS[@]}"; do
		jobs+=(--job "$j")
	done
	python3 "$top_srcdir/tests/prow_double.py" --dir "$PD_DIR" \
	    --cert "$PD_DIR/server.crt" --key "$PD_DIR/server.key" \
	    --token-file "$PD_DIR/token" --manual-path "$PD_MANUAL_PATH" \
	    "${jobs[@]}" "${port[@]}" 2>>"$PD_DIR/double.log" &
	PD_PID=$!
	for i in $(seq 100); do
		[ -s "$PD_DIR/port" ] && [ -s "$PD_DIR/admin_port" ] && break
		kill -0 "$PD_PID" 2>/dev/null || break
		sleep 0.1
	done
	if ! [ -s "$PD_DIR/port" ] || ! [ -s "$PD_DIR/admin_port" ]; then
		echo "the Prow double did not start; its log:"
		sed 's/^/    /' "$PD_DIR/double.log"
		kill -TERM "$PD_PID" 2>/dev/null
		wait "$PD_PID" 2>/dev/null
		PD_PID=""
		return 1
	fi
	PD_PORT=$(cat "$PD_DIR/port")
	PD_URL=https://127.0.0.1:$PD_PORT
	PD_CTL=http://127.0.0.1:$(cat "$PD_DIR/admin_port")
}

# pd_stop: Prow is down (connections are refused).
pd_stop() {
	[ -n "$PD_PID" ] || return 0
	kill -TERM "$PD_PID" 2>/dev/null
	wait "$PD_PID" 2>/dev/null
	PD_PID=""
}

# pd_restart: the double comes back on the same port, its record and
# faults cleared.
pd_restart() {
	pd_stop
	pd_run
}

# pd_ctl PATH [JSON]: POSTs to the control listener, e.g.
# pd_ctl /_faults '{"fail_next": 1, "fail_status": 500}'; pd_ctl /_reset.
pd_ctl() {
	curl -sS -f -o /dev/null -X POST --data-binary "${2:-}" "$PD_CTL$1"
}

# pd_requests: every request the double received since the last reset,
# as a JSON array (see the top of tests/prow_double.py).
pd_requests() {
	curl -sS -f "$PD_CTL/_requests"
}

# pd_check_log: the double raised no exception (a failure otherwise).
pd_check_log() {
	if grep -q Traceback "$PD_DIR/double.log" 2>/dev/null; then
		fail "the Prow double raised no exception"
		grep -A 20 Traceback "$PD_DIR/double.log" | head -60 |
		    sed 's/^/    /'
	else
		pass "the Prow double raised no exception"
	fi
}
