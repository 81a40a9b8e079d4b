#!/bin/sh
# Run every libFuzzer target for a bounded time on its seed corpus; fail on
# any crash, leak, timeout or sanitizer report.
#
#   CC=clang cmake -S . -B build-fuzz -DKR_FUZZ=ON -DKR_TESTS=OFF
#   cmake --build build-fuzz -j2
#   tests/fuzz/run-fuzzers.sh SECONDS [BUILD_DIR]     (BUILD_DIR: build-fuzz)
#
# Seeds are read from tests/fuzz/corpus/<target>/ and never written: new
# inputs go to a scratch directory. A failing input is kept as
# BUILD_DIR/fuzz-artifacts/<target>/crash-* (or leak-*, timeout-*, oom-*);
# replay it with `BUILD_DIR/tests/fuzz/<target> FILE`.
set -u

secs=${1:?usage: run-fuzzers.sh SECONDS [BUILD_DIR]}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${2:-$root/build-fuzz}
case $secs in
''|*[!0-9]*) echo "run-fuzzers.sh: SECONDS must be a number" >&2; exit 64 ;;
esac

ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS UBSAN_OPTIONS

found=0
failed=0
for src in "$here"/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	bin=$build/tests/fuzz/$name
	if [ ! -x "$bin" ]; then
		echo "run-fuzzers.sh: $bin not built" >&2
		failed=1
		continue
	fi
	found=$((found + 1))
	seeds=$here/corpus/$name
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/kr-fuzz-$name.XXXXXX")
	artifacts=$build/fuzz-artifacts/$name
	mkdir -p "$artifacts"
	log=$build/fuzz-artifacts/$name.log
	# observe output holds whole `docker inspect` documents (the recorded
	# seeds are up to 54 KB); other inputs are small
	maxlen=8192
	[ "$name" != fuzz_observe ] || maxlen=65536
	set -- -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len="$maxlen" -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$scratch"
	[ -f "$here/$name.dict" ] && set -- -dict="$here/$name.dict" "$@"
	[ -d "$seeds" ] && set -- "$@" "$seeds"
	echo "== $name: ${secs}s"
	"$bin" "$@" >"$log" 2>&1
	rc=$?
	tail -n 12 "$log"
	# libFuzzer exits non-zero on a crash or leak; the sanitizers abort.
	# The grep also catches a report that somehow did not stop the run.
	if [ $rc -ne 0 ] || grep -Eq 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
		echo "run-fuzzers.sh: $name FAILED (exit $rc); log: $log" >&2
		ls "$artifacts" >&2
		failed=1
	else
		echo "== $name: ok"
	fi
	rm -rf "$scratch"
done
if [ $found -eq 0 ]; then
	echo "run-fuzzers.sh: no fuzz targets found under $build/tests/fuzz" >&2
	exit 1
fi
exit $failed
