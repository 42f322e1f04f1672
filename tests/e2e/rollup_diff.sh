# `top ports|countries|asns` from the rollups (analysis/top_rollup.c) is byte for byte what the
# SRCSVC path gives (DS_NO_ROLLUP=1), on every store built here and every query either path
# takes: no filter, --class, --sensor, --from/--to, --where on the ranked dimension (rollups),
# --where on another dimension and tool= (SRCSVC either way), --limit 0 and 3.
# So is `report --format json` (its tables and series from the rollups, analysis/cube.c; its
# mixes and focus splits from one shared SRCSVC pass): whole, per sensor, with focus sections on
# a service and a region, and with --exclude research (SRCSVC either way).
#   quarter  synth, 2 sensors x 92 days, ingested with --threads 2 (two threads' chunks a day)
#   v6       a sensor with an IPv6 darknet: IPv6 sources (63-bit keys) beside IPv4 ones, Tokyo days
#   mixed    one file ingested as darkscope did before rollups (DS_INGEST_NO_ROLLUP=1) and one
#            after: days without rollups make the query read SRCSVC, days with them the rollups
#   resent   a capture cut short, then the whole of it: the file superseded takes its rollups along
# Month rollups (store/rollup_months.h): ingest builds the closed months' chunks, and every query
# over a whole month reads them; each compare above then checks them against SRCSVC too, and
# DS_ROLLUP_DAYS=1 (the day chunks only) must give the same bytes.  A late file for a built month
# removes its chunks and the ingest builds them again.
source "$(dirname "$0")/lib.bash"

DIMS="ports countries asns"
QUERIES=("" "--class scan" "--class backscatter" "--class other" "--sensor tokyo" "--sensor osaka --class scan"
         "--where port=23/tcp" "--where port=23/tcp --where port=445/tcp --class scan"
         "--where country=CN --where country=US" "--where asn=4134 --where asn=0"
         "--where tool=mirai" "--where country=CN --where port=23/tcp")
n=0
compare() { # NAME [extra args for every query]
    local name=$1; shift
    local d q lim
    for d in $DIMS; do
        for q in "${QUERIES[@]}"; do
            for lim in 0 3; do
                # shellcheck disable=SC2086
                $DS top "$d" --format json --limit $lim $q "$@" > new.json 2> new.err || fail "$name: top $d $q: $(cat new.err)"
                # shellcheck disable=SC2086
                DS_NO_ROLLUP=1 $DS top "$d" --format json --limit $lim $q "$@" > old.json 2> old.err ||
                    fail "$name: old path top $d $q: $(cat old.err)"
                cmp -s new.json old.json || { diff old.json new.json | head -20 >&2; fail "$name: top $d --limit $lim $q $*: the rollups differ"; }
                n=$((n + 1))
            done
        done
    done
}
report_cmp() { # NAME PERIOD [extra args]
    local name=$1 period=$2; shift 2
    $DS report --period "$period" --format json -o new-r.json "$@" > /dev/null 2> new.err || fail "$name: report $*: $(cat new.err)"
    DS_NO_ROLLUP=1 $DS report --period "$period" --format json -o old-r.json "$@" > /dev/null 2> old.err ||
        fail "$name: old path report $*: $(cat old.err)"
    cmp -s new-r.json old-r.json || { diff old-r.json new-r.json | head -20 >&2; fail "$name: report --period $period $*: the rollups differ"; }
    n=$((n + 1))
}
rollup_chunks() { sqlite3 "$T/store.db" "SELECT count(*) FROM chunks WHERE kind BETWEEN 32 AND 35" 2>/dev/null || echo 0; }
month_chunks() { sqlite3 "$T/store.db" "SELECT count(*) FROM chunks WHERE kind BETWEEN 40 AND 43" 2>/dev/null || echo 0; }
days_cmp() { # NAME ARGS...: months and days alone give the same top
    local name=$1; shift
    local d
    for d in $DIMS; do
        $DS top "$d" --format json "$@" > new.json 2> new.err || fail "$name: top $d $*: $(cat new.err)"
        DS_ROLLUP_DAYS=1 $DS top "$d" --format json "$@" > old.json 2> old.err || fail "$name: days top $d $*: $(cat old.err)"
        cmp -s new.json old.json || { diff old.json new.json | head -20 >&2; fail "$name: top $d $*: months differ from days"; }
        n=$((n + 1))
    done
}

# quarter, two sensors, two ingest threads
write_conf
$DS synth -q -o q.pcap --days 92 --rate 4000 --seed 5
$DS ingest -q --threads 2 q.pcap
[ "$(rollup_chunks)" -gt 0 ] || fail "quarter: ingest wrote no rollup chunk"
# three closed months x two sensors x four dimensions
[ "$(month_chunks)" -eq 24 ] || fail "quarter: $(month_chunks) month chunks, not 24"
compare quarter
compare quarter --from 2023-08-01 --to 2023-08-31 --class scan
days_cmp quarter
days_cmp quarter --from 2023-08-01 --to 2023-09-30 --sensor osaka
days_cmp quarter --from 2023-07-02 --to 2023-09-29
# a late file for August: its month chunks go in the file's transaction, and come back built
$DS synth -q -o late.pcap --days 1 --start 2023-08-12 --rate 3000 --seed 77
$DS ingest -q late.pcap
[ "$(month_chunks)" -eq 24 ] || fail "late: $(month_chunks) month chunks after the late file, not 24"
days_cmp late
days_cmp late --from 2023-08-01 --to 2023-08-31
# one sensor's August without month chunks (removed by hand, which docs/store.md says is safe):
# August is then read per sensor, osaka's days beside tokyo's month
sqlite3 "$T/store.db" "DELETE FROM chunks WHERE kind BETWEEN 40 AND 43 AND day = 19570 AND sensor_id = (SELECT id FROM sensors WHERE name = 'osaka')"
[ "$(month_chunks)" -eq 20 ] || fail "uneven: $(month_chunks) month chunks, not 20"
days_cmp uneven
days_cmp uneven --from 2023-08-01 --to 2023-09-30
compare uneven --from 2023-08-01 --to 2023-08-31
compare quarter --from 2023-08-10 --to 2023-08-20
report_cmp quarter 2023-08
report_cmp quarter 2023-08 --sensor osaka --focus 23/tcp --focus CN
report_cmp quarter 2023-08-15 --focus 445/tcp --focus US --lang ja
printf '[detect]\nresearch_asns = 4134\n' >> darkscope.conf
report_cmp quarter 2023-08 --exclude research --focus 23/tcp
$DS top ports --limit 1 --format json | grep -q '"sources"' || fail "quarter: no sources column"

# IPv6 sources
rm -f store.db*
write_conf_sensors Asia/Tokyo tokyo=198.51.100.0/24 osaka=203.0.113.0/24
printf 'darknet6 = 2001:db8:100::/48\n' >> darkscope.conf
$DS synth -q -o v6.pcap --days 8 --rate 6000 --seed 11 --sensor tokyo=198.51.100.0/24,2001:db8:100::/48 \
    --sensor osaka=203.0.113.0/24
$DS ingest -q v6.pcap
v6src=$($DS top sources --limit 0 --format json | grep -c '"[0-9a-f]*:[0-9a-f:]*"' || true)
[ "$v6src" -gt 0 ] || fail "v6: synth made no IPv6 source"
compare v6
report_cmp v6 2023-07-03 --focus 23/tcp --focus JP

# a store half written before rollups existed
rm -f store.db*
write_conf
$DS synth -q -o a.pcap --days 10 --rate 5000 --seed 21
$DS synth -q -o b.pcap --days 10 --start 2023-07-06 --rate 5000 --seed 22
DS_INGEST_NO_ROLLUP=1 $DS ingest -q a.pcap
[ "$(rollup_chunks)" -eq 0 ] || fail "mixed: DS_INGEST_NO_ROLLUP=1 still wrote rollups"
$DS ingest -q b.pcap
compare mixed
compare mixed --from 2023-07-11 --to 2023-07-15   # b's days alone: from the rollups
report_cmp mixed 2023-07 --focus 23/tcp

# a capture cut short, then sent whole: the first file's rollups go with its other chunks
rm -f store.db*
$DS synth -q -o r.pcap --days 6 --rate 5000 --seed 31
head -c $(( $(stat -c %s r.pcap) / 2 )) r.pcap > r-cut.pcap
$DS ingest -q r-cut.pcap 2>/dev/null || true
$DS ingest -q r.pcap
compare resent
echo "rollups and SRCSVC agree on $n queries and reports"
