# Bad input: each case gives one error line naming the file (and offset where there is one),
# a non-zero exit, and leaves the store byte-for-byte as it was.  A file already stored is not an
# error: it is skipped (one line, exit 0), the store again unchanged.  A capture cut short in its
# last record is ingested up to the last whole record, with a warning.
source "$(dirname "$0")/lib.bash"
need tcpdump
write_conf
$DS synth -q -o good.pcap --days 1 --rate 3000 --seed 3
$DS ingest -q good.pcap
before=$(store_sum)

expect_error() { # name, pattern, command...
    local name=$1 pat=$2; shift 2
    set +e; "$@" > out.txt 2> err.txt; local rc=$?; set -e
    [ $rc -ne 0 ] || fail "$name: exit status 0"
    [ "$(grep -c . err.txt)" -eq 1 ] || { cat err.txt; fail "$name: expected one error line"; }
    grep -q -- "$pat" err.txt || { cat err.txt; fail "$name: error does not mention '$pat'"; }
    [ "$(store_sum)" = "$before" ] || fail "$name: store changed"
    echo "ok: $name: $(cat err.txt)"
}

echo "this is not a capture file at all" > notpcap.txt
: > empty.pcap
mkdir adir
# a valid header and one record whose caplen is impossible (0x7fffffff)
head -c 24 good.pcap > huge.pcap
printf '\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\x7f\xff\xff\xff\x7f' >> huge.pcap
head -c 1000 /dev/zero >> huge.pcap
expect_error "not a pcap" notpcap.txt $DS ingest -q notpcap.txt
expect_error "empty file" empty.pcap $DS ingest -q empty.pcap
expect_error "empty stdin" "standard input" $DS ingest -q - < /dev/null
expect_error "directory" adir $DS ingest -q adir
expect_error "missing file" nosuch.pcap $DS ingest -q nosuch.pcap
expect_error "impossible length" huge.pcap $DS ingest -q huge.pcap
grep -q "offset 24" err.txt || fail "impossible length: offset 24 not named"
expect_skip() { # name, command...: exit 0, one line saying it was skipped, store unchanged
    local name=$1; shift
    set +e; "$@" > out.txt 2> err.txt; local rc=$?; set -e
    [ $rc -eq 0 ] || { cat err.txt; fail "$name: exit status $rc"; }
    [ "$(grep -c . err.txt)" -eq 1 ] || { cat err.txt; fail "$name: expected one line"; }
    grep -q "skipped .*already ingested" err.txt || { cat err.txt; fail "$name: not skipped as already ingested"; }
    [ "$(store_sum)" = "$before" ] || fail "$name: store changed"
    echo "ok: $name: $(cat err.txt)"
}
expect_skip "re-ingest" $DS ingest -q good.pcap
cp good.pcap renamed.pcap
expect_skip "re-ingest under another name" $DS ingest -q renamed.pcap
# --threads 2: the second thread's reader must report the same key
expect_skip "re-ingest with two threads" $DS ingest -q -j 2 renamed.pcap
# stdin is hashed as it is read, and begin() refuses it inside the transaction
expect_skip "re-ingest from stdin" $DS ingest -q - < good.pcap
expect_error "bad darknet prefix" "not a network prefix" $DS ingest -q --darknet 10.0.0.1/8 --db "$T/store.db" good.pcap
# each bad prefix names its real fault, not always "host bits" (issue #21)
expect_error "prefix length over 32" "prefix length 33 is over 32" $DS ingest -q --darknet 198.51.100.0/33 --db "$T/store.db" good.pcap
expect_error "octet over 255" "octet 3 is 300, over 255" $DS ingest -q --darknet 198.51.300.0/24 --db "$T/store.db" good.pcap
expect_error "three octets" "has 3 parts" $DS ingest -q --darknet 198.51.100/24 --db "$T/store.db" good.pcap
expect_error "prefix length not a number" "prefix length 'x' is not a number" $DS ingest -q --darknet 198.51.100.0/x --db "$T/store.db" good.pcap
expect_error "IPv6 length over 128" "prefix length 129 is over 128 for IPv6" $DS ingest -q --darknet 2001:db8::/129 --db "$T/store.db" good.pcap
expect_error "bad IPv6" "not an IPv6 address" $DS ingest -q --darknet 2001:db8::g/64 --db "$T/store.db" good.pcap
expect_error "host bits" "host bits set below /8 (the network is 10.0.0.0/8)" $DS ingest -q --darknet 10.0.0.1/8 --db "$T/store.db" good.pcap
# [geo] files that are not geo data are refused, not read as "no data" (every source ZZ)
export DARKSCOPE_CACHE_DIR=$T/geo-cache
: > empty.csv
printf 'start,end,country\n# nothing\n' > header.csv
geo_conf() { sed "s|^country = .*|country = $1|" darkscope.conf > geo.conf; }
geo_conf /dev/zero
expect_error "geo country /dev/zero" "/dev/zero: a character device, not a file or a folder" $DS ingest -q --force -c geo.conf good.pcap
geo_conf "$T/empty.csv"
expect_error "geo country empty file" "empty.csv: empty file: not an MMDB or a CSV" $DS ingest -q --force -c geo.conf good.pcap
geo_conf "$T/header.csv"
expect_error "geo country header only" "header.csv: no address ranges" $DS ingest -q --force -c geo.conf good.pcap
expect_error "store is not a database" "not a darkscope store\|database" $DS ingest -q --db notpcap.txt good.pcap

# sensor names "." and ".." (issue #21: accepted, they put --archive uploads beside or outside
# the archive) are refused everywhere a name arrives, with one rule (util/name.h)
NAMERR="is not allowed: names are 1-63 of A-Z a-z 0-9 . _ - and not only dots"
for n in . .. ...; do
    printf '[store]\npath = %s\n[sensor.%s]\ndarknet = 10.0.0.0/8\n' "$T/store.db" "$n" > dots.conf
    expect_error "config [sensor.$n]" "dots.conf:4: sensor name '$n' $NAMERR" $DS ingest -q -c dots.conf good.pcap
    expect_error "ingest --darknet $n=CIDR" "sensor name '$n' $NAMERR" $DS ingest -q --darknet "$n=10.0.0.0/8" --db "$T/store.db" good.pcap
    expect_error "token new $n" "sensor name '$n' $NAMERR" $DS token new "$n" --tokens dots.tokens
    [ ! -e dots.tokens ] || fail "token new $n wrote a tokens file"
    expect_error "sensor --name $n" "sensor name '$n' $NAMERR" $DS sensor --name "$n" --read good.pcap --spool sp --darknet 10.0.0.0/8
    [ ! -e sp ] || fail "sensor --name $n made a spool"
done
expect_error "sensor name of 64 characters" "$NAMERR" $DS token new "$(printf 'a%.0s' $(seq 64))" --tokens dots.tokens
expect_error "sensor name with a slash" "sensor name 'a/b' $NAMERR" $DS ingest -q --darknet "a/b=10.0.0.0/8" --db "$T/store.db" good.pcap
# names with dots that are not only dots stay good
$DS token new .a --tokens dots.tokens > /dev/null 2>&1 || fail "token new .a refused"
$DS token new a..b --tokens dots.tokens > /dev/null 2>&1 || fail "token new a..b refused"
$DS token new "$(printf 'a%.0s' $(seq 63))" --tokens dots.tokens > /dev/null 2>&1 || fail "a 63-character name refused"

# a bad first file must not even create the store
rm -f other.db
set +e; $DS ingest -q --db other.db notpcap.txt 2>/dev/null; set -e
[ ! -e other.db ] || fail "a failed first ingest created the store"

# cut short: an interrupted capture is ingested up to its last whole record
$DS synth -q -o cut.pcap --days 1 --rate 3000 --seed 4
size=$(stat -c %s cut.pcap)
head -c $((size - 20)) cut.pcap > cut2.pcap
whole=$( (tcpdump -nr cut2.pcap 2>/dev/null || true) | wc -l)
$DS ingest -q cut2.pcap 2> warn.txt || fail "cut-short capture refused"
grep -q "warning" warn.txt || fail "no warning for a cut-short capture"
got=$($DS stats --format json | python3 -c 'import json,sys; print(sum(r["packets"]+r["outside"]+r["non_ip"]+r["truncated"]+r["fragments"]+r["malformed"]+r["unknown_link"]+r["bad_timestamp"] for r in json.load(sys.stdin)))')
good=$(tcpdump -nr good.pcap 2>/dev/null | wc -l)
[ "$got" -eq $((good + whole)) ] || fail "cut-short: stored $got records, expected $good + $whole"
echo "all bad input handled"
