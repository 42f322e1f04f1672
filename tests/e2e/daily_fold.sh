#!/usr/bin/env bash
# daily_fold.sh: a country's daily cycle is folded into a service's only when the country sends
# that service enough of its packets (issue #20; regression: on synthetic seeds 138 and 146 the
# daily cycle of 7070/tcp, all of it from Venezuela, was named the United States', whose own cycle
# peaked within the same two hours, and Venezuela's stayed a second event).
# A hand-made quarter (2023Q3, hourly SYNs): Venezuela sends 7070/tcp with a peak at 02 UTC; the
# United States send 80/tcp with a peak at 03 UTC and 443/tcp flat, so the US are the larger
# country and 7070/tcp the larger cyclic service: taken in that order, the peaks alone named
# 7070/tcp's cycle the United States' and 80/tcp's Venezuela's.  Expected: 7070/tcp's cycle named Venezuela's,
# 80/tcp's the United States', and no country event beside them.
source "$(dirname "$0")/lib.bash"
need python3
write_conf
PYTHONPATH="$ROOT/tests/e2e" python3 - q.pcap <<'PY'
import random, sys
from synpcap import T0, syn, write_pcap
rnd = random.Random(138)
VE = ["181.208.180.217", "38.61.225.37", "186.186.249.115", "161.196.195.163", "190.37.198.22"]
US = ["157.127.128.145", "19.33.153.114", "22.116.224.217", "65.135.22.212", "104.88.6.208"]
pk, seq = [], 0
def send(t, srcs, port, n):
    global seq
    for _ in range(n):
        seq += 1
        pk.append((t + rnd.random() * 3600, syn(rnd.choice(srcs), "198.51.100.%d" % rnd.randint(1, 254),
                                               rnd.randint(32768, 60999), port, seq)))
for d in range(92):
    for h in range(24):
        t = T0 + d * 86400 + h * 3600
        ve = {0: 100, 1: 140, 2: 160, 3: 140, 4: 100}.get(h, 20)    # peak 02 UTC
        us = {1: 50, 2: 60, 3: 70, 4: 60, 5: 50}.get(h, 10)         # peak 03 UTC
        send(t, VE, 7070, rnd.randint(ve * 9 // 10, ve * 11 // 10))
        send(t, US, 80, rnd.randint(us * 9 // 10, us * 11 // 10))
        send(t, US, 443, rnd.randint(36, 44))
write_pcap(sys.argv[1], pk)
PY
$DS ingest -q q.pcap
$DS events --from 2023-07-01 --to 2023-09-30 --type periodic_daily --format json > d.json
python3 - d.json <<'PY' || fail "daily cycles folded into the wrong services: $(cat d.json | head -c 3000)"
import json, sys
ev = json.load(open(sys.argv[1]))
got = sorted((e.get("service"), e.get("country")) for e in ev)
assert got == [("7070/tcp", "VE"), ("80/tcp", "US")], got
for e in ev:
    assert e["evidence"]["country_with_same_cycle"]["of"] == e["country"], e["evidence"]
PY
echo "daily_fold: ok"
