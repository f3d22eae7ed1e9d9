# scripts/common.sh: shell functions shared by scripts/quickstart,
# scripts/check, scripts/render-nginx and tests/lib.sh.  Sourced, never run.
# It is the one place that knows the Debian package list and how the nginx
# files are rendered from nginx/*.in.

# Debian 12 packages that build and run CIMaster.  systemd ships
# systemd.pc (where "make install" puts the units) and systemd-analyze.
CIMASTER_PACKAGES="build-essential autoconf automake libtool pkg-config
libfcgi-dev libcurl4-openssl-dev libjson-c-dev libconfig-dev libcmocka-dev
nginx apache2-utils openssl curl systemd"
# What the test suites need on top.
# python3 runs the Kubernetes API server and Prow doubles; chromium (headless)
# renders the list page in tests/browser.sh.
# kubectl is no Debian package: tests/k8s.sh needs it installed by hand.
CIMASTER_TEST_PACKAGES="jq strace spawn-fcgi python3 chromium"

cm_say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

# cm_bench_build SRCDIR TARGET [BUILDDIR]: the benchmarks' build directory,
# printed: BUILDDIR as given, or SRCDIR/build-bench configured without
# sanitizers (they would be measured too) and TARGET made in it.
cm_bench_build() {
	local src=$1 target=$2 b=${3:-}
	if [ -z "$b" ]; then
		b=$src/build-bench
		(cd "$src" && { [ -x configure ] || autoreconf -fi; }) >&2 ||
		    return 1
		mkdir -p "$b" || return 1
		(cd "$b" && { [ -f Makefile ] || "$src/configure" -q; } &&
		    make -s -j2 "$target" >/dev/null) >&2 || return 1
	fi
	printf '%s\n' "$b"
}
cm_die() { cm_say "error: $*"; exit 1; }

# cm_install_packages PKG...: installs the packages that are missing.  As
# root it runs apt-get (update first, only when something is missing, so a
# prepared machine needs no network); otherwise it says what to install.
cm_install_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q 'install ok installed' || missing+=("$p")
	done
	[ "${#missing[@]}" -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
		cm_die "missing packages: ${missing[*]} (as root: apt-get install ${missing[*]})"
	fi
	cm_say "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# cm_ensure_user NAME: the unprivileged system user cimaster switches to.
cm_ensure_user() {
	id -u "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" -eq 0 ] || cm_die "user $1 is missing and only root can create it"
	cm_say "creating system user $1"
	useradd --system --user-group --no-create-home \
	    --home-dir /nonexistent --shell /usr/sbin/nologin "$1"
}

# cm_sed_escape STRING: STRING made safe as a sed replacement with | as
# the delimiter.
cm_sed_escape() {
	printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

# cm_render TEMPLATE: prints TEMPLATE with every @NAME@ replaced by the
# value of the shell variable NAME.  An @NAME@ without a variable is an
# error, so a template and its callers cannot drift apart silently.
cm_render() {
	local tpl=$1 args=() name val
	for name in $(grep -o '@[A-Z_][A-Z0-9_]*@' "$tpl" | tr -d @ | sort -u); do
		[ -n "${!name+set}" ] || cm_die "$tpl: no value for @$name@"
		val=$(cm_sed_escape "${!name}")
		args+=(-e "s|@$name@|$val|g")
	done
	sed "${args[@]}" "$tpl"
}

# cm_render_site SRCDIR: prints the nginx site (nginx/cimaster.conf.in)
# for these variables, each with the default of the packaged site:
#   HTTP_LISTEN (8080), HTTPS_LISTEN (8443), METRICS_LISTEN (8090):
#     an nginx "listen" address, a port or ADDR:PORT
#   SOCKET (/run/cimaster/fcgi.sock), HTPASSWD (/etc/cimaster/htpasswd),
#   TLS_CERT, TLS_KEY (/etc/cimaster/tls.crt, .key),
#   FASTCGI_PARAMS (/etc/nginx/fastcgi_params),
#   ACCESS_LOG (/var/log/nginx/cimaster.access.log)
cm_render_site() {
	local HTTP_LISTEN=${HTTP_LISTEN:-8080}
	local HTTPS_LISTEN=${HTTPS_LISTEN:-8443}
	local METRICS_LISTEN=${METRICS_LISTEN:-8090}
	local SOCKET=${SOCKET:-/run/cimaster/fcgi.sock}
	local HTPASSWD=${HTPASSWD:-/etc/cimaster/htpasswd}
	local TLS_CERT=${TLS_CERT:-/etc/cimaster/tls.crt}
	local TLS_KEY=${TLS_KEY:-/etc/cimaster/tls.key}
	local FASTCGI_PARAMS=${FASTCGI_PARAMS:-/etc/nginx/fastcgi_params}
	local ACCESS_LOG=${ACCESS_LOG:-/var/log/nginx/cimaster.access.log}
	cm_render "$1/nginx/cimaster.conf.in"
}

# cm_render_main SRCDIR PREFIX SITE [ERROR_LOG]: prints an nginx main
# configuration that runs in the foreground with its pid and temporary
# files under PREFIX and includes the site file SITE.  ERROR_LOG defaults
# to PREFIX/logs/error.log ("stderr" works too).  As root the workers run
# as user cimaster, who can reach cimaster's socket.
cm_render_main() {
	local PREFIX=$2 SITE=$3 ERROR_LOG=${4:-$2/logs/error.log}
	local USER_LINE="# not started as root: no user switch"
	[ "$(id -u)" -eq 0 ] && USER_LINE="user cimaster cimaster;"
	cm_render "$1/nginx/nginx-standalone.conf.in"
}

# cm_start_nginx PREFIX: starts "nginx -p PREFIX -c PREFIX/nginx.conf" in
# the background (the configuration says "daemon off") and sets
# CM_NGINX_PID.  Returns non-zero when nginx is not up within 5 seconds,
# e.g. because a port was taken; PREFIX/logs/error.log says why.
cm_start_nginx() {
	local prefix=$1 i
	mkdir -p "$prefix/logs" "$prefix/tmp"
	nginx -t -q -p "$prefix/" -c "$prefix/nginx.conf" \
	    -e "$prefix/logs/error.log" || return 1
	nginx -p "$prefix/" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log" &
	CM_NGINX_PID=$!
	for i in $(seq 50); do
		if ! kill -0 "$CM_NGINX_PID" 2>/dev/null; then
			wait "$CM_NGINX_PID" 2>/dev/null
			CM_NGINX_PID=
			return 1
		fi
		[ -s "$prefix/nginx.pid" ] && return 0
		sleep 0.1
	done
	return 1
}

# cm_make_cert DIR: a self-signed certificate DIR/tls.crt + DIR/tls.key
# for localhost and 127.0.0.1, unless there is one already.
cm_make_cert() {
	[ -s "$1/tls.crt" ] && [ -s "$1/tls.key" ] && return 0
	openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
	    -subj /CN=localhost \
	    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1' \
	    -keyout "$1/tls.key" -out "$1/tls.crt" 2>/dev/null
	chmod 600 "$1/tls.key"
}

# cm_htpasswd_line USER PASSWORD: one htpasswd line (bcrypt with
# htpasswd, else apr1 with openssl).  The password never appears in a
# command line, so "ps" does not show it.
cm_htpasswd_line() {
	if command -v htpasswd >/dev/null; then
		printf '%s\n' "$2" | htpasswd -niB "$1" | sed '/^$/d'
	else
		printf '%s:%s\n' "$1" "$(printf '%s\n' "$2" | openssl passwd -apr1 -stdin)"
	fi
}
