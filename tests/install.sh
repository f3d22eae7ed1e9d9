#!/usr/bin/env bash
# tests/install.sh: "make install DESTDIR=..." of this build.  Both
# programs go to sbindir, the units to the configured unit directory, the
# configuration (and its sample) to sysconfdir/cimaster, the nginx site to
# sysconfdir/nginx/sites-available; nothing outside DESTDIR is touched; a
# second install keeps a configuration the operator changed; uninstall
# removes everything but that.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

t_require make find cmp
[ -n "${CM_SBINDIR:-}" ] && [ -n "${CM_SYSCONFDIR:-}" ] ||
    t_skip "CM_SBINDIR and CM_SYSCONFDIR come from make check"
CM_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cimaster-install.XXXXXX") ||
    t_skip "cannot create a temporary directory"
trap 'rm -rf "$CM_DIR"' EXIT
D=$CM_DIR/dest
unitdir=${CM_UNITDIR:-}	# empty: configured --with-systemdsystemunitdir=no

# make_in_build TARGET...: make in the build directory, outside the
# running make's job server.
make_in_build() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" "$@" \
	    DESTDIR="$D" >>"$CM_DIR/make.log" 2>&1
}

touch "$CM_DIR/stamp"
sleep 1
make_in_build install
expect_eq "$?" 0 "make install DESTDIR=... succeeds"

want="$CM_SBINDIR/cimaster
$CM_SBINDIR/cimaster-expire
$CM_SYSCONFDIR/cimaster/cimaster.conf
$CM_SYSCONFDIR/cimaster/cimaster.conf.sample
$CM_SYSCONFDIR/nginx/sites-available/cimaster"
if [ -n "$unitdir" ]; then
	want="$want
$unitdir/cimaster-expire.service
$unitdir/cimaster-expire.timer
$unitdir/cimaster.service
$unitdir/cimaster.socket"
fi
got=$(cd "$D" && find . -type f | sed 's/^\.//' | sort)
expect_eq "$got" "$(sort <<<"$want")" "install puts exactly the programs, units, configuration and nginx site in place"

outside=""
while read -r f; do
	[ -e "$f" ] && [ "$f" -nt "$CM_DIR/stamp" ] && outside="$outside $f"
done <<<"$got"
expect_eq "$outside" "" "nothing outside DESTDIR was written"

expect_true "cimaster is installed executable" test -x "$D$CM_SBINDIR/cimaster"
expect_true "cimaster-expire is installed executable" test -x "$D$CM_SBINDIR/cimaster-expire"
expect_true "the configuration is the shipped default" \
    cmp "$top_srcdir/etc/cimaster.conf" "$D$CM_SYSCONFDIR/cimaster/cimaster.conf"
expect_true "the sample is the shipped default" \
    cmp "$top_srcdir/etc/cimaster.conf" "$D$CM_SYSCONFDIR/cimaster/cimaster.conf.sample"
expect_true "the nginx site is nginx/cimaster.conf" \
    cmp "$top_srcdir/nginx/cimaster.conf" "$D$CM_SYSCONFDIR/nginx/sites-available/cimaster"
out=$("$D$CM_SBINDIR/cimaster" -n -c "$D$CM_SYSCONFDIR/cimaster/cimaster.conf" 2>&1)
expect_eq "$?" 0 "the installed cimaster accepts the installed configuration ($out)"
if [ -n "$unitdir" ]; then
	expect_true "the installed units are the built ones" \
	    cmp "$top_builddir/systemd/cimaster.service" "$D$unitdir/cimaster.service"
	expect_true "the installed service runs the installed program" \
	    grep -qx "ExecStart=$CM_SBINDIR/cimaster -c $CM_SYSCONFDIR/cimaster/cimaster.conf" \
	    "$D$unitdir/cimaster.service"
fi

echo "# the operator's configuration survives an upgrade"
printf '\nadmins = [ "alice" ];\n' >>"$D$CM_SYSCONFDIR/cimaster/cimaster.conf"
echo "# my site" >>"$D$CM_SYSCONFDIR/nginx/sites-available/cimaster"
echo "old" >"$D$CM_SYSCONFDIR/cimaster/cimaster.conf.sample"
make_in_build install
expect_eq "$?" 0 "a second make install succeeds"
expect_true "a changed configuration is kept" \
    grep -q '"alice"' "$D$CM_SYSCONFDIR/cimaster/cimaster.conf"
expect_true "a changed nginx site is kept" \
    grep -q '# my site' "$D$CM_SYSCONFDIR/nginx/sites-available/cimaster"
expect_true "the sample is refreshed" \
    cmp "$top_srcdir/etc/cimaster.conf" "$D$CM_SYSCONFDIR/cimaster/cimaster.conf.sample"

echo "# uninstall"
make_in_build uninstall
expect_eq "$?" 0 "make uninstall succeeds"
expect_eq "$(cd "$D" && find . -type f | sed 's/^\.//' | sort)" \
    "$(printf '%s\n' "$CM_SYSCONFDIR/cimaster/cimaster.conf" \
    "$CM_SYSCONFDIR/nginx/sites-available/cimaster" | sort)" \
    "uninstall removes everything but the files the operator changed"

if [ "$TESTS_FAILED" -ne 0 ]; then
	echo "--- make's output"
	tail -n 30 "$CM_DIR/make.log" | sed 's/^/    /'
fi
echo "$TESTS_PASSED passed, $TESTS_FAILED failed"
[ "$TESTS_FAILED" -eq 0 ]
