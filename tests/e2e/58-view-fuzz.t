#!/bin/bash
# A short bounded libFuzzer run over the view's parser, table, sorter and
# formatter (with ASan and UBSan); `make fuzz` runs it longer.
. "$(dirname "$0")/lib.sh"
command -v clang >/dev/null || skip_all "clang not installed"
plan 1
"$TOP/scripts/fuzz" "${FUZZ_CHECK_SECONDS:-10}" 2> "$TMP/err"
rc=$?
[ $rc -eq 77 ] && { echo "ok 1 # SKIP $(tail -1 "$TMP/err")"; exit 0; }
[ $rc -ne 0 ] && cat "$TMP/err" >&2
ok $rc "fuzzing for ${FUZZ_CHECK_SECONDS:-10} s finds no crash, leak or undefined behaviour"
done_testing
