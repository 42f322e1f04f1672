# The command line: every subcommand has --help (exit 0), usage errors exit 2 with a message,
# query errors name what was wrong, and the progress line appears only on a terminal.
source "$(dirname "$0")/lib.bash"
write_conf
for c in ingest top stats synth report events; do
    $DS $c --help > h.txt || fail "$c --help exit status"
    grep -q "usage: darkscope $c" h.txt || fail "$c --help has no usage line"
done
$DS --help | grep -q "commands:" || fail "darkscope --help"
# libcurl, libmicrohttpd and cairo/pango are loaded by the modules that use them, on first use
# (src/util/dynlib.h): linking them again would add ~26 ms to every command's start
if command -v readelf > /dev/null; then
    ! readelf -d "$DS" | grep -E "NEEDED.*(curl|microhttpd|cairo|pango|glib|gobject)" ||
        fail "darkscope links a library that should be loaded on first use"
fi
usage_error() { # pattern, command...
    local pat=$1; shift
    set +e; "$@" > /dev/null 2> err.txt; local rc=$?; set -e
    [ $rc -eq 2 ] || { cat err.txt; fail "'$*': exit $rc, want 2"; }
    grep -q -- "$pat" err.txt || { cat err.txt; fail "'$*': message lacks '$pat'"; }
}
usage_error "not a command" $DS frobnicate
usage_error "name at least one capture" $DS ingest
usage_error "threads: '0' is out of range (1 to 64)" $DS ingest --threads 0 x.pcap
usage_error "choose ports" $DS top flows
usage_error "scan, backscatter or other" $DS top ports --class noise
usage_error "unknown field" $DS top ports --where colour=red
usage_error "two-letter" $DS top ports --where country=CHN
usage_error "PORT/tcp" $DS top ports --where port=99999/tcp
# a date-shaped day that does not exist says why (issue #21); other text is a format error
usage_error "--from 2023-02-30: no such date: February has 28 days in 2023" $DS top ports --from 2023-02-30
usage_error "--to 2024-02-30: no such date: February has 29 days in 2024" $DS top ports --to 2024-02-30
usage_error "no such date: April has 30 days" $DS events --from 2023-04-31
usage_error "no such month: 13" $DS top ports --from 2023-13-01
usage_error "--start 2023-02-29: no such date: February has 28 days in 2023" $DS synth -o x.pcap --start 2023-02-29
# one parser of --from/--to (cli_parse_days) for every query command, naming the bad value
usage_error "YYYY-MM-DD (got 'july')" $DS events --from 2023-07-01 --to july
usage_error "--from 2023-02-30: no such date" $DS payloads --from 2023-02-30
usage_error "YYYY-MM-DD (got '2023-7-1')" $DS payloads --from 2023-7-1
# numbers: one parser (util/num.h) everywhere; out of range is refused, never "all" or wrapped
usage_error "--limit: '99999999999999999999' is out of range (0 to 1000000000)" $DS top ports --limit 99999999999999999999
usage_error "--limit: '-1' is not a whole number" $DS top ports --limit -1
usage_error "--limit: '99999999999999999999' is out of range" $DS payloads --limit 99999999999999999999
usage_error "--top: '99999999999999999999' is out of range (1 to 64)" $DS report --period 2023Q3 --top 99999999999999999999
usage_error "--threads: '18446744073709551617' is out of range" $DS ingest -j 18446744073709551617 x.pcap
usage_error "--days: '1e3' is not a whole number" $DS synth -o x.pcap --days 1e3
usage_error "--rate (packets per sensor per day): 'inf' is not a number" $DS synth -o x.pcap --rate inf
usage_error "--seed: '18446744073709551616' is out of range" $DS synth -o x.pcap --seed 18446744073709551616
usage_error "--max-segment: '17179869184G' is out of range" $DS collector --listen :0 --tokens t --max-segment 17179869184G
usage_error "--retention: '0' is out of range (1 to 36500)" $DS collector --listen :0 --tokens t --retention 0
usage_error "--snaplen: '99999999999' is out of range (64 to 262144)" $DS sensor --read x.pcap -n s -s sp --snaplen 99999999999
usage_error "--zstd-level: 'abc' is not a whole number" $DS sensor --read x.pcap -n s -s sp --zstd-level abc
usage_error "--spool-max: '16E' is not a size" $DS sensor --read x.pcap -n s -s sp --spool-max 16E
usage_error "--where asn=AS4294967296" $DS top ports --where asn=AS4294967296
# report -o: a file name whose extension names no format is refused, unless --format says it
usage_error "-o x.pdf: cannot tell the format" $DS report --period 2023Q3 -o x.pdf
grep -q ".html, .htm (html), .md, .markdown (md), .json (json)" err.txt || fail "report -o x.pdf: the known extensions are not listed"
[ ! -e x.pdf ] || fail "report -o x.pdf wrote a file"
usage_error "cannot tell the format" $DS report --period 2023Q3 -o report
# token --help names the sensor's real option and does not claim NAME is checked
$DS token --help > th.txt
grep -q -- "--token FILE" th.txt || fail "token --help does not name sensor --token FILE"
! grep -q -- "--token-file" th.txt || fail "token --help names --token-file, which does not exist"
$DS sensor --help | grep -q -- "--token FILE" || fail "sensor --help lacks --token FILE"
usage_error "table, json or csv" $DS top ports --format xml
set +e; $DS top ports > /dev/null 2> err.txt; rc=$?; set -e
[ $rc -eq 1 ] && grep -q "no store" err.txt || { cat err.txt; fail "top without a store: $rc"; }
$DS synth -q -o a.pcap --days 3 --rate 20000 --seed 9
$DS ingest -q a.pcap
usage_error "before --from" $DS top ports --from 2023-07-03 --to 2023-07-01
# -o with an unknown extension is fine when --format names the format; .JSON is json (JSON: no
# figures, so no fontconfig, whose caches LeakSanitizer reports, under build-sanitize)
$DS report --period 2023-07-01..2023-07-03 --format json -o r.txt 2>/dev/null || fail "report --format json -o r.txt"
python3 -c 'import json; json.load(open("r.txt"))' || fail "report --format json -o r.txt did not write JSON"
$DS report --period 2023-07-01..2023-07-03 -o R.JSON 2>/dev/null || fail "report -o R.JSON"
python3 -c 'import json; json.load(open("R.JSON"))' || fail "report -o R.JSON did not write JSON"
set +e; $DS top ports --sensor nosuch > /dev/null 2> err.txt; rc=$?; set -e
[ $rc -ne 0 ] && grep -q "no such sensor" err.txt || fail "unknown sensor accepted"
# global options before the command (issue #21), as git and docker take them: the same as after it
mkdir elsewhere
(cd elsewhere && $DS -c "$T/darkscope.conf" top ports --format csv) > g1.csv || fail "darkscope -c FILE top ports"
(cd elsewhere && $DS top ports -c "$T/darkscope.conf" --format csv) > g2.csv
cmp -s g1.csv g2.csv && [ -s g1.csv ] || fail "-c before the command differs from -c after it"
(cd elsewhere && $DS --config="$T/darkscope.conf" top ports --format csv | cmp -s - "$T/g1.csv") || fail "--config=FILE before the command"
(cd elsewhere && $DS -c"$T/darkscope.conf" top ports --format csv | cmp -s - "$T/g1.csv") || fail "-cFILE before the command"
(cd elsewhere && $DS --db "$T/store.db" top ports --format csv | cmp -s - "$T/g1.csv") || fail "--db PATH before the command"
(cd elsewhere && $DS -c /nonexistent.conf top ports -c "$T/darkscope.conf" --format csv | cmp -s - "$T/g1.csv") \
    || fail "the command's own -c does not win over the global one"
usage_error "needs a value" $DS -c
usage_error "not a global option" $DS --frobnicate top ports
usage_error "takes no configuration" $DS -c "$T/darkscope.conf" token list --tokens t
usage_error "has no store" $DS --db x.db synth -o y.pcap
# -V / --version: the version compiled in (git describe at build time, else the release number)
for v in -V --version version; do
    $DS $v > v.txt || fail "darkscope $v exit status"
    grep -Eq '^darkscope [0-9A-Za-z][0-9A-Za-z.+~-]*$' v.txt || fail "darkscope $v printed: $(cat v.txt)"
done
# the version is what the build compiled in (build/gen/ds_build.h: git describe, else 0.1.0)
gen=$(dirname "$DS")/gen/ds_build.h
if [ -f "$gen" ]; then
    want=$(sed -n 's/^#define DS_VERSION "\(.*\)"$/\1/p' "$gen")
    [ "$(cat v.txt)" = "darkscope $want" ] || fail "darkscope -V: $(cat v.txt), the build compiled in $want"
fi
# a period with no data is an empty table, not an error: the period is what was asked
$DS top ports --from 2024-01-01 --to 2024-01-02 --format json | python3 -c 'import json,sys; assert json.load(sys.stdin) == []'
# JSON rows carry the fields the issue names
$DS top sources -n 3 --format json | python3 -c '
import json, sys
rows = json.load(sys.stdin)
assert len(rows) == 3
for r in rows:
    for k in ("key", "packets", "share", "per_ip_per_day", "sources", "country", "asn"):
        assert k in r, k'
# progress: on a terminal only (script(1) gives the command a pty)
if command -v script > /dev/null; then
    $DS synth -q -o big.pcap --days 2 --rate 400000 --seed 10
    script -qec "$DS ingest --db $T/p.db -c $T/darkscope.conf big.pcap" /dev/null > tty.txt
    grep -q "M/s" tty.txt || { cat -v tty.txt | head; fail "no progress line on a terminal"; }
    $DS ingest --db "$T/p2.db" big.pcap 2> pipe.txt
    ! grep -q "M/s, [0-9]*%" pipe.txt || fail "progress line written to a pipe"
fi
echo "cli ok"
