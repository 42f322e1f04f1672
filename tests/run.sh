#!/usr/bin/env bash
# Run every test: unit tests (cmocka, normal build), end-to-end tests (tests/e2e/*.sh, against
# build/darkscope and build-sanitize/darkscope), and a short run of each fuzzer.
# Prints one closing line "N passed, N failed, N skipped" and exits non-zero on any failure.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
pass=0 fail=0 skip=0
failed=()
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
export DS_ROOT=$ROOT
export DS_CORPUS=${DS_CORPUS:-$ROOT/../shared/corpus/robustness}

run_one() { # name, command...
    local name=$1; shift
    local log; log=$(mktemp)
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS %-40s %3ds\n' "$name" $((SECONDS - t0))
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'SKIP %-40s (%s)\n' "$name" "$(tail -n 1 "$log")"
    else
        fail=$((fail + 1)); failed+=("$name"); printf 'FAIL %-40s rc=%d\n' "$name" $rc
        sed 's/^/    | /' "$log" | tail -n 40
    fi
    rm -f "$log"
}

echo "== unit tests"
for t in build/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "unit/$(basename "$t")" "$t"
done
echo "== unit tests under ASan+UBSan"
for t in build-sanitize/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "sanitize/$(basename "$t")" "$t"
done
echo "== end-to-end tests"
for t in tests/e2e/*.sh; do
    run_one "e2e/$(basename "$t" .sh)" bash "$t"
done
echo "== fuzzers (${FUZZ_SECONDS}s each)"
for f in build-fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    run_one "fuzz/$(basename "$f")" ./fuzz/run.sh "$FUZZ_SECONDS" "$(basename "$f")"
done

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
