#!/usr/bin/env bash
# fingerprints_real.sh: issue #20's tool attribution on real captures (../shared/corpus/realism/,
# provenance in its SOURCES.tsv).
#  1. Chris Sanders' nmap SYN scan of scanme.nmap.org (1,994 SYNs from 172.16.0.8 to
#     64.13.134.52, 2010-07-04): an older nmap, whose raw SYNs take the window 1024 * (ttl % 4 + 1)
#     (424/520/512/538 SYNs at 1024/2048/3072/4096).  The source is Nmap's (top --where
#     tool=nmap, a tool event), and no other tool's.
source "$(dirname "$0")/lib.bash"
need python3
R=${DS_REALISM:-$ROOT/../shared/corpus/realism}
NMAP=$R/chrissanders_synscan.pcapng
[ -f "$NMAP" ] || skip "no realism corpus at $R"
write_conf_sensors UTC scanme=64.13.134.52/32
export DARKSCOPE_CONFIG=$T/darkscope.conf
P=(--from 2010-07-04 --to 2010-07-04)

"$DS" ingest -q "$NMAP"
nmap_src=$("$DS" top sources "${P[@]}" --where tool=nmap --format json | json_rows)
[ "$nmap_src" = "172.16.0.8 1994 1" ] || fail "Nmap's source: '$nmap_src'"
for t in zmap masscan mirai; do
    other=$("$DS" top sources "${P[@]}" --where tool=$t --format json | json_rows)
    [ -z "$other" ] || fail "the nmap scan is attributed to $t: $other"
done
"$DS" events "${P[@]}" --type tool --format json > ev.json
python3 - ev.json <<'PY' || fail "no Nmap tool event: $(cat ev.json)"
import json, sys
ev = json.load(open(sys.argv[1]))
ev = ev.get("events", ev) if isinstance(ev, dict) else ev
assert [e for e in ev if e.get("tool") == "nmap" and e["packets"] == 1994], ev
PY
echo "fingerprints_real: ok"
