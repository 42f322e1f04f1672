#!/usr/bin/env bash
# outage_quarter.sh: issue #19's bar on a whole quarter.  Two synthetic quarters (2023Q2 as the
# previous period, 2023Q3 with its phenomena planted), then osaka's packets removed from
# 2023-08-14 09:17 to 2023-08-24 16:41 UTC (10 d 7 h 24 min, not on hour boundaries).  Against a
# store of the same quarters without the outage:
#  - totals are exact: every count is the clean store's less the packets removed;
#  - rates: per_ip_per_day of `top` and of the report equal packets / covered address-days
#    computed here from the known outage, within 0.5%;
#  - the outage is named with its dates by `stats`, `report` and `events`;
#  - `events` over the quarter: the series events (spikes, surges, new services, single sources,
#    cycles) exactly the clean store's, plus the outage, so no event starts or ends at its edges
#    because of it; every packet-level event (scan, tool, backscatter) one the clean store has.
source "$(dirname "$0")/lib.bash"
need python3
write_conf
"$DS" synth -c darkscope.conf -o q2.pcap --days 91 --start 2023-04-01 --seed 77 -q
"$DS" synth -c darkscope.conf -o q3.pcap --days 92 --start 2023-07-01 --seed 78 -q
A=$(date -u -d 2023-08-14T09:17:00Z +%s); B=$(date -u -d 2023-08-24T16:41:00Z +%s)
dropped=$(python3 "$ROOT/tests/e2e/pcap_drop.py" q3.pcap q3o.pcap 203.0.113.0/24 "$A" "$B")
"$DS" ingest -q --db clean.db q2.pcap q3.pcap
"$DS" ingest -q q2.pcap q3o.pcap
Q="--from 2023-07-01 --to 2023-09-30"

# totals: exact
sum_stats() { "$DS" stats --db "$1" --format json | python3 -c '
import json,sys
t={}
for r in json.load(sys.stdin):
    for k,v in r.items():
        if isinstance(v,int) and not isinstance(v,bool) and k not in ("files","silent_s","days"): t[k]=t.get(k,0)+v
print(" ".join("%s=%d"%(k,t[k]) for k in sorted(t)))'; }
all() { python3 -c 'import sys; print(sum(int(x.split("=")[1]) for x in sys.argv[1:]))' $1; }
c=$(sum_stats clean.db); o=$(sum_stats store.db)
[ $(( $(all "$c") - $(all "$o") )) = "$dropped" ] || fail "totals: clean $c, outage $o, $dropped removed"

# rates: packets / covered address-days, the outage known to the minute
"$DS" top ports $Q --limit 100000 --format json > top.json
python3 - "$A" "$B" <<'EOF' || fail "top's per_ip_per_day is off"
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
ad = 256 * 92 + 256 * (92 - (b - a) / 86400)
for r in json.load(open('top.json'))[:20]:
    want = r['packets'] / ad
    if abs(r['per_ip_per_day'] / want - 1) > 0.005:
        sys.exit('%s: %s per ip per day, %s expected' % (r['key'], r['per_ip_per_day'], want))
EOF
"$DS" report --period 2023Q3 --format json -o r.json
python3 - "$A" "$B" <<'EOF' || fail "the report's rates or outage"
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
r = json.load(open('r.json'))
ad = 256 * 92 + 256 * (92 - (b - a) / 86400)
t = r['totals']
if abs(t['per_ip_per_day_exact'] / (t['packets'] / ad) - 1) > 0.005:
    sys.exit('totals: %s per ip per day, %s expected' % (t['per_ip_per_day_exact'], t['packets'] / ad))
o = [x for x in r['coverage']['outages'] if x['sensor'] == 'osaka']
if len(o) != 1 or not o[0]['from'].startswith('2023-08-14T1') or not o[0]['to'].startswith('2023-08-24T16'):
    sys.exit('outages: %s' % r['coverage']['outages'])
EOF
"$DS" stats | grep -q "^OUTAGE: sensor osaka 2023-08-14 10:00:00 .. 2023-08-24 16:00:00" || fail "stats: $("$DS" stats | grep OUTAGE)"

# events: the series events (spikes, surges, new services, single sources, cycles) exactly the
# clean store's, plus the outage; every packet-level event (scans, tools, backscatter, Mirai) one
# that the clean store has too (the same type and key, overlapping in time: with half the darknet
# dark, a scan's first and last packets seen can move, and a scan seen only by osaka is gone)
"$DS" events --db clean.db $Q --format json > e_clean.json
"$DS" events $Q --format json > e_out.json
python3 - <<'EOF2' || fail "events"
import json, sys
SERIES = {'spike', 'surge', 'new_service', 'single_source', 'periodic_daily', 'periodic_weekly'}
key = lambda e: (e['type'], e.get('service') or '', e.get('country') or '')
clean, out = json.load(open('e_clean.json')), json.load(open('e_out.json'))
sil = [e for e in out if e['type'] == 'sensor_silent']
if len(sil) != 1 or not sil[0]['start'].startswith('2023-08-14T10') or not sil[0]['end'].startswith('2023-08-24T16'):
    sys.exit('outage events: %s' % [(e['start'], e['end']) for e in sil])
cs = sorted((key(e), e['start'], e['end']) for e in clean if e['type'] in SERIES)
os_ = sorted((key(e), e['start'], e['end']) for e in out if e['type'] in SERIES)
if cs != os_:
    sys.exit('series events differ:\n  clean only: %s\n  outage only: %s' % (sorted(set(cs) - set(os_)), sorted(set(os_) - set(cs))))
for e in out:
    if e['type'] in SERIES or e['type'] == 'sensor_silent':
        continue
    if not any(key(c) == key(e) and c['start'] <= e['end'] and e['start'] <= c['end'] for c in clean):
        sys.exit('an event the clean store does not have: %s %s %s' % (key(e), e['start'], e['end']))
EOF2
echo "outage_quarter: ok ($dropped packets removed; series events as without the outage, plus the outage)"
