#!/usr/bin/env bash
# coverage.sh: what the store knows of each sensor's observing hours (issue #19, "Coverage is data").
#  1. A 30-day capture of two /24 sensors in which osaka is dark for exactly 10 days (its packets
#     removed, hour-aligned): `stats` gives osaka 20 covered days and tokyo 30, names the outage
#     with its dates as inferred, and --threads 2 gives the same.
#  2. The same outage declared in the configuration ([sensor.osaka] outage = ...) is "declared";
#     a bad declaration is a clear error naming it.
#  3. `ingest --covers FROM..TO` vouches for quiet hours at both ends of a capture; it takes one
#     file and a well-formed span.
#  4. A pcapng whose Interface Statistics Block says the interface captured 5 hours, with packets
#     in 1 of them: 5 hours covered.
#  5. A store written before coverage was kept (its coverage rows deleted) gets rows from its
#     per-file counts at its next open: covered as observed, no inferred outage.
#  6. Records with impossible timestamps (2097, 1970) change no coverage span, hour or outage.
#  7. tcpdump's vsock-1.pcapng, whose interface statistics say 1970, does not stretch coverage.
source "$(dirname "$0")/lib.bash"
need python3
write_conf
PY=$ROOT/tests/e2e/pcap_drop.py
sj() { "$DS" stats --format json "$@"; }
field() { # sensor key: a field of stats JSON from stdin
    python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin) if x["sensor"]==sys.argv[1]][0]; v=r[sys.argv[2]]; print(json.dumps(v) if isinstance(v,(list,dict)) else v)' "$1" "$2"
}

# ---- 1. an inferred outage, exactly
"$DS" synth -c darkscope.conf -o q.pcap --days 30 --start 2023-07-01 --rate 6000 --seed 4 -q
A=$(date -u -d 2023-07-10T00:00:00Z +%s); B=$(date -u -d 2023-07-20T00:00:00Z +%s)
dropped=$(python3 "$PY" q.pcap q_out.pcap 203.0.113.0/24 "$A" "$B")
[ "$dropped" -gt 10000 ] || fail "pcap_drop removed only $dropped packets"
"$DS" ingest -q q_out.pcap
sj > s1.json
[ "$(field osaka covered_days < s1.json)" = "20.0" ] || fail "osaka covered $(field osaka covered_days < s1.json) days, not 20"
[ "$(field tokyo covered_days < s1.json)" = "30.0" ] || fail "tokyo covered $(field tokyo covered_days < s1.json) days, not 30"
out=$(field osaka outages < s1.json)
[ "$out" = '[{"from": "2023-07-10 00:00:00", "to": "2023-07-20 00:00:00", "hours": 240, "kind": "inferred", "open": false}]' ] ||
    fail "osaka's outage: $out"
[ "$(field tokyo outages < s1.json)" = "[]" ] || fail "tokyo has outages: $(field tokyo outages < s1.json)"
"$DS" stats > s1.txt
grep -q "^OUTAGE: sensor osaka 2023-07-10 00:00:00 .. 2023-07-20 00:00:00 (10 d 0 h, inferred" s1.txt ||
    fail "stats does not name the outage: $(cat s1.txt)"
mv store.db j1.db; mv store.db-chunks j1.db-chunks 2>/dev/null || true
"$DS" ingest -q -j 2 q_out.pcap
sj > s2.json
cmp -s <(python3 -c 'import json,sys; [print(r["sensor"], r["covered_days"], r["outages"]) for r in json.load(open(sys.argv[1]))]' s1.json) \
       <(python3 -c 'import json,sys; [print(r["sensor"], r["covered_days"], r["outages"]) for r in json.load(open(sys.argv[1]))]' s2.json) ||
    fail "-j2 coverage differs from -j1"

# ---- 2. declared outages
cp darkscope.conf plain.conf
printf '[sensor.osaka]\noutage = 2023-07-10..2023-07-20\n' >> darkscope.conf
out=$(sj | field osaka outages)
[ "$out" = '[{"from": "2023-07-10 00:00:00", "to": "2023-07-20 00:00:00", "hours": 240, "kind": "declared", "open": false}]' ] ||
    fail "declared outage: $out"
printf '[sensor.tokyo]\noutage = 2023-07-20..2023-07-10\n' >> darkscope.conf
if "$DS" stats > /dev/null 2> err.txt; then fail "a reversed outage span was accepted"; fi
grep -q "outage '2023-07-20..2023-07-10'" err.txt || fail "no clear error for a bad outage: $(cat err.txt)"
cp plain.conf darkscope.conf

# ---- 3. ingest --covers
rm -f store.db*
"$DS" synth -c darkscope.conf -o d.pcap --days 1 --start 2023-08-02 --rate 6000 --seed 5 -q
"$DS" ingest -q --sensor tokyo --covers 2023-08-01..2023-08-04 d.pcap
[ "$(sj | field tokyo covered_days)" = "3.0" ] || fail "--covers: tokyo covered $(sj | field tokyo covered_days) days, not 3"
if "$DS" ingest -q --covers 2023-08-01..2023-08-04 d.pcap q.pcap 2> err.txt; then fail "--covers took two files"; fi
grep -q "one capture" err.txt || fail "--covers with two files: $(cat err.txt)"
if "$DS" ingest -q --covers 2023-08-04..2023-08-01 d.pcap 2> err.txt; then fail "--covers took a reversed span"; fi
grep -q "FROM before TO" err.txt || fail "--covers reversed: $(cat err.txt)"

# ---- 4. pcapng interface statistics
rm -f store.db*
python3 - <<'EOF'
import struct
T0 = 1690848000                       # 2023-08-01T00:00:00Z
def block(t, body):
    body += b'\0' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack('<II', t, n) + body + struct.pack('<I', n)
def ts(sec):
    us = sec * 1000000
    return struct.pack('<II', us >> 32, us & 0xffffffff)
shb = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
idb = block(1, struct.pack('<HHI', 101, 0, 65535))      # LINKTYPE_RAW
pkts = b''
for i in range(30):                   # SYNs to 198.51.100.7:23 between 01:00 and 02:00
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 40, i, 0, 64, 6, 0, bytes([100, 1, 2, i + 1]), bytes([198, 51, 100, 7]))
    tcp = struct.pack('>HHIIBBHHH', 40000 + i, 23, i, 0, 0x50, 0x02, 1024, 0, 0)
    pkt = ip + tcp
    pkts += block(6, struct.pack('<I', 0) + ts(T0 + 3600 + i * 60) + struct.pack('<II', len(pkt), len(pkt)) + pkt)
opts = struct.pack('<HH', 2, 8) + ts(T0) + struct.pack('<HH', 3, 8) + ts(T0 + 5 * 3600) + struct.pack('<HH', 0, 0)
isb = block(5, struct.pack('<I', 0) + ts(T0 + 5 * 3600) + opts)
open('isb.pcapng', 'wb').write(shb + idb + pkts + isb)
EOF
"$DS" ingest -q --sensor tokyo isb.pcapng
cd_=$(sj | field tokyo covered_days)
python3 -c "import sys; sys.exit(abs($cd_ - 5/24) > 1e-4)" || fail "pcapng ISB: tokyo covered $cd_ days, not 5 hours"

# ---- 5. a store from before coverage: rows made from the counts at its next open
cp j1.db old.db; cp j1.db-chunks old.db-chunks
sqlite3 old.db "DELETE FROM coverage" || skip "sqlite3 not installed"
[ "$(sqlite3 old.db 'SELECT count(*) FROM coverage')" = 0 ] || fail "coverage rows not deleted"
out=$("$DS" stats --db old.db --format json)
[ "$(sqlite3 old.db 'SELECT count(*) FROM coverage WHERE hours IS NULL')" = 2 ] || fail "no backfilled rows"
[ "$(echo "$out" | field osaka outages)" = "[]" ] || fail "backfilled rows inferred an outage"
[ "$(echo "$out" | field osaka covered_days)" = "30.0" ] || fail "backfilled osaka: $(echo "$out" | field osaka covered_days)"
# ---- 6. Records with impossible timestamps (issue #19 item 3) move
#      neither the span nor the hours: the same coverage as the clean file
python3 - q_out.pcap bad.pcap <<'EOF2'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
o, i = 24, 0
while o + 16 <= len(d):
    incl = struct.unpack('<I', d[o + 8:o + 12])[0]
    if i == 1000:
        d[o:o + 4] = struct.pack('<I', 0xF0000000)     # 2097
    if i == 2000:
        d[o:o + 4] = struct.pack('<I', 1)              # 1970
    o += 16 + incl
    i += 1
open(sys.argv[2], 'wb').write(d)
EOF2
"$DS" ingest -q --db bad.db bad.pcap 2> err.txt || fail "bad.pcap: $(cat err.txt)"
sj --db bad.db > s3.json
for s in osaka tokyo; do
    [ "$(field $s covered_days < s3.json)" = "$(field $s covered_days < s1.json)" ] || fail "bad timestamps changed $s's coverage"
    [ "$(field $s outages < s3.json)" = "$(field $s outages < s1.json)" ] || fail "bad timestamps changed $s's outages"
done
[ "$(sqlite3 bad.db 'SELECT count(*) FROM coverage WHERE first_ns < 1688169600e9 OR last_ns >= 1690848000e9')" = 0 ] ||
    fail "a coverage span reaches outside July 2023"

# ---- 7. real pcapng statistics: tcpdump's vsock-1.pcapng has an ISB whose start is in 1970 (units
#      written wrong); it must not stretch the coverage over 47 years
V=${DS_CORPUS:-$ROOT/../shared/corpus/robustness}/tcpdump/vsock-1.pcapng
if [ -f "$V" ]; then
    "$DS" ingest -q -c /dev/null --db v.db --darknet 0.0.0.0/0 --darknet ::/0 "$V" 2> err.txt || fail "vsock-1.pcapng: $(cat err.txt)"
    grep -q "interface statistics give a capture span that does not fit" err.txt || fail "no warning: $(cat err.txt)"
    [ "$(sqlite3 v.db 'SELECT count(*) FROM coverage WHERE last_ns - first_ns > 86400e9 OR source != 1')" = 0 ] ||
        fail "vsock-1.pcapng: a coverage row from its 1970 statistics"
fi
echo "coverage: ok"
