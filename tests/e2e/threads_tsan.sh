# Threads under ThreadSanitizer: ingest --threads 2 from a file (each thread its own reader) and
# from stdin (shared batches), top over a period long enough to be split between threads, and
# events (detectors on threads of their own, raw chunks loaded lazily by the first to need them).
# The store must also equal a single-threaded ingest's.
source "$(dirname "$0")/lib.bash"
TS=$ROOT/build-tsan/darkscope
[ -x "$TS" ] || skip "no ThreadSanitizer build (make tsan)"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66"
write_conf
$DS synth -q -o a.pcap --days 20 --rate 3000 --seed 21
$TS ingest -q -j 2 --db "$T/t1.db" a.pcap || fail "tsan ingest -j2 (file) rc=$?"
gzip -c a.pcap | $TS ingest -q -j 2 --db "$T/t2.db" - || fail "tsan ingest -j2 (stdin) rc=$?"
$DS ingest -q -j 1 --db "$T/t0.db" a.pcap
for d in ports countries sources; do
    $TS top $d --db "$T/t1.db" -n 0 --format csv > t1.$d || fail "tsan top $d rc=$?"
    $DS top $d --db "$T/t2.db" -n 0 --format csv > t2.$d
    $DS top $d --db "$T/t0.db" -n 0 --format csv > t0.$d
    cmp -s t0.$d t1.$d || fail "top $d: -j2 from a file differs from -j1"
    cmp -s t0.$d t2.$d || fail "top $d: -j2 from stdin differs from -j1"
done
# events: detectors side by side on one view, the raw chunks loaded lazily (DETECT path) or at
# once (DS_NO_DETIN=1), both racing threads to a lazy kind
$TS events --db "$T/t1.db" --format json > ev.ts 2> ev.err || fail "tsan events rc=$?: $(tail -5 ev.err)"
DS_NO_DETIN=1 $TS events --db "$T/t1.db" --format json > ev-raw.ts 2> ev.err || fail "tsan events (raw) rc=$?: $(tail -5 ev.err)"
$DS events --db "$T/t0.db" --format json > ev.t0
cmp -s ev.ts ev.t0 || fail "events under tsan differ from -j1's"
cmp -s ev-raw.ts ev.t0 || fail "raw events under tsan differ from -j1's"
echo "no data race; -j2 stores equal -j1"
