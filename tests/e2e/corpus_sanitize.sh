# Never crash: build-sanitize/darkscope (ASan+UBSan) ingests every capture in
# ../shared/corpus/robustness (real captures from the tcpdump, libpcap and Zeek test suites, many
# malformed) without a sanitizer report.  Errors on bad files are fine; reports are not.
source "$(dirname "$0")/lib.bash"
corpus=${DS_CORPUS:-$ROOT/../shared/corpus/robustness}
[ -d "$corpus" ] || skip "no corpus at $corpus"
[ -x "$DSAN" ] || skip "no sanitizer build (make sanitize)"
find "$corpus" -type f ! -name '*.tsv' ! -name '*.md' | sort > files.txt
n=$(wc -l < files.txt)
[ "$n" -gt 100 ] || fail "corpus has only $n files"
# every address is dark, so every decoded packet goes through classification and the store
set +e
xargs -d '\n' -n 60 "$DSAN" ingest -q -c /dev/null --db "$T/c.db" --darknet 0.0.0.0/0 --darknet v6=::/0 --force \
    < files.txt > out.txt 2> err.txt
set -e
if grep -E "ERROR: AddressSanitizer|runtime error:|LeakSanitizer|SUMMARY: UndefinedBehavior" err.txt; then
    grep -B2 -A30 -E "ERROR: AddressSanitizer|runtime error:|LeakSanitizer" err.txt | head -n 60
    fail "sanitizer report"
fi
errors=$(grep -c '^darkscope: ' err.txt || true)
stored=$("$DS" stats --db "$T/c.db" --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
echo "$n captures: $errors error/warning lines, $stored packets stored, no sanitizer report"
