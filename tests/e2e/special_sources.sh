# Special-purpose source addresses (RFC 6890: 192.168/16, 172.16/12, 10/8, ...) come out as ZZ,
# the "private/reserved or unknown" row of `top countries`, whatever the geo data says; here the
# data says AU for the whole IPv4 space (as ip-location-db does for 192.168/16 and 172.16/12)
# and US for 8/8.  A pcap written here: TCP SYNs to 198.51.100.7:23 from 192.168.1.1 (3),
# 172.16.5.5 (2), 10.1.2.3 (1), 100.64.0.1 (1, RFC 6598) and 8.8.8.8 (4), and 5 from 1.2.3.4.
source "$(dirname "$0")/lib.bash"
need python3
cat > geo.csv <<EOG
0.0.0.0,7.255.255.255,AU
8.0.0.0,8.255.255.255,US
9.0.0.0,255.255.255.255,AU
EOG
GEO_COUNTRY=$T/geo.csv GEO_ASN= write_conf
python3 - <<'EOP'
import struct
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def ip(a): return bytes(int(x) for x in a.split('.'))
def syn(src, dst, sport, t):
    tcp = struct.pack('!HHIIBBHHH', sport, 23, 1000, 0, 5 << 4, 0x02, 1024, 0, 0)
    pseudo = ip(src) + ip(dst) + struct.pack('!BBH', 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack('!H', csum(pseudo + tcp)) + tcp[18:]
    hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, ip(src), ip(dst))
    hdr = hdr[:10] + struct.pack('!H', csum(hdr)) + hdr[12:]
    eth = b'\x02\x00\x00\x00\x00\x01' + b'\x02\x00\x00\x00\x00\x02' + b'\x08\x00'
    frame = eth + hdr + tcp
    return struct.pack('<IIII', t, 0, len(frame), len(frame)) + frame
t0 = 1688169600 + 3600   # 2023-07-01 01:00 UTC
out = struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
n = 0
for src, k in (('192.168.1.1', 3), ('172.16.5.5', 2), ('10.1.2.3', 1), ('100.64.0.1', 1), ('8.8.8.8', 4), ('1.2.3.4', 5)):
    for i in range(k):
        out += syn(src, '198.51.100.7', 40000 + i, t0 + n); n += 1
open('special.pcap', 'wb').write(out)
EOP
$DS ingest -q special.pcap || fail "ingest failed"
$DS top countries --from 2023-07-01 --to 2023-07-01 --format json > c.json || fail "top countries failed"
python3 - c.json <<'EOP' || fail "top countries: $(cat c.json)"
import json, sys
rows = {r['key']: r for r in json.load(open(sys.argv[1]))}
assert set(rows) == {'ZZ', 'US', 'AU'}, rows
assert (rows['ZZ']['packets'], rows['ZZ']['sources']) == (7, 4), rows['ZZ']
assert rows['ZZ'].get('label') == 'private/reserved or unknown', rows['ZZ']
assert (rows['US']['packets'], rows['US']['sources']) == (4, 1), rows['US']
assert (rows['AU']['packets'], rows['AU']['sources']) == (5, 1), rows['AU']
assert 'label' not in rows['US']
EOP
$DS top countries --from 2023-07-01 --to 2023-07-01 > c.txt || fail "top countries (table) failed"
grep -q '^ZZ: private/reserved or unknown' c.txt || fail "the table does not say what ZZ is: $(cat c.txt)"
# the sources keep their ASN 0 and ZZ
$DS top sources --from 2023-07-01 --to 2023-07-01 --format json > s.json || fail "top sources failed"
python3 - s.json <<'EOP' || fail "top sources: $(cat s.json)"
import json, sys
rows = {r['key']: r for r in json.load(open(sys.argv[1]))}
for a in ('192.168.1.1', '172.16.5.5', '10.1.2.3', '100.64.0.1'):
    assert (rows[a]['country'], rows[a]['asn']) == ('ZZ', 0), rows[a]
assert rows['8.8.8.8']['country'] == 'US', rows['8.8.8.8']
EOP
echo "special_sources: ok"
