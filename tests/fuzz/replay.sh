#!/usr/bin/env bash
# tests/fuzz/replay.sh: runs each fuzz harness over its seed corpus
# (tests/fuzz/corpus/NAME) through the gcc-built replay programs, so the
# harnesses' checks run under ASan/UBSan in "make check".  scripts/fuzz
# does the real fuzzing with clang and libFuzzer.
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$srcdir}
passed=0
failed=0

for name in request codec; do
	prog="$builddir/tests/fuzz/fuzz_${name}_replay"
	corpus="$srcdir/tests/fuzz/corpus/$name"
	if [ ! -x "$prog" ]; then
		echo "FAIL: fuzz_$name: $prog is not built"
		failed=$((failed + 1))
		continue
	fi
	if out=$("$prog" "$corpus" 2>&1); then
		echo "PASS: fuzz_$name: $(printf '%s\n' "$out" | tail -n 1)"
		passed=$((passed + 1))
	else
		# All but the inputs that passed: the name of the one that
		# failed, then the sanitizer report or the failed check.
		printf '%s\n' "$out" | grep -v ': ok$'
		echo "FAIL: fuzz_$name: replaying $corpus"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
