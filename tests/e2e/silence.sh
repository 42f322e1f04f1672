#!/usr/bin/env bash
# silence.sh: the sensor_silent events and the SILENT line of `darkscope stats` (issue #5).
#  1. Collector-fed store: two sensors upload segments through the real collector (`darkscope
#     sensor --read FILE`, one segment per run); the ledger's commit times are then moved back, as
#     if tokyo had sent nothing for 8900 s between two segments and osaka nothing for 20000 s up to
#     now.  `events --type sensor_silent` gives exactly those two (tokyo's closed, osaka's ongoing),
#     [detect] sensor_silence moves the bar, and `stats` marks osaka SILENT (and gives silent_s).
#     The ledger keeps each segment's capture span as the sensor reported it (first/last packet
#     of the capture file); with the 2023 captures under 2026 commit times the cause of tokyo's
#     gap is "unknown", and with spans set as a live sensor's would be, "upload" (a backlog that
#     covers the gap) or "sensor" (a stretch nothing covers).
#  2. File-fed store (no ledger): tokyo's captures of 1 and 3 July, osaka's of 1 to 3 July: tokyo is
#     silent from 2 July 00:00 to 3 July 00:00 UTC (24 empty hours), osaka not at all.  Coverage
#     knows no capture of tokyo covers 2 July, and names it (source 3); coverage_events.sh has
#     inferred outages.
source "$(dirname "$0")/lib.bash"
need python3
"$DS" collector --help >/dev/null 2>&1 || skip "$DS has no collector command"
"$DS" sensor --help >/dev/null 2>&1 || skip "$DS has no sensor command"
write_conf
events() { "$DS" events --type sensor_silent --format json "$@"; }

# ---- 1. the collector ledger
for d in 01 02 03; do
    "$DS" synth -c darkscope.conf -o "t$d.pcap" --days 1 --start 2023-07-$d --rate 3000 --seed 3 -q
done
TOKYO=$("$DS" token new tokyo --tokens tokens 2>/dev/null); echo "$TOKYO" > tokyo.tok
OSAKA=$("$DS" token new osaka --tokens tokens 2>/dev/null); echo "$OSAKA" > osaka.tok
"$DS" collector --listen 127.0.0.1:0 --tokens tokens --port-file port 2>coll.log &
CPID=$!
trap 'kill "$CPID" 2>/dev/null || true; [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "the collector did not start: $(cat coll.log)"
URL=http://127.0.0.1:$(cat port)
upload() { # sensor file (the darknet: [sensor.NAME] of darkscope.conf)
    "$DS" sensor --read "$2" --name "$1" --spool "spool-$1" --collector "$URL" --token "$1.tok" \
        --drain 10 2>>sensor.log || fail "sensor $1: $(tail -3 sensor.log)"
}
upload tokyo t01.pcap
upload tokyo t02.pcap
upload tokyo t03.pcap
upload osaka t01.pcap
kill "$CPID"; wait "$CPID" 2>/dev/null || true
[ "$(grep -c -- '-> 200 committed' coll.log)" = 4 ] || fail "expected 4 committed segments: $(cat coll.log)"
# the spans the sensor reported (X-Darkscope-First-Ns/-Last-Ns) are those of the first and last
# packets of the capture that went to the sensor's darknet
python3 - "$T/store.db" <<'EOF' || fail "ledger capture spans"
import sqlite3, struct, sys
def span(path, net):
    f = open(path, "rb"); g = f.read(24); magic, link = struct.unpack("<I", g[:4])[0], struct.unpack("<I", g[20:24])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d) and link in (1, 101), (hex(magic), link)
    mul, off = (1000 if magic == 0xa1b2c3d4 else 1), (14 if link == 1 else 0)
    first = last = None
    while True:
        h = f.read(16)
        if len(h) < 16: break
        sec, frac, incl, _ = struct.unpack("<IIII", h)
        p = f.read(incl)
        if len(p) < off + 20 or p[off] >> 4 != 4 or (link == 1 and p[12:14] != b"\x08\x00") or p[off + 16:off + 19] != net:
            continue
        t = sec * 10**9 + frac * mul
        first = t if first is None else min(first, t); last = t if last is None else max(last, t)
    return first, last
d = sqlite3.connect(sys.argv[1])
rows = {(s, q): (a, b) for s, q, a, b in d.execute("SELECT sensor, seq, first_ns, last_ns FROM collector_segments")}
TOKYO, OSAKA = bytes([198, 51, 100]), bytes([203, 0, 113])
for (sensor, seq), f, net in ((("tokyo", 1), "t01.pcap", TOKYO), (("tokyo", 3), "t03.pcap", TOKYO), (("osaka", 1), "t01.pcap", OSAKA)):
    assert rows[(sensor, seq)] == span(f, net), (sensor, seq, rows[(sensor, seq)], span(f, net))
EOF
NOW=$(date +%s)
python3 - "$T/store.db" "$NOW" <<'EOF'
import sqlite3, sys
d, now = sqlite3.connect(sys.argv[1]), int(sys.argv[2])
for seq, at in ((1, now - 10000), (2, now - 9000), (3, now - 100)):
    d.execute("UPDATE collector_segments SET committed_at=? WHERE sensor='tokyo' AND seq=?", (at, seq))
d.execute("UPDATE collector_segments SET committed_at=? WHERE sensor='osaka'", (now - 20000,))
d.execute("UPDATE collector_health SET last_upload=? WHERE name='tokyo'", (now - 100,))
d.execute("UPDATE collector_health SET last_upload=? WHERE name='osaka'", (now - 20000,))
d.commit()
EOF
# the ledger's dates are today's; the store's packet days are 2023's: ask for today
DAY=$(date -u +%Y-%m-%d)
FROM=$(date -u -d @$((NOW - 86400)) +%Y-%m-%d)
events --from "$FROM" --to "$DAY" > ev.json
python3 - "$NOW" ev.json <<'EOF' || fail "ledger events: $(cat ev.json)"
import json, sys, datetime as dt
now, ev = int(sys.argv[1]), json.load(open(sys.argv[2]))
ts = lambda s: int(dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp())
assert len(ev) == 2, ev
o, t = ev   # by start: osaka (now - 20000), tokyo (now - 9000)
assert o["evidence"]["sensor"]["of"] == "osaka" and o["evidence"]["ongoing"] == 1, o
assert ts(o["start"]) == now - 20000 and ts(o["end"]) >= now, o
assert "has been silent" in o["summary"]["en"] and "沈黙" in o["summary"]["ja"], o
assert t["evidence"]["sensor"]["of"] == "tokyo" and t["evidence"]["ongoing"] == 0, t
assert ts(t["start"]) == now - 9000 and ts(t["end"]) == now - 100, t
assert t["evidence"]["silence_s"] == 8900 and t["evidence"]["threshold_s"] == 3600, t
assert t["evidence"]["last_segment"] == 2 and t["evidence"]["next_segment"] == 3, t
assert t["evidence"]["cause"]["of"] == "unknown" and "is not known" in t["summary"]["en"], t   # 2023 captures
assert o["evidence"]["cause"]["of"] == "unknown", o   # ongoing: nothing to tell yet
print("ledger events:", t["summary"]["en"], "|", o["summary"]["en"])
EOF
# the cause, with capture spans as a live sensor's: tokyo's segment 3 (committed at now - 100)
# covering the gap from segment 2's end on: the upload path was down; then starting only 300 s
# before its commit: the sensor was
cause() { # first_ns_of_segment_3 -> prints cause and uncaptured_s
    python3 - "$T/store.db" "$NOW" "$1" <<'EOF'
import sqlite3, sys
d, now, first = sqlite3.connect(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
S = 10**9
for seq, a, b in ((1, now - 10060, now - 10001), (2, now - 9060, now - 9001), (3, first, now - 101)):
    d.execute("UPDATE collector_segments SET first_ns=?, last_ns=? WHERE sensor='tokyo' AND seq=?", (a * S, b * S, seq))
d.commit()
EOF
    events --from "$FROM" --to "$DAY" --sensor tokyo | python3 -c '
import json, sys
e = json.load(sys.stdin)[0]["evidence"]
print(e["cause"]["of"], e.get("uncaptured_s"))'
}
[ "$(cause $((NOW - 9001)))" = "upload 0" ] || fail "cause upload: $(cause $((NOW - 9001)))"
"$DS" events --type sensor_silent --from "$FROM" --to "$DAY" --sensor tokyo | grep -q 'no data was lost' ||
    fail "upload cause not in the summary: $("$DS" events --type sensor_silent --from "$FROM" --to "$DAY" --sensor tokyo)"
[ "$(cause $((NOW - 400)))" = "sensor 8600" ] || fail "cause sensor: $(cause $((NOW - 400)))"
"$DS" events --type sensor_silent --from "$FROM" --to "$DAY" --sensor tokyo --lang ja | grep -q 'データは欠落しています' ||
    fail "sensor cause not in the Japanese summary"
# --sensor, and the threshold from the configuration
[ "$(events --from "$FROM" --to "$DAY" --sensor tokyo | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
    || fail "--sensor tokyo"
printf '[detect]\nsensor_silence = 9000\n' >> darkscope.conf
[ "$(events --from "$FROM" --to "$DAY" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] \
    || fail "sensor_silence = 9000 should leave only osaka's 20000 s"
"$DS" stats > stats.txt
grep -q '^SILENT: sensor osaka ' stats.txt || fail "stats does not mark osaka silent: $(cat stats.txt)"
grep -q '^SILENT: sensor tokyo' stats.txt && fail "stats marks tokyo silent"
"$DS" stats --format json | python3 -c '
import json, sys
r = {x["sensor"]: x for x in json.load(sys.stdin)}
assert r["osaka"]["silent_s"] >= 20000 and r["tokyo"]["silent_s"] == 0, r' || fail "stats json silent_s"
printf '[detect]\nsensor_silence = 0\n' > bad.conf
"$DS" events -c bad.conf --type sensor_silent >/dev/null 2>err.txt && fail "sensor_silence = 0 accepted"
grep -q 'sensor_silence' err.txt || fail "no message naming sensor_silence: $(cat err.txt)"

# ---- 2. a store fed by files: gaps in the sensor's own packets
"$DS" ingest -q --db files.db --sensor tokyo t01.pcap t03.pcap
"$DS" synth -c darkscope.conf -o o.pcap --days 3 --start 2023-07-01 --rate 3000 --seed 5 -q
"$DS" ingest -q --db files.db --sensor osaka o.pcap
events --db files.db --from 2023-07-01 --to 2023-07-03 > ev2.json
python3 - ev2.json <<'EOF' || fail "packet-gap events: $(cat ev2.json)"
import json, sys
ev = json.load(open(sys.argv[1]))
assert len(ev) == 1, ev
e = ev[0]
assert e["evidence"]["sensor"]["of"] == "tokyo", e
assert e["start"] == "2023-07-02T00:00:00Z" and e["end"] == "2023-07-03T00:00:00Z", e
# from coverage (no capture of tokyo covers 2 July), which replaces the hourly search's event
assert e["evidence"]["empty_hours"] == 24 and e["evidence"]["source"]["value"] == 3, e
assert e["evidence"]["kind"]["of"] == "no capture covers it" and "missing, not low" in e["summary"]["en"], e
print("packet-gap event:", e["summary"]["en"])
EOF
echo "silence: all checks passed"
