#!/usr/bin/env bash
# A service the previous quarter never saw, seen at a low level for weeks, then surging, is a
# surge, not a new service (issue #20, found on fresh synthetic seeds: synth seed 113 plants a
# surge of 8983/tcp from Russia on 2023-08-08; 8983/tcp had a few packets a day from early July
# and none in the second quarter, and the series detector called the whole run a new service).
# A service first seen when it rises is still a new service (the same quarter plants two).
source "$(dirname "$0")/lib.bash"
need python3
write_conf
$DS synth -q -o a.pcap --start 2023-04-01 --days 183 --seed 113 --truth truth.json
$DS ingest -q a.pcap
$DS events --from 2023-07-01 --to 2023-09-30 --format json > ev.json
python3 - <<'PY' || fail "8983/tcp from Russia is not one surge starting in early August"
import json
ev = json.load(open("ev.json"))
s = [e for e in ev if e["service"] == "8983/tcp" and e["type"] in ("surge", "new_service", "spike")]
assert s and all(e["type"] == "surge" for e in s), [(e["type"], e["start"]) for e in s]
assert any(e["start"].startswith("2023-08-0") for e in s), [e["start"] for e in s]
new = {e["service"] for e in ev if e["type"] == "new_service"}
assert {"10443/tcp", "8728/tcp"} <= new, new
PY
echo "surge_not_new: ok"
