# The ClickHouse store (issue #23), against a server of the test's own (clickhouse.bash: Debian's
# clickhouse-server, loopback, a temporary directory; skipped when it is not installed).
#   differential  the same captures (synthetic, and ../shared/corpus/realism/ when present)
#                 ingested into a SQLite store and a ClickHouse store give byte-identical `top`
#                 (several dimensions and filters; on ClickHouse both from the rollup tables and,
#                 under DS_NO_ROLLUP=1, from the per-source rows), `events`, `report --format
#                 json` and `stats`; and test_ch_diff the same cubes and filtered `top` field for field
#   rollups       `top` reads them (a row added to rollup_service shows); a store from before
#                 the rollup tables answers from the per-source rows until `store migrate`
#                 builds its files' rollups, then from them, the same bytes
#   duplicates    the same bytes refused on both, with the same message
#   kill          an ingest that dies with every row sent but its files row (DS_CH_FAULT, as a
#                 kill -9 there) leaves nothing visible (its rollup rows neither); the next ingest
#                 deletes its rows and counts the file once
#   bad servers   connection refused, an HTTP 500 with an error body, an old version, a bad URL:
#                 each a clear error naming the problem
#   store init / migrate / info; TTLs: applied on a server >= 19.6, refused naming the version
#                 on an older one (18.16), refused on SQLite
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
need python3
ch_start ds
write_conf
sed "s|^path = .*|url = $CH_URL|" darkscope.conf > ch.conf
echo "ClickHouse $CH_VERSION on 127.0.0.1:$CH_HTTP"

# ---- store init / migrate / info
$DS store init -c ch.conf > init.out || fail "store init: $(cat init.out)"
grep -q "ClickHouse $CH_VERSION, schema 2" init.out || fail "store init: $(cat init.out)"
$DS store migrate -c ch.conf > /dev/null || fail "store migrate failed on a current store"
[ "$(chq "SELECT count() FROM system.tables WHERE database = 'ds'")" -ge 8 ] || fail "store init made too few tables"
$DS store info -c ch.conf | grep -q "ClickHouse $CH_VERSION" || fail "store info does not name the server version"
# ---- TTLs per resolution ([store] ttl_raw_days, ttl_rollup_days): table TTL needs ClickHouse 19.6
sed "s|^url = .*|&\nttl_raw_days = 400\nttl_rollup_days = 800|" ch.conf > ttl.conf
st=0; $DS store migrate -c ttl.conf > ttl.out 2>&1 || st=$?
ttlst=$st
if [ "$(printf '%s\n' "$CH_VERSION" 19.6 | sort -V | head -1)" = 19.6 ]; then
    [ "$st" = 0 ] || fail "store migrate with TTLs: $(cat ttl.out)"
    chq "SHOW CREATE TABLE ds.srcsvc" | grep -q "TTL day + toIntervalDay(400)" || fail "srcsvc has no TTL of 400 days"
    chq "SHOW CREATE TABLE ds.rollup_all" | grep -q "TTL day + toIntervalDay(800)" || fail "rollup_all has no TTL of 800 days"
else
    [ "$st" = 1 ] && grep -q "ttl_days / ttl_raw_days / ttl_rollup_days need ClickHouse 19.6 or later (table TTL); this server is $CH_VERSION" ttl.out ||
        fail "TTLs on ClickHouse $CH_VERSION: $(cat ttl.out)"
fi
sed "s|^url = .*|path = $T/ttl.db\nttl_days = 30|" ch.conf > ttlsq.conf
st=0; $DS store init -c ttlsq.conf > ttl.out 2>&1 || st=$?
[ "$st" = 1 ] && grep -q "ttl_rollup_days apply to a ClickHouse store only" ttl.out || fail "TTLs on SQLite: $(cat ttl.out)"
sed "s|^url = .*|&\nttl_days = 0|" ch.conf > ttl0.conf
st=0; $DS store init -c ttl0.conf > ttl.out 2>&1 || st=$?
[ "$st" != 0 ] && grep -q "store.ttl_days: '0' is not a whole number from 1" ttl.out || fail "ttl_days = 0: $(cat ttl.out)"
echo "TTLs: ClickHouse $CH_VERSION $([ "$ttlst" = 0 ] && echo applies them || echo refuses them, naming 19.6); SQLite refuses them"

# ---- the captures, into both stores
$DS synth -q -o a.pcap --days 14 --rate 4000 --seed 7
$DS synth -q -o b.pcap --days 5 --rate 3000 --seed 8 --start 2023-07-20
files=(a.pcap b.pcap)
REAL=$ROOT/../shared/corpus/realism
for f in "$REAL"/*.pcap*; do [ -f "$f" ] && files+=("$f"); done
for f in "${files[@]}"; do
    $DS ingest -q "$f" 2> sq.err; a=$?
    $DS ingest -q -c ch.conf "$f" 2> ch.err; b=$?
    [ "$a" = "$b" ] || fail "ingest $f: SQLite exit $a, ClickHouse exit $b: $(cat ch.err)"
done
echo "ingested ${#files[@]} captures into both stores"

same=0
compare() { # COMMAND...: the same bytes and exit status from both stores
    local a=0 b=0
    $DS "$@" > sq.out 2>&1 || a=$?
    $DS "$@" -c ch.conf > ch.out 2>&1 || b=$?
    [ "$a" = "$b" ] || fail "$*: SQLite exit $a, ClickHouse exit $b: $(head -3 ch.out)"
    cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$*: the stores answer differently"; }
    same=$((same + 1))
    if [ "$1" = top ]; then   # ClickHouse's other path: the per-source rows (ch_query.c)
        DS_NO_ROLLUP=1 $DS "$@" -c ch.conf > ch.out 2>&1 || b=$?
        cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$* (DS_NO_ROLLUP=1): the stores answer differently"; }
        DS_ROLLUP_DAYS=1 $DS "$@" -c ch.conf > ch.out 2>&1 || b=$?   # the rollup tables, not the month rollups
        cmp -s sq.out ch.out || { diff sq.out ch.out | head -20 >&2; fail "$* (DS_ROLLUP_DAYS=1): the stores answer differently"; }
    fi
}
P=(--from 2023-07-01 --to 2023-07-31)
for fmt in table json; do
    compare top ports "${P[@]}" --format "$fmt"
    compare top countries "${P[@]}" --format "$fmt"
    compare top asns "${P[@]}" -n 30 --format "$fmt"
    compare top sources "${P[@]}" -n 30 --format "$fmt"
done
compare top ports "${P[@]}" -n 0 --format json
compare top ports "${P[@]}" --sensor tokyo --format json
compare top ports "${P[@]}" --class backscatter --format json
compare top countries "${P[@]}" --where port=23/tcp --format json
compare top ports "${P[@]}" --where country=CN --format json
compare top asns "${P[@]}" --where port=445/tcp --format json
# what the rollup tables answer: a sensor, a class, values of the ranked dimension
compare top ports "${P[@]}" --where port=23/tcp --where port=445/tcp --where port=1/udp --format json
compare top countries "${P[@]}" --where country=CN --where country=US --class scan
compare top asns "${P[@]}" --sensor osaka --class backscatter -n 0 --format json
compare top countries "${P[@]}" --sensor tokyo -n 3
compare top ports --from 2023-07-03 --to 2023-07-05 --format json
compare top sources --from 2023-07-20 --to 2023-07-24 --where port=23/tcp --format json
# source rows pushed down (ch_query.c): every source, a sensor, a class, filters on other fields
compare top sources "${P[@]}" -n 0 --format json
compare top sources "${P[@]}" --sensor osaka -n 40 --format json
compare top sources "${P[@]}" --class backscatter -n 25 --format json
compare top sources "${P[@]}" --where country=CN --where port=445/tcp --format json
compare top sources --format json -n 50     # the whole store, the realism captures' IPv6 sources too
# ... and read from srcsvc: no SRCSVC chunk (kind 2) travels, only SOURCES (kind 3) of a few days
DS_CH_TRACE=1 $DS top sources -c ch.conf "${P[@]}" -n 5 > /dev/null 2> trace.err || fail "top sources: $(tail -3 trace.err)"
grep -q "SELECT src AS k, sum(packets)" trace.err || fail "top sources is not pushed down: $(cat trace.err)"
grep -q "PREWHERE kind = 2 " trace.err && fail "top sources read the SRCSVC chunks: $(cat trace.err)"
compare top ports --format json        # the whole store (realism captures of other years)
compare stats
compare stats --format json
compare events "${P[@]}"
compare events "${P[@]}" --format json
compare report "${P[@]}" --format json
echo "differential: $same comparisons byte-identical"

# ---- rollups: read by top; a store from before them, migrated
nfiles=$(chq "SELECT count() FROM ds.files")
[ "$(chq "SELECT count() FROM ds.rollup_files")" = "$nfiles" ] || fail "not every file has its rollups"
[ "$(chq "SELECT count() FROM ds.rollup_all")" -gt 0 ] || fail "no rollup rows"
# a row added to rollup_service (65000/tcp, 10^9 packets) shows in top: the rollups are read
chq "INSERT INTO ds.rollup_service SELECT toDate('2023-07-02'), toInt64(1), toUInt8(0), toUInt32(6 * 65536 + 65000),
     max(file_id), sumState(toUInt64(1000000000)), uniqExactState(toUInt64(1)) FROM ds.rollup_files"
# (DS_ROLLUP_DAYS=1: a whole month with month rollups reads those instead, ch_months.c)
DS_ROLLUP_DAYS=1 $DS top ports -c ch.conf "${P[@]}" -n 1 | grep -q "65000/tcp" || fail "top ports does not read the rollup tables"
[ "$(chq "SELECT count() FROM ds.rollup_months")" -gt 0 ] || fail "ingest built no month rollups"
$DS top ports -c ch.conf "${P[@]}" -n 1 | grep -q "65000/tcp" && fail "top ports over a whole month does not read the month rollups"
DS_NO_ROLLUP=1 $DS top ports -c ch.conf "${P[@]}" -n 1 | grep -q "65000/tcp" && fail "DS_NO_ROLLUP=1 still reads the rollups"
# a store of the release before the rollup tables (which takes the added row away): its tables
# gone, schema 1 (a meta row of a later version: ns of this second's end)
for t in rollup_files rollup_service rollup_country rollup_asn rollup_all; do chq "DROP TABLE ds.$t"; done
chq "INSERT INTO ds.meta SELECT 'schema_version', '1', toUInt64(now()) * 1000000000 + 999999999"
sleep 1
$DS store info -c ch.conf | grep -q "schema 1" || fail "the old store does not say schema 1"
compare top ports "${P[@]}" --format json     # open made the tables, empty: the per-source rows answer
compare top countries "${P[@]}" --class scan
[ "$(chq "SELECT count() FROM ds.rollup_files")" = 0 ] || fail "rollups appeared before store migrate"
$DS store migrate -c ch.conf > mig.out || fail "store migrate: $(cat mig.out)"
grep -q "schema 2 (ready)" mig.out || fail "store migrate: $(cat mig.out)"
grep -q "rollups built for $nfiles files written before them" mig.out || fail "store migrate: $(cat mig.out)"
[ "$(chq "SELECT count() FROM ds.rollup_files")" = "$nfiles" ] || fail "store migrate did not build every file's rollups"
$DS store migrate -c ch.conf > mig.out || fail "store migrate again"
grep -q "rollups built" mig.out && fail "a second store migrate built rollups again: $(cat mig.out)"
for fmt in table json; do
    compare top ports "${P[@]}" --format "$fmt"
    compare top countries "${P[@]}" --format "$fmt"
    compare top asns "${P[@]}" -n 30 --format "$fmt"
done
compare top ports "${P[@]}" --where port=23/tcp --where port=445/tcp --class scan
compare top ports --format json
echo "rollups: read by top; a store from before them migrated, the same answers"
# the cubes (which no CLI command asks the store itself: events and report read a view of the
# chunks) and top with source sets, field for field (tests/unit/test_ch_diff.c; make unit-bins)
UNIT=${DS_UNIT_DIR:-$(dirname "$DS")/tests}/test_ch_diff
if [ -x "$UNIT" ]; then
    DS_SQ_STORE=$T/store.db DS_CH_STORE=$CH_URL "$UNIT" > unit.out 2>&1 || { cat unit.out; fail "test_ch_diff"; }
    echo "cubes and top with source sets: the same (test_ch_diff)"
else
    echo "note: $UNIT not built (make unit-bins): cube comparison not run"
fi

# ---- duplicates: refused on both, same message
a=0; b=0
$DS ingest a.pcap 2> sq.err || a=$?
$DS ingest -c ch.conf a.pcap 2> ch.err || b=$?
[ "$a" = "$b" ] || fail "duplicate: SQLite exit $a, ClickHouse exit $b"
grep -q "already ingested" ch.err || fail "duplicate not refused: $(cat ch.err)"
sed 's/ingested [0-9: -]* UTC/ingested T UTC/' sq.err > sq.e; sed 's/ingested [0-9: -]* UTC/ingested T UTC/' ch.err > ch.e
cmp -s sq.e ch.e || { diff sq.e ch.e; fail "duplicate messages differ"; }

# ---- kill: every row sent, no files row
$DS synth -q -o k.pcap --days 3 --rate 3000 --seed 9 --start 2023-07-08
before=$($DS top ports -c ch.conf "${P[@]}" --format json)
before_stats=$($DS stats -c ch.conf --format json)
st=$( (DS_CH_FAULT=before_files_row "$DS" ingest -q -c ch.conf k.pcap 2>/dev/null; echo $?) 2>/dev/null)
[ "$st" -ge 128 ] || fail "the fault did not kill the ingest (exit $st)"
left=$(chq "SELECT count() FROM ds.chunks WHERE file_id NOT IN (SELECT id FROM ds.files)")
[ "$left" -gt 0 ] || fail "the killed ingest left no rows: the kill came too early to test anything"
[ "$(chq "SELECT count() FROM ds.rollup_all WHERE file_id NOT IN (SELECT id FROM ds.files)")" -gt 0 ] ||
    fail "the killed ingest left no rollup rows: the kill came before they were built"
[ "$($DS top ports -c ch.conf "${P[@]}" --format json)" = "$before" ] || fail "rows of a killed ingest are visible in top"
[ "$($DS stats -c ch.conf --format json)" = "$before_stats" ] || fail "rows of a killed ingest are visible in stats"
$DS ingest -q -c ch.conf k.pcap || fail "re-ingest after the kill failed"
$DS ingest -q k.pcap || fail "ingest into SQLite failed"
for _ in $(seq 100); do   # ALTER ... DELETE is a mutation: it finishes in the background
    left=$(chq "SELECT count() FROM ds.chunks WHERE file_id NOT IN (SELECT id FROM ds.files)")
    [ "$left" = 0 ] && break
    sleep 0.1
done
[ "$left" = 0 ] || fail "the killed ingest's $left chunk rows were not deleted"
for _ in $(seq 100); do
    left=$(chq "SELECT count() FROM ds.rollup_all WHERE file_id NOT IN (SELECT id FROM ds.files)")
    [ "$left" = 0 ] && break
    sleep 0.1
done
[ "$left" = 0 ] || fail "the killed ingest's $left rollup rows were not deleted"
compare top ports "${P[@]}" --format json
compare stats --format json
compare report "${P[@]}" --format json
echo "kill: nothing visible, cleaned up, re-ingested once"

# ---- bad servers
port=$(ch_free_port)
st=0; $DS top ports --db "clickhouse://127.0.0.1:$port/ds" 2> e || st=$?
[ "$st" != 0 ] && grep -q "cannot reach ClickHouse at 127.0.0.1:$port" e || fail "refused connection: $(cat e)"
cat > fake.py <<'PY'
import http.server, sys
version = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        if b'version()' in body:
            out, code = (version + '\n').encode(), 200
        else:
            out, code = b'Code: 999, e.displayText() = DB::Exception: injected failure, e.what() = DB::Exception\n', 500
        self.send_response(code); self.send_header('Content-Length', str(len(out))); self.end_headers()
        self.wfile.write(out)
    def log_message(self, *a): pass
http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()
PY
fake() { # VERSION: a fake server on $port
    python3 fake.py "$port" "$1" & FAKE=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" -d 'SELECT version()' && break; sleep 0.1; done
}
fake 18.16.1
st=0; $DS top ports --db "clickhouse://127.0.0.1:$port/ds" 2> e || st=$?
kill "$FAKE"; wait "$FAKE" 2>/dev/null || true
[ "$st" != 0 ] && grep -q "ClickHouse answered HTTP 500: Code: 999, .*injected failure" e || fail "HTTP 500: $(cat e)"
fake 1.1.54343
st=0; $DS top ports --db "clickhouse://127.0.0.1:$port/ds" 2> e || st=$?
kill "$FAKE"; wait "$FAKE" 2>/dev/null || true
[ "$st" != 0 ] && grep -q "ClickHouse 1.1.54343 is older than 18.16" e || fail "old version: $(cat e)"
st=0; $DS top ports --db "clickhouse://127.0.0.1:$CH_HTTP/" 2> e || st=$?
[ "$st" != 0 ] && grep -q "no database" e || fail "URL without a database: $(cat e)"
st=0; $DS top ports --db "clickhouse://127.0.0.1:$CH_HTTP/nosuch" 2> e || st=$?
[ "$st" != 0 ] && grep -q "no darkscope store there" e || fail "missing database: $(cat e)"
# [store] user and password_file (the package's default user, no password), and a wrong user
: > pw
sed "s|^url = .*|url = $CH_URL\nuser = default\npassword_file = $T/pw|" ch.conf > auth.conf
$DS stats -c auth.conf > /dev/null 2> e || fail "[store] user/password_file: $(cat e)"
sed "s|^user = default|user = nobody|" auth.conf > bad.conf
st=0; $DS stats -c bad.conf 2> e || st=$?
[ "$st" != 0 ] && grep -q "ClickHouse answered HTTP [0-9]*: Code: 192" e || fail "unknown user: $(cat e)"
printf '[store]\nurl = /tmp/x.db\n' > url.conf
st=0; $DS stats -c url.conf 2> e || st=$?
[ "$st" != 0 ] && grep -q "url must be clickhouse://" e || fail "[store] url of a path: $(cat e)"
echo "bad servers: clear errors"
# ---- the same under ASan/UBSan (make sanitize), on a store of its own
if [ -x "$DSAN" ] && [ "$DS" != "$DSAN" ]; then
    sed "s|^url = .*|url = ${CH_URL%/*}/dsan|" ch.conf > san.conf
    $DSAN ingest -q -c san.conf a.pcap || fail "ingest under ASan/UBSan"
    $DS ingest -q --db "$T/san.db" a.pcap || fail "ingest into the reference store"
    for q in "top ports --format json" "top sources -n 10" "stats --format json" "report --format json --period 2023-07"; do
        # shellcheck disable=SC2086
        $DSAN $q -c san.conf > san.out || fail "$q under ASan/UBSan"
        # shellcheck disable=SC2086
        $DS $q --db "$T/san.db" > ref.out || fail "$q on the reference store"
        cmp -s san.out ref.out || fail "$q under ASan/UBSan differs from SQLite"
    done
    echo "ASan/UBSan: ingest, top, stats, report on ClickHouse clean and identical"
fi
echo "PASS clickhouse ($same comparisons)"
