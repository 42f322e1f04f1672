# Re-sent files (issue #19): a capture cut short and then sent whole counts exactly once (the
# whole file supersedes the short one: `top` and `stats` equal a store that only ever saw the
# whole file), the short file sent again is refused, --strict refuses a cut capture without
# touching the store, and re-ingesting a spool skips the stored files with one summary line and
# exit 0.  Also prints (never asserts) how long refusing a stored larger file takes.
source "$(dirname "$0")/lib.bash"
need sqlite3
write_conf
# what the store holds (rows and chunk file), not its bytes: a reader may leave a WAL that the
# next open checkpoints, which moves bytes between the files without changing anything held
store_state() { sqlite3 -readonly "$T/store.db" .dump | md5sum; md5sum < "$T/store.db-chunks"; }
$DS synth -q -o full.pcap --days 3 --rate 20000 --seed 21
size=$(stat -c %s full.pcap)
head -c $((size * 2 / 3 + 7)) full.pcap > cut.pcap   # mid-record, almost surely; checked below

# fresh store with only the whole file: the reference
$DS ingest -q --db whole.db full.pcap
ref_top=$($DS top ports --db whole.db --format json)
ref_stats=$($DS stats --db whole.db --format json)

# the cut file: committed, with a warning
$DS ingest -q cut.pcap 2> e1 || { cat e1; fail "cut file refused"; }
grep -q "warning: .*cut.pcap" e1 || { cat e1; fail "no warning for the cut file (not cut mid-record?)"; }
[ "$($DS stats --format json)" != "$ref_stats" ] || fail "the cut file counted as much as the whole one"

# the whole file: supersedes it, one message, totals exactly those of the whole file alone
$DS ingest -q full.pcap 2> e2 || { cat e2; fail "whole file refused"; }
[ "$(grep -c "full.pcap: supersedes cut.pcap (cut short at [0-9]* bytes, ingested .*): its counts are replaced" e2)" -eq 1 ] ||
    { cat e2; fail "want the supersede message once"; }
[ "$($DS top ports --format json)" = "$ref_top" ] || fail "top ports differs from a store with the whole file only"
[ "$($DS stats --format json)" = "$ref_stats" ] || fail "stats differs from a store with the whole file only"
echo "ok: $(cat e2)"

# the cut file again: skipped as already stored (its bytes are in full.pcap), nothing changes
before=$(store_state)
$DS ingest -q cut.pcap 2> e3 || { cat e3; fail "re-sent cut file: exit status $?"; }
grep -q "skipped cut.pcap: already ingested .*full.pcap" e3 || { cat e3; fail "re-sent cut file not skipped"; }
[ "$(store_state)" = "$before" ] || fail "re-sent cut file changed the store"
[ "$($DS stats --format json)" = "$ref_stats" ] || fail "re-sent cut file changed the counts"
echo "ok: $(cat e3)"

# --strict: a cut capture is an error and the store is not even created
set +e; $DS ingest -q --strict --db strict.db cut.pcap 2> e4; rc=$?; set -e
[ $rc -ne 0 ] || fail "--strict accepted a cut capture"
grep -q "cut.pcap.*--strict" e4 || { cat e4; fail "--strict: unclear error"; }
[ ! -e strict.db ] || fail "--strict created the store"
# ... and into an existing store changes nothing
before=$(store_state)
off=$(grep -o "at offset [0-9]*" e1 | grep -o "[0-9]*$")   # where cut.pcap's cut record starts
head -c $((off + 10)) full.pcap > cut-copy.pcap             # cut inside that record's header
set +e; $DS ingest -q --strict cut-copy.pcap 2> e5; rc=$?; set -e
[ $rc -ne 0 ] && [ "$(store_state)" = "$before" ] || { cat e5; fail "--strict into a store: rc $rc or store changed"; }
$DS ingest -q --strict full.pcap --db strict.db || fail "--strict refused a whole capture"
echo "ok: --strict: $(cat e4)"

# a spool ingested again: stored files skipped in one line, the new one counted once, exit 0
$DS synth -q -o a.pcap --days 1 --rate 5000 --seed 31
$DS synth -q -o b.pcap --days 1 --rate 5000 --seed 32
$DS synth -q -o c.pcap --days 1 --rate 5000 --seed 33
$DS ingest -q --db spool.db a.pcap b.pcap
$DS ingest --db spool.db a.pcap b.pcap c.pcap 2> e6 || { cat e6; fail "spool re-ingest: exit status $?"; }
[ "$(grep -c "skipped" e6)" -eq 1 ] || { cat e6; fail "want one skipped line"; }
grep -q "skipped 2 files already in the store (same bytes); --force counts them again" e6 || { cat e6; fail "summary"; }
[ "$(grep -c "^c.pcap: " e6)" -eq 1 ] && ! grep -q "^[ab].pcap: " e6 || { cat e6; fail "per-file lines"; }
$DS ingest -q --db abc.db a.pcap b.pcap c.pcap
[ "$($DS stats --db spool.db --format json)" = "$($DS stats --db abc.db --format json)" ] || fail "spool: counts differ"
echo "ok: spool: $(grep skipped e6)"

# time to refuse a stored larger file (printed only: the duplicate is not decoded)
$DS synth -q -o large.pcap --days 10 --rate 40000 --seed 41
$DS ingest -q --db large.db large.pcap
t0=$(date +%s.%N); $DS ingest -q --db large.db large.pcap 2>/dev/null; t1=$(date +%s.%N)
echo "timing: refusing a stored $(($(stat -c %s large.pcap) / 1000000)) MB file took $(echo "$t1 - $t0" | bc) s"
echo "re-sent files ok"
