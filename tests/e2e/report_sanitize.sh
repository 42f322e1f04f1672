# darkscope report and events under ASan+UBSan (build-sanitize/darkscope) on real synthetic data:
# every format and language, focus sections, a yearly and a one-day period, and a period without
# data (refused), with leak checking.
# fontconfig keeps process-lifetime caches that LeakSanitizer reports; only those are suppressed
# (as in tests/unit/test_chart.c).
source "$(dirname "$0")/lib.bash"
[ -x "$DSAN" ] || skip "no build-sanitize/darkscope (make sanitize)"
write_conf
printf 'leak:libfontconfig.so\n' > lsan.supp
export LSAN_OPTIONS=suppressions=$T/lsan.supp G_SLICE=always-malloc
$DS synth -q -o two.pcap --start 2023-06-20 --days 20 --rate 3000 --seed 11
$DS ingest -q two.pcap
run() { "$DSAN" "$@" 2> err.txt || { cat err.txt; fail "sanitizer build: $*"; }; }
run report --period 2023-07 --focus 23/tcp --focus CN --focus 9999/udp --focus AQ -o r.html
run report --period 2023-07 --lang ja --focus 23/tcp --focus JP -o r.ja.md
run report --period 2023 --format json -o y.json
run report --period 2023-07-05 --compare none --lang ja -o d.html
# every detector, JSON and both languages: a period with no weekly country/service pair once passed
# qsort a NULL array (detect_periodic.c fold_weekly; UBSan: "null pointer passed as argument 1")
run events --from 2023-06-20 --to 2023-07-09 --format json > ev.json
run events --from 2023-06-20 --to 2023-07-09 --lang ja > ev.txt
# no data at all: a plain refusal (issue #19), exit 1, no file, no sanitizer report
rc=0; "$DSAN" report --period 2030Q1 --format json -o empty.json 2> err.txt || rc=$?
[ "$rc" = 1 ] || { cat err.txt; fail "report over a period without data exited $rc, not 1"; }
grep -q "No data for" err.txt || fail "report over a period without data: $(cat err.txt)"
[ ! -e empty.json ] || fail "report over a period without data wrote a file"
echo "report_sanitize: ok"
