"""synpcap.py: hand-made TCP SYNs in a classic pcap, for the e2e tests that plant exact scans
(vertical.sh, detin_diff.sh).  Ethernet, IPv4 with its header checksum (RFC 791), a 20-byte TCP
header with only SYN set (RFC 9293); microsecond pcap, link type 1.  A test runs its script as
PYTHONPATH="$ROOT/tests/e2e" python3 - ... and imports it."""
import struct

T0 = 1688169600  # 2023-07-01 00:00 UTC


def ip(s):
    return bytes(int(x) for x in s.split("."))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def syn(src, dst, sport, dport, seq):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), seq & 0xffff, 0, 64, 6, 0, ip(src), ip(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return b"\0" * 12 + b"\x08\x00" + h + tcp


def write_pcap(path, packets):
    """packets: (time in seconds, frame bytes), written in time order."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for t, b in sorted(packets, key=lambda x: x[0]):
            f.write(struct.pack("<IIII", int(t), int((t % 1) * 1e6), len(b), len(b)) + b)
