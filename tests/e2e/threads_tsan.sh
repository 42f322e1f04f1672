# Threads under ThreadSanitizer: ingest --threads 2 from a file (each thread its own reader) and
# from stdin (shared batches), top over a period long enough to be split between threads, and
# events (detectors on threads of their own, raw chunks loaded lazily by the first to need them),
# and serve's requests sharing a kept period view.
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
# serve: requests over one period at once, on two request threads, share its kept period view
# (serve_views.c: loaded lazily by whichever request first reads a kind, lent to each request,
# freed by the last handle); the answers equal the CLI's
if command -v curl >/dev/null 2>&1; then
    rm -f port
    $TS serve --db "$T/t1.db" --listen 127.0.0.1:0 --port-file port -j 2 --no-cache > serve.log 2>&1 &
    SP=$!
    for _ in $(seq 200); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { cat serve.log; fail "tsan serve did not start"; }
    U=http://127.0.0.1:$(cat port)/api/v1
    SRC=$($DS top sources --db "$T/t1.db" -n 1 --format csv | tail -n 1 | cut -d, -f2)
    Q='from=2023-07-03&to=2023-07-16'
    for round in 1 2; do
        curl -sS -o "sv.top.$round" "$U/top?dim=sources&limit=0&$Q" & c1=$!
        curl -sS -o "sv.ev.$round" "$U/events?$Q" & c2=$!
        curl -sS -o "sv.ports.$round" "$U/top?dim=ports&limit=0&service=23/tcp,2323/tcp&$Q" & c3=$!
        curl -sS -o "sv.src.$round" "$U/source/$SRC?$Q" & c4=$!   # its events on a thread of their own
        wait $c1 $c2 $c3 $c4
    done
    cmp -s sv.src.1 sv.src.2 || fail "tsan serve: a source's detail differs between two rounds"
    grep -q '"events": \[' sv.src.1 || fail "tsan serve: a source's detail without its events: $(head -c 300 sv.src.1)"
    kill $SP
    wait $SP || { tail -20 serve.log; fail "tsan serve exited with $? (66: a data race)"; }
    $DS top sources --db "$T/t1.db" -n 0 --from 2023-07-03 --to 2023-07-16 --format json > sv.top.cli
    $DS events --db "$T/t1.db" --from 2023-07-03 --to 2023-07-16 --format json > sv.ev.cli
    $DS top ports --db "$T/t1.db" -n 0 --where port=23/tcp --where port=2323/tcp --from 2023-07-03 --to 2023-07-16 \
        --format json > sv.ports.cli
    for round in 1 2; do
        for k in top ev ports; do cmp -s "sv.$k.$round" "sv.$k.cli" || fail "tsan serve: $k (round $round) differs from the CLI"; done
    done
fi
echo "no data race; -j2 stores equal -j1"
