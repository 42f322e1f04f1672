# Re-sent files on the ClickHouse store (issue #23; docs/store.md "Re-sent files",
# docs/clickhouse.md): a capture cut short, then the whole of it (rollup_diff.sh's "resent"
# recipe), into SQLite, one ClickHouse server and a 2-shard cluster: the whole file supersedes
# the short one on each, and every store answers top, stats, events, report byte for byte alike;
# the short file sent again is refused with SQLite's message; an ingest killed after its
# superseded row and before its files row leaves the short file counted and the whole one not.
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
ch_start_cluster ds two
write_conf
ONE=clickhouse://127.0.0.1:$CH_HTTP/one
CL=$CH_CLUSTER_URL
STORES=("$ONE" "$CL")

$DS synth -q -o r.pcap --days 6 --rate 5000 --seed 31
head -c $(( $(stat -c %s r.pcap) / 2 )) r.pcap > r-cut.pcap
$DS synth -q -o k.pcap --days 3 --rate 3000 --seed 32 --start 2023-07-10
head -c $(( $(stat -c %s k.pcap) / 3 )) k.pcap > k-cut.pcap

same=0
compare() { # COMMAND...: each ClickHouse store answers as SQLite
    local a=0 b u
    $DS "$@" > sq.out 2>&1 || a=$?
    for u in "${STORES[@]}"; do
        b=0
        $DS "$@" --db "$u" > ch.out 2>&1 || b=$?
        [ "$a" = "$b" ] || fail "$* on $u: exit $b, SQLite $a: $(head -3 ch.out)"
        cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$* on $u differs from SQLite"; }
        same=$((same + 1))
    done
}
P=(--from 2023-07-01 --to 2023-07-31)
queries() {
    for dim in ports countries asns sources; do compare top "$dim" "${P[@]}" -n 20 --format json; done
    compare stats --format json
    compare events "${P[@]}" --format json
    compare report "${P[@]}" --format json
}
ingest_all() { # FILE: into every store, the same notice on each
    local u
    $DS ingest "$1" 2> sq.err || true
    for u in "${STORES[@]}"; do
        $DS ingest --db "$u" "$1" 2> ch.err || true
        sed 's/ingested [0-9: -]* UTC/ingested T UTC/g; s/[0-9.]* s (read.*//; /^month rollups:/d' sq.err > a.e
        sed 's/ingested [0-9: -]* UTC/ingested T UTC/g; s/[0-9.]* s (read.*//; /^month rollups:/d' ch.err > b.e
        cmp -s a.e b.e || { diff a.e b.e >&2; fail "ingest $1 on $u: its messages differ from SQLite's"; }
    done
}
ingest_all r-cut.pcap
queries
ingest_all r.pcap
grep -q "supersedes r-cut.pcap" sq.err || fail "SQLite did not supersede: $(cat sq.err)"
queries
ingest_all r-cut.pcap
grep -q "a capture cut short whose records r.pcap holds" ch.err || fail "the short file again: $(cat ch.err)"
queries
echo "resent: superseded on both, $same comparisons byte-identical"

# ---- killed between the superseded row and the files row
ingest_all k-cut.pcap
for u in "${STORES[@]}"; do
    before=$($DS top ports --db "$u" "${P[@]}" --format json)
    st=$( (DS_CH_FAULT=before_files_row "$DS" ingest -q --db "$u" k.pcap 2>/dev/null; echo $?) 2>/dev/null)
    [ "$st" -ge 128 ] || fail "the fault did not kill the ingest on $u (exit $st)"
    [ "$($DS top ports --db "$u" "${P[@]}" --format json)" = "$before" ] ||
        fail "$u: a killed superseding ingest changed what counts"
done
dead() { chq "SELECT count() FROM one.superseded WHERE new NOT IN (SELECT id FROM one.files)"; }
[ "$(dead)" = 1 ] || fail "the killed ingest left no superseded row to test"
ingest_all k.pcap
grep -q "supersedes k-cut.pcap" ch.err || fail "k.pcap did not supersede after the kill: $(cat ch.err)"
for _ in $(seq 100); do [ "$(dead)" = 0 ] && break; sleep 0.1; done
[ "$(dead)" = 0 ] || fail "the killed ingest's superseded row was not deleted"
queries
echo "kill: the short file still counted, the dead row cleaned up, superseded once"
echo "PASS clickhouse_resend ($same comparisons)"
