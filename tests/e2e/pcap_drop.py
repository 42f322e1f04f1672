#!/usr/bin/env python3
"""pcap_drop.py IN OUT DSTNET FROM TO: copy a classic pcap (Ethernet or raw IPv4), leaving out the
IPv4 packets to DSTNET (a CIDR) whose timestamp is in [FROM, TO) (UNIX seconds): a sensor that
was down for that span, for the coverage tests.  Prints the number of records dropped."""
import ipaddress
import struct
import sys

src, dst, net, t0, t1 = sys.argv[1], sys.argv[2], ipaddress.ip_network(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
lo, hi = int(net.network_address), int(net.broadcast_address)
with open(src, 'rb') as f:
    data = f.read()
magic = data[:4]
if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
    e = '<'
elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
    e = '>'
else:
    sys.exit('pcap_drop: %s: not a classic pcap file' % src)
linktype = struct.unpack(e + 'I', data[20:24])[0] & 0xffff
out = [data[:24]]
off, dropped = 24, 0
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
    rec = data[off:off + 16 + incl]
    off += 16 + incl
    pkt = rec[16:]
    ip = pkt[14:] if linktype == 1 and pkt[12:14] == b'\x08\x00' else pkt if linktype in (101, 228) else b''
    if len(ip) >= 20 and ip[0] >> 4 == 4 and t0 <= sec < t1:
        d = struct.unpack('>I', ip[16:20])[0]
        if lo <= d <= hi:
            dropped += 1
            continue
    out.append(rec)
with open(dst, 'wb') as f:
    f.write(b''.join(out))
print(dropped)
