#!/usr/bin/env bash
# tests/abi/check-abi.sh - the library's ABI, as make check sees it:
#   1. it exports exactly the symbols in tests/abi/symbols.txt, every one
#      in the FORKBOARD_1.0 version node, and nothing private (fb__*);
#   2. abidiff finds no incompatible change against the committed 1.0
#      baseline (tests/abi/libforkboard-1.0.abi, made with abidw);
#   3. a program compiled against the frozen 1.0 header runs on it
#      (tests/abi/abi_1_0, built by make check).
# Prints cmocka-style summary lines, which scripts/check counts.
set -uo pipefail
top=${FB_TOP_SRCDIR:?run me from make check}
build=${FB_TOP_BUILDDIR:?run me from make check}
so=$build/.libs/libforkboard.so
passed=0 failed=0
ok() { echo "[       OK ] $1"; passed=$((passed + 1)); }
ko() { echo "[  FAILED  ] $1: $2"; failed=$((failed + 1)); }

have=$(nm -D --defined-only "$so" | awk '$3 !~ /^FORKBOARD/ { print $3 }' | sort)
want=$(sort "$top/tests/abi/symbols.txt")
if [[ $have == "$want" ]]; then
	ok "exported symbols"
else
	ko "exported symbols" "differ from tests/abi/symbols.txt"
	diff <(echo "$want") <(echo "$have")
fi

if ! command -v abidiff >/dev/null; then
	ko abidiff "abidiff missing (apt-get install abigail-tools)"
else
	# Growth at the end of a size-prefixed structure is part of the
	# promise (tests/abi/growable.suppr); anything else is reported.
	abidiff --headers-dir2 "$top/include" --headers-dir2 "$build/include" \
		--suppressions "$top/tests/abi/growable.suppr" \
		"$top/tests/abi/libforkboard-1.0.abi" "$so" >"$build/tests/abi/abidiff.out" 2>&1
	rc=$?
	# Bits 0-1 (1, 2): abidiff itself failed; bit 2 (4): the ABI changed,
	# bit 3 (8): incompatibly.  Added symbols are not changes to it.
	if ((rc & 7)); then
		ko abidiff "incompatible change (exit $rc)"
		cat "$build/tests/abi/abidiff.out"
	else
		ok "abidiff against the 1.0 baseline"
	fi
fi

if out=$("$build/tests/abi/abi_1_0" 2>&1) && [[ $out == "abi 1.0: ok" ]]; then
	ok "program built on the frozen 1.0 header"
else
	ko "program built on the frozen 1.0 header" "$out"
fi

echo "[  PASSED  ] $passed test(s)."
if ((failed)); then
	echo "[  FAILED  ] $failed test(s), listed below:"
	exit 1
fi
