#!/usr/bin/env bash
# realism_imperfect.sh: issue #19's imperfections on real captures (../shared/corpus/realism/,
# provenance in its SOURCES.tsv), not only on darkscope's own synthetic traffic.
#  1. Truncated, then complete: StopDDoS's randomly spoofed SYN flood (37,841 SYNs to one
#     address) cut inside a record, ingested, then the whole capture: the store equals one that
#     only saw the whole capture (`top ports`, `top sources`, `stats`), the supersede is said once,
#     the cut copy sent again is skipped (exit 0), and --strict refuses the cut copy.
#  2. Bad timestamps in a real pcapng: Chris Sanders' nmap SYN scan of scanme.nmap.org (1,994
#     SYNs to 64.13.134.52, 2010-07-04), two Enhanced Packet Blocks' times patched to 2097 and to a
#     year earlier: two bad_timestamp records with a warning naming the file, the other packets
#     counted as before, and `top`'s default period still the capture's one day.
#  3. Coverage of a real capture: the flood's own span, no outage inferred inside it.
source "$(dirname "$0")/lib.bash"
need python3
R=${DS_REALISM:-$ROOT/../shared/corpus/realism}
FLOOD=$R/stopddos_pkt.TCP.synflood.spoofed.pcap
NMAP=$R/chrissanders_synscan.pcapng
[ -f "$FLOOD" ] && [ -f "$NMAP" ] || skip "no realism corpus at $R"
write_conf_sensors UTC victim=10.10.10.10/32 scanme=64.13.134.52/32
snap() { # store -> the JSON a user reads
    "$DS" top ports --db "$1" --format json
    "$DS" top sources --db "$1" --limit 100000 --format json
    "$DS" stats --db "$1" --format json | python3 -c 'import json,sys; [print(r) for r in json.load(sys.stdin)]'
}

# ---- 1. truncated, then complete
size=$(stat -c %s "$FLOOD")
head -c $((size * 3 / 5 + 7)) "$FLOOD" > cut.pcap
"$DS" ingest -q --db cut.db cut.pcap 2> w1.txt || fail "the cut capture: $(cat w1.txt)"
grep -q "cut short" w1.txt || grep -qi "truncat" w1.txt || fail "no warning for the cut capture: $(cat w1.txt)"
cp "$FLOOD" whole.pcap
"$DS" ingest --db cut.db whole.pcap 2> w2.txt || fail "the whole capture: $(cat w2.txt)"
[ "$(grep -c "supersedes" w2.txt)" = 1 ] || fail "the supersede is not said once: $(cat w2.txt)"
"$DS" ingest -q --db whole.db whole.pcap
cmp -s <(snap cut.db) <(snap whole.db) || { diff <(snap cut.db) <(snap whole.db) | head -20 >&2; fail "cut then whole != whole alone"; }
"$DS" ingest -q --db cut.db cut.pcap 2> w3.txt || fail "the cut copy re-sent exits non-zero: $(cat w3.txt)"
cmp -s <(snap cut.db) <(snap whole.db) || fail "the cut copy re-sent was counted"
if "$DS" ingest -q --strict --db strict.db cut.pcap 2> w4.txt; then fail "--strict took a cut capture"; fi
[ ! -e strict.db ] || [ "$(sqlite3 strict.db 'SELECT count(*) FROM files' 2>/dev/null || echo 0)" = 0 ] ||
    fail "--strict left a file in the store"

# ---- 2. bad timestamps in the real nmap pcapng
python3 - "$NMAP" nmap_bad.pcapng <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
o, k = 0, 0
while o + 12 <= len(d):
    t, l = struct.unpack('<II', d[o:o + 8])
    if t == 6:
        k += 1
        hi, lo = struct.unpack('<II', d[o + 12:o + 20])
        us = hi << 32 | lo
        if k == 500:
            us = 4000000000 * 1000000                 # 2096
        elif k == 1500:
            us -= 365 * 86400 * 1000000               # a year earlier than its neighbours
        d[o + 12:o + 20] = struct.pack('<II', us >> 32, us & 0xffffffff)
    o += l
open(sys.argv[2], 'wb').write(d)
EOF
"$DS" ingest -q --db n0.db "$NMAP"
"$DS" ingest -q --db n1.db nmap_bad.pcapng 2> w5.txt || fail "patched nmap capture: $(cat w5.txt)"
grep -q "nmap_bad.pcapng: 2 records with impossible timestamps" w5.txt || fail "no warning naming the file: $(cat w5.txt)"
bad=$("$DS" stats --db n1.db --format json | python3 -c 'import json,sys; print(sum(r["bad_timestamp"] for r in json.load(sys.stdin)))')
[ "$bad" = 2 ] || fail "bad_timestamp = $bad, not 2"
p0=$("$DS" top ports --db n0.db --limit 100000 --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
p1=$("$DS" top ports --db n1.db --limit 100000 --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
[ "$p1" = $((p0 - 2)) ] || fail "top counts $p1 packets, the clean capture $p0 (2 bad expected)"
"$DS" top ports --db n1.db > t1.txt
grep -q "2010-07-04 .. 2010-07-04" t1.txt || fail "top's default period is not the capture's day: $(tail -2 t1.txt)"

# ---- 3. a real capture's coverage: its own span, no outage
out=$("$DS" stats --db whole.db --format json | python3 -c '
import json,sys
r=[x for x in json.load(sys.stdin) if x["sensor"]=="victim"][0]
print(r["outages"], r["covered_days"] > 0)')
[ "$out" = "[] True" ] || fail "the flood's coverage: $out"
echo "realism_imperfect: ok"
