# Threads under ThreadSanitizer: ingest --threads 2 from a file (each thread its own reader) and
# from stdin (shared batches), and top over a period long enough to be split between threads.
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
echo "no data race; -j2 stores equal -j1"
