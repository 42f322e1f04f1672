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
usage_error "threads takes" $DS ingest --threads 0 x.pcap
usage_error "choose ports" $DS top flows
usage_error "scan, backscatter or other" $DS top ports --class noise
usage_error "unknown field" $DS top ports --where colour=red
usage_error "two-letter" $DS top ports --where country=CHN
usage_error "PORT/tcp" $DS top ports --where port=99999/tcp
usage_error "YYYY-MM-DD" $DS top ports --from 2023-02-30
# one parser of --from/--to (cli_parse_days) for every query command, naming the bad value
usage_error "YYYY-MM-DD (got 'july')" $DS events --from 2023-07-01 --to july
usage_error "YYYY-MM-DD (got '2023-02-30')" $DS payloads --from 2023-02-30
usage_error "table, json or csv" $DS top ports --format xml
set +e; $DS top ports > /dev/null 2> err.txt; rc=$?; set -e
[ $rc -eq 1 ] && grep -q "no store" err.txt || { cat err.txt; fail "top without a store: $rc"; }
$DS synth -q -o a.pcap --days 3 --rate 20000 --seed 9
$DS ingest -q a.pcap
usage_error "before --from" $DS top ports --from 2023-07-03 --to 2023-07-01
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
if [ -z "${DS_VERSION_SKIP_GIT:-}" ] && git -C "$ROOT" rev-parse --short HEAD > head.txt 2>/dev/null && \
   [ "$DS" = "$ROOT/build/darkscope" ]; then
    grep -q "$(cat head.txt)" v.txt || git -C "$ROOT" describe --tags >/dev/null 2>&1 \
        || fail "version $(cat v.txt) does not name the commit $(cat head.txt) it was built from"
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
