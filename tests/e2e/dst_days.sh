#!/usr/bin/env bash
# dst_days.sh: days of 23 and 25 hours (issue #19, "one day-boundary function").  A store in
# Europe/Berlin over the spring (2023-03-26, 23 h) and autumn (2023-10-29, 25 h) changes, and one in
# America/New_York (2023-03-12, 2023-11-05): the packets `top` gives for each local day equal those
# python's zoneinfo puts in that day, and a fully covered short or long day is one covered day.
source "$(dirname "$0")/lib.bash"
need python3
python3 -c 'import zoneinfo; zoneinfo.ZoneInfo("Europe/Berlin")' 2>/dev/null || skip "python3 has no tz database"

check_zone() { # zone start-date short-day long-start long-day
    local zone=$1
    write_conf "$zone"
    rm -f store.db*
    "$DS" synth -c darkscope.conf -o a.pcap --days 3 --start "$2" --rate 4000 --seed 11 -q
    "$DS" synth -c darkscope.conf -o b.pcap --days 3 --start "$4" --rate 4000 --seed 12 -q
    "$DS" ingest -q a.pcap b.pcap
    for day in "$3" "$5"; do
        got=$("$DS" top ports --from "$day" --to "$day" --limit 100000 --format json |
              python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin)))')
        want=$(python3 - "$zone" "$day" a.pcap b.pcap <<'EOF'
import datetime, struct, sys, zoneinfo
zone, day = zoneinfo.ZoneInfo(sys.argv[1]), datetime.date.fromisoformat(sys.argv[2])
n = 0
for path in sys.argv[3:]:
    d = open(path, 'rb').read()
    e = '<' if d[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    link = struct.unpack(e + 'I', d[20:24])[0]
    o = 24
    while o + 16 <= len(d):
        sec, _, incl, _ = struct.unpack(e + 'IIII', d[o:o + 16])
        p = d[o + 16:o + 16 + incl]
        o += 16 + incl
        ip = p[14:] if link == 1 and p[12:14] == b'\x08\x00' else b''
        # IPv4 to one of the two sensors' /24s, not a later fragment; a first fragment counts when
        # its TCP, UDP or ICMP header is whole in it (core/decode.c, ds_dec_first_fragment)
        if len(ip) < 20 or ip[0] >> 4 != 4:
            continue
        frag, hl = struct.unpack('>H', ip[6:8])[0], (ip[0] & 15) * 4
        if frag & 0x1fff:
            continue
        if frag & 0x2000:
            l4 = ip[hl:struct.unpack('>H', ip[2:4])[0]]
            need = {6: 20 if len(l4) < 13 else max(20, (l4[12] >> 4) * 4), 17: 8, 1: 4}.get(ip[9])
            if need is None or len(l4) < need:
                continue
        if ip[16:19] not in (bytes([198, 51, 100]), bytes([203, 0, 113])):
            continue
        if datetime.datetime.fromtimestamp(sec, zone).date() == day:
            n += 1
print(n)
EOF
)
        [ "$got" = "$want" ] || fail "$zone $day: top counts $got packets, the local day holds $want"
        cd_=$("$DS" stats --format json | python3 -c 'import json,sys; print(min(r["covered_days"] for r in json.load(sys.stdin) if r["sensor"]!="-"))')
        python3 -c "import sys; sys.exit(not $cd_ >= 2.99)" || fail "$zone: covered days $cd_"
    done
    hours=$(python3 -c "
import datetime, zoneinfo
z = zoneinfo.ZoneInfo('$zone')
for s in ('$3', '$5'):
    d = datetime.date.fromisoformat(s)
    a = datetime.datetime(d.year, d.month, d.day, tzinfo=z); b = a + datetime.timedelta(days=1)
    b = datetime.datetime(b.year, b.month, b.day, tzinfo=z)
    print(int((b.timestamp() - a.timestamp()) // 3600), end=' ')")
    [ "$hours" = "23 25 " ] || fail "$zone: the test's days are $hours hours long, not 23 and 25"
}
check_zone Europe/Berlin 2023-03-25 2023-03-26 2023-10-28 2023-10-29
check_zone America/New_York 2023-03-11 2023-03-12 2023-11-04 2023-11-05
echo "dst_days: ok"
