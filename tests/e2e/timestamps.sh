# Records with impossible timestamps (issue #19): a synthetic capture with three record headers
# patched (2097, 1970, 400 days before their neighbours) loses exactly those three records, to
# bad_timestamp of their sensors, with a warning naming the file and the count; every other count
# and the default period of `top` and `events` stay what the clean capture gives; -j1, -j2 and the
# batch path (gzip) agree.  A file starting with a bad record loses that record only; a capture
# with a genuine 10-day gap is counted in full; DS_NOW moves the "after now + a day" bound.
source "$(dirname "$0")/lib.bash"
need python3
write_conf
$DS synth -q -o a.pcap --days 3 --rate 5000 --seed 7
# patch.py IN OUT RULE...: copy a classic pcap (little-endian, microseconds, Ethernet), changing
# ts_sec of chosen records.  RULE = INDEX:TS (absolute), INDEX:-DAYS (relative), or gap:DAYS (every
# record from the middle on moves DAYS later).  Prints, per patched record, its sensor
# (tokyo/osaka/-) and its destination port.
cat > patch.py <<'EOF'
import struct, sys
src, dst, rules = sys.argv[1], sys.argv[2], sys.argv[3:]
data = bytearray(open(src, "rb").read())
assert struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4 and struct.unpack("<I", data[20:24])[0] == 1
recs, off = [], 24
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    recs.append(off); off += 16 + incl
def usable(i):   # an IPv4 TCP/UDP packet, not a fragment, to a darknet, classified when clean
    p = recs[i] + 16
    fr = data[p:p + 54]
    return (len(fr) >= 38 and fr[12:14] == b"\x08\x00" and fr[14] == 0x45 and fr[23] in (6, 17)
            and struct.unpack(">H", fr[20:22])[0] & 0x3fff == 0 and fr[30:33] in (bytes([198, 51, 100]), bytes([203, 0, 113])))
for rule in rules:
    what, val = rule.split(":")
    if what == "gap":
        for o in recs[len(recs) // 2:]:
            struct.pack_into("<I", data, o, struct.unpack("<I", data[o:o + 4])[0] + int(val) * 86400)
        continue
    i = int(what)
    if i < 0: i += len(recs)
    while not usable(i): i += 1
    o = recs[i]
    ts = struct.unpack("<I", data[o:o + 4])[0]
    struct.pack_into("<I", data, o, ts + int(val) * 86400 if val.startswith("-") else int(val, 0))
    fr = data[o + 16:o + 16 + 54]
    print("tokyo" if fr[30:33] == bytes([198, 51, 100]) else "osaka", struct.unpack(">H", fr[36:38])[0],
          "tcp" if fr[23] == 6 else "udp")
open(dst, "wb").write(data)
EOF
python3 patch.py a.pcap b.pcap 2000:0xF0000000 9000:1 16000:-400 > patched.txt
[ "$(wc -l < patched.txt)" -eq 3 ] || fail "patch.py: $(cat patched.txt)"
stats() { # db: sensor packets outside non_ip ... lines, without files
    $DS stats --db "$1" --format json | python3 -c '
import json, sys
for r in json.load(sys.stdin):
    print(r["sensor"], r["packets"], r["outside"], r["non_ip"], r["truncated"], r["fragments"], r["malformed"],
          r["unknown_link"], r["bad_timestamp"], r["first"], r["last"])'
}
bad_of() { stats "$1" | awk -v s="$2" '$1 == s { print $9 }'; }
$DS ingest -q --db clean.db a.pcap
$DS ingest -q --db b1.db b.pcap 2> warn.txt
grep -q "b.pcap: 3 records with impossible timestamps (before 1990, after [0-9-]* or a jump of more than a day" warn.txt ||
    fail "no warning naming b.pcap and 3 records: $(cat warn.txt)"
[ "$(grep -c warning warn.txt)" -eq 1 ] || fail "expected one warning line: $(cat warn.txt)"
# per sensor: bad_timestamp is the patched records of that sensor, packets the clean count minus them
stats clean.db > clean.txt
stats b1.db > b1.txt
python3 - clean.txt b1.txt patched.txt <<'EOF' || fail "stats: clean $(cat clean.txt) / patched $(cat b1.txt)"
import sys, collections
rows = lambda f: {l.split()[0]: l.split()[1:] for l in open(f)}
clean, bad, lost = rows(sys.argv[1]), rows(sys.argv[2]), collections.Counter(l.split()[0] for l in open(sys.argv[3]))
for s in ("tokyo", "osaka", "-"):
    c, b = clean[s], bad[s]
    assert int(b[7]) == lost[s], (s, b[7], lost[s])
    assert int(b[0]) == int(c[0]) - lost[s], (s, "packets", b[0], c[0])
    assert b[1:7] == c[1:7], (s, "outcomes", b, c)
    assert b[8:] == c[8:], (s, "first/last", b[8:], c[8:])   # a span untouched by 2097 and 1970
EOF
# top ports: the patched records' ports lose one packet each, nothing else changes; the default
# period is the capture's three days (per_ip_per_day and the total line say so)
ports() { $DS top ports --db "$1" --limit 200 --format json | python3 -c '
import json, sys
for r in json.load(sys.stdin): print(r["key"], r["packets"], r["per_ip_per_day"])'; }
ports clean.db > pc.txt
ports b1.db > pb.txt
python3 - pc.txt pb.txt patched.txt <<'EOF' || fail "top ports differ beyond the patched records"
import sys, collections
rd = lambda f: {l.split()[0]: (int(l.split()[1]), float(l.split()[2])) for l in open(f)}
c, b = rd(sys.argv[1]), rd(sys.argv[2])
lost = collections.Counter("%s/%s" % (l.split()[1], l.split()[2]) for l in open(sys.argv[3]))
for k, (n, rate) in c.items():
    assert b.get(k, (0, 0))[0] == n - lost[k], (k, n, b.get(k), lost[k])
    if k in b and b[k][0] == n:
        assert abs(b[k][1] - rate) < 1e-6, (k, rate, b[k])   # the same days in the period
EOF
total() { $DS top ports --db "$1" --limit 1 | sed -n 's/^total \([0-9,]*\) packets.*/\1/p' | tr -d ,; }
[ "$(total b1.db)" -eq $(( $(total clean.db) - 3 )) ] || fail "top total $(total b1.db), clean $(total clean.db)"
$DS top ports --db b1.db --limit 1 | grep -q "2023-07-01 .. 2023-07-03 (3 days)" ||
    fail "top's default period: $($DS top ports --db b1.db --limit 1 | tail -1)"
$DS events --db b1.db --format json > ev.json
python3 - ev.json <<'EOF' || fail "events outside the capture's days: $(head -c 400 ev.json)"
import json, sys
ev = json.load(open(sys.argv[1]))
assert ev, "no events"
for e in ev:
    assert e["type"] != "sensor_silent", e
    assert "2023-07-01" <= e["start"][:10] <= e["end"][:10] <= "2023-07-03", (e["type"], e["start"], e["end"])
EOF
# -j2 on the plain file (own readers) and on gzip (shared batches): the same counts
$DS ingest -q -j2 --db b2.db b.pcap 2>/dev/null
gzip -c b.pcap > bz.pcap.gz
$DS ingest -q -j3 --db b3.db bz.pcap.gz 2> warn3.txt
grep -q "bz.pcap.gz: 3 records" warn3.txt || fail "-j3 gzip warning: $(cat warn3.txt)"
stats b2.db | cmp -s - b1.txt || fail "-j2 stats differ: $(stats b2.db)"
stats b3.db | cmp -s - b1.txt || fail "-j3 gzip stats differ: $(stats b3.db)"
# a file whose first record is far in the future (2097), and one whose first is 400 days early:
# only that record is lost
python3 patch.py a.pcap c.pcap 0:0xF0000000 > /dev/null
python3 patch.py a.pcap d.pcap 0:-400 > /dev/null
for f in c d; do
    $DS ingest -q --db $f.db $f.pcap 2> w$f.txt
    grep -q "$f.pcap: 1 record with impossible timestamps" w$f.txt || fail "$f.pcap warning: $(cat w$f.txt)"
    total=$(stats $f.db | awk '{ s += $9 } END { print s }')
    [ "$total" = 1 ] || fail "$f.pcap: bad_timestamp $total, expected 1"
    $DS ingest -q -j2 --db $f-2.db $f.pcap 2>/dev/null
    stats $f-2.db | cmp -s - <(stats $f.db) || fail "$f.pcap: -j2 stats differ"
done
# a file of records all timed 0 (and a 1970 record of its own): every one counted as bad_timestamp,
# though no row then has a first time
python3 - a.pcap z.pcap <<'EOF'
import struct, sys
d, off, out = open(sys.argv[1], "rb").read(), 24, []
while off + 16 <= len(d) and len(out) < 40:
    incl = struct.unpack("<I", d[off + 8:off + 12])[0]
    out.append(b"\0" * 8 + d[off + 8:off + 16 + incl]); off += 16 + incl
open(sys.argv[2], "wb").write(d[:24] + b"".join(out))
EOF
$DS ingest -q --db z.db z.pcap 2> wz.txt
grep -q "z.pcap: 40 records with impossible timestamps" wz.txt || fail "z.pcap warning: $(cat wz.txt)"
[ "$(stats z.db | awk '{ s += $9 } END { print s }')" = 40 ] || fail "z.pcap: $(stats z.db)"
# a sensor off for 10 days: the second half of the capture 10 days later, counted in full
python3 patch.py a.pcap gap.pcap gap:10 > /dev/null
$DS ingest -q --db gap.db gap.pcap 2> wgap.txt
[ ! -s wgap.txt ] || fail "gap.pcap: unexpected warning: $(cat wgap.txt)"
python3 - clean.txt <(stats gap.db) <<'EOF' || fail "gap.pcap counts: $(stats gap.db)"
import sys
rows = lambda f: {l.split()[0]: l.split()[1:] for l in open(f)}
c, g = rows(sys.argv[1]), rows(sys.argv[2])
for s in c:
    assert g[s][:8] == c[s][:8], (s, g[s], c[s])
    assert g[s][7] == "0"
assert g["tokyo"][-2] >= "2023-07-12", g["tokyo"]
EOF
$DS top ports --db gap.db --limit 1 | grep -q "2023-07-01 .. 2023-07-13 (13 days)" ||
    fail "gap.pcap period: $($DS top ports --db gap.db --limit 1 | tail -1)"
# DS_NOW: "now" on 2023-07-02 00:00 UTC puts every record after 2023-07-03 00:00 out of bounds
DS_NOW=1688256000 $DS ingest -q --db now.db a.pcap 2> wnow.txt
want=$(python3 - a.pcap <<'EOF'
import struct, sys
d, off, n = open(sys.argv[1], "rb").read(), 24, 0
while off + 16 <= len(d):
    sec, usec, incl = struct.unpack("<III", d[off:off + 12])
    n += sec * 10**6 + usec > 1688342400 * 10**6
    off += 16 + incl
print(n)
EOF
)
grep -q "a.pcap: $want records with impossible timestamps (before 1990, after 2023-07-03 " wnow.txt ||
    fail "DS_NOW warning (want $want): $(cat wnow.txt)"
total=$(stats now.db | awk '{ s += $9 } END { print s }')
[ "$total" = "$want" ] || fail "DS_NOW: bad_timestamp $total, expected $want"
$DS top ports --db now.db --limit 1 | grep -q "2023-07-01 .. 2023-07-02 (2 days)" || fail "DS_NOW: period"
expect_fail=$(DS_NOW=yesterday $DS ingest -q --db x.db a.pcap 2>&1 || true)
echo "$expect_fail" | grep -q "DS_NOW=yesterday: expected seconds" || fail "bad DS_NOW accepted: $expect_fail"
echo "3 patched records to bad_timestamp, periods and -j1/-j2/gzip agree, first-record, gap and DS_NOW cases"
