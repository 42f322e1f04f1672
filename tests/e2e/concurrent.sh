# Two ingests into one store at once neither corrupt nor double-count: different files both
# count; the same file at once counts once (the other run skips it: exit 0 either way, since
# skipping a stored file is not an error); a killed ingest leaves the store as it was.
source "$(dirname "$0")/lib.bash"
write_conf
$DS synth -q -o a.pcap --days 2 --rate 20000 --seed 11
$DS synth -q -o b.pcap --days 2 --rate 20000 --seed 12
total() { $DS stats --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))'; }
$DS ingest -q --db solo.db a.pcap; $DS ingest -q --db solo.db b.pcap
want=$($DS stats --db solo.db --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
$DS ingest -q a.pcap & p1=$!
$DS ingest -q b.pcap & p2=$!
wait $p1 || fail "concurrent ingest a failed"
wait $p2 || fail "concurrent ingest b failed"
[ "$(total)" -eq "$want" ] || fail "concurrent different files: $(total) != $want"
rm -f "$T"/store.db*
set +e
$DS ingest -q a.pcap 2>e1 & p1=$!
$DS ingest -q a.pcap 2>e2 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
set -e
[ $r1 -eq 0 ] && [ $r2 -eq 0 ] || { cat e1 e2; fail "same file twice at once: exit codes $r1 $r2 (want 0 and 0)"; }
[ "$(cat e1 e2 | grep -c "skipped .*already ingested")" -eq 1 ] || { cat e1 e2; fail "want one 'skipped ... already ingested' line"; }
solo_a=$($DS stats --db solo.db --format json >/dev/null; rm -f x.db*; $DS ingest -q --db x.db a.pcap; $DS stats --db x.db --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
[ "$(total)" -eq "$solo_a" ] || fail "same file twice: counted $(total), once is $solo_a"
# kill -9 in the middle of an ingest: the store stays as it was, and still works
$DS synth -q -o big.pcap --days 30 --rate 60000 --seed 13
before=$(store_sum)
$DS ingest -q big.pcap & p=$!
sleep 0.5; kill -9 $p 2>/dev/null || true; wait $p 2>/dev/null || true
$DS stats > /dev/null || fail "store unreadable after kill"
[ "$(total)" -eq "$solo_a" ] || fail "killed ingest changed the counts"
$DS ingest -q b.pcap || fail "ingest after a kill failed"
echo "concurrency and kill ok (store sum before kill $before)"
