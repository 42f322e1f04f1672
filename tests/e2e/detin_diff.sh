#!/usr/bin/env bash
# The detectors read the DETECT chunks (core/detin.h) instead of SRCSVC and SOURCES when every
# (file, sensor, day) they read has one; `events --format json` and `report --format json` must be
# byte for byte what the raw chunks give (DS_NO_DETIN=1), on every store built here.  The raw side
# also runs without source_rows.c's key screen (DS_NO_KEY_SCREEN=1: every record decoded and
# tried against every query), so the screen is checked on the same runs:
#   quarter   synth, 2 sensors x 92 days, --threads 2 (two threads' chunks a day): every event
#             type the generator plants, whole, per sensor, per type, over windows
#   split     vertical scans cut over many files of one day (hand-made): a scan whose every file
#             is under DS_DETIN_VERT_MIN ports (the day read from SOURCES: the bound alone reaches
#             the threshold), one listed in each file, one just short of 100 ports, one listed in
#             one file and left out of another (found through the bound)
#   realism   ../shared/corpus/realism's captures (nmap's vertical scan, floods, reflection, Mirai),
#             two sensors splitting the address space (skipped without the corpus)
#   mixed     a file whose DETECT and CROSS chunks were removed (as a store written before them): a
#             period reaching it reads the raw chunks, one that does not reads DETECT (and the
#             report's mixes CROSS, core/cross.h); then `store migrate` builds them, and every
#             period reads DETECT
#   exclude   --exclude research: the raw chunks (DETECT sums over every source)
source "$(dirname "$0")/lib.bash"
need python3
need sqlite3

n=0
inputs() { # ARGS...: which chunks `events ARGS` read
    DS_EVENTS_TIMING=1 $DS events "$@" --format json 2>&1 >/dev/null | sed -n 's/^events: inputs //p'
}
ev_cmp() { # NAME WANT ARGS...: events from DETECT (or not, WANT) and from the raw chunks agree
    local name=$1 want=$2; shift 2
    local got
    got=$(inputs "$@")
    [ "$got" = "$want" ] || fail "$name: events $* read '$got', not '$want'"
    $DS events "$@" --format json > new.json 2> new.err || fail "$name: events $*: $(cat new.err)"
    DS_NO_DETIN=1 DS_NO_KEY_SCREEN=1 $DS events "$@" --format json > old.json 2> old.err || fail "$name: raw events $*: $(cat old.err)"
    cmp -s new.json old.json || { diff old.json new.json | head -30 >&2; fail "$name: events $*: DETECT and the raw chunks differ"; }
    n=$((n + 1))
}
report_cmp() { # NAME PERIOD ARGS...
    local name=$1 period=$2; shift 2
    $DS report --period "$period" --format json -o new-r.json "$@" > /dev/null 2> new.err || fail "$name: report $*: $(cat new.err)"
    DS_NO_DETIN=1 DS_NO_KEY_SCREEN=1 $DS report --period "$period" --format json -o old-r.json "$@" > /dev/null 2> old.err ||
        fail "$name: raw report $*: $(cat old.err)"
    cmp -s new-r.json old-r.json || { diff old-r.json new-r.json | head -30 >&2; fail "$name: report --period $period $*: DETECT and the raw chunks differ"; }
    n=$((n + 1))
}
detect_chunks() { sqlite3 "$T/store.db" "SELECT count(*) FROM chunks WHERE kind = 8"; }
sources_chunks() { sqlite3 "$T/store.db" "SELECT count(*) FROM chunks WHERE kind = 3"; }

# ---- quarter
write_conf
$DS synth -q -o q.pcap --days 92 --rate 4000 --seed 5
$DS ingest -q --threads 2 q.pcap
[ "$(detect_chunks)" -gt 0 ] && [ "$(detect_chunks)" = "$(sources_chunks)" ] ||
    fail "quarter: $(detect_chunks) DETECT chunks for $(sources_chunks) SOURCES chunks"
ev_cmp quarter DETECT
$DS events --format json > all.json
python3 - all.json <<'PY' || fail "quarter: the synthetic quarter should show series, tool and Mirai events"
import json, sys
types = {e["type"] for e in json.load(open(sys.argv[1]))}
assert {"mirai", "tool"} <= types and types & {"spike", "surge", "new_service", "single_source"}, types
PY
ev_cmp quarter DETECT --sensor osaka
ev_cmp quarter DETECT --from 2023-08-01 --to 2023-08-31
ev_cmp quarter DETECT --from 2023-09-10 --to 2023-09-12 --sensor tokyo
for t in mirai tool vertical_scan spike single_source scan periodic_daily; do
    ev_cmp quarter DETECT --type "$t" --from 2023-07-20 --to 2023-09-30
done
report_cmp quarter 2023-08
report_cmp quarter 2023-09 --sensor tokyo --focus 23/tcp --focus CN --lang ja

# ---- split: vertical scans over many files of one day
rm -f "$T"/store.db*
write_conf
PYTHONPATH="$ROOT/tests/e2e" python3 - <<'PY'
from synpcap import T0, syn, write_pcap
files = {}
def add(name, t, pkt): files.setdefault(name, []).append((t, pkt))
# day 1: 192.0.2.1 probes 300 ports in 20 files of 15 (each under DS_DETIN_VERT_MIN)
for f in range(20):
    for i in range(15):
        p = f * 15 + i
        add("d1-%02d" % f, T0 + f * 3600 + i, syn("192.0.2.1", "198.51.100.9", 40000, 1 + p, p))
# day 2: 192.0.2.2 probes 120 ports in 4 files of 30 (each listed)
for f in range(4):
    for i in range(30):
        p = f * 30 + i
        add("d2-%02d" % f, T0 + 86400 + f * 3600 + i, syn("192.0.2.2", "198.51.100.10", 40000, 1 + p, p))
# day 3: 192.0.2.3 probes 98 ports in 7 files of 14: short of 100
for f in range(7):
    for i in range(14):
        p = f * 14 + i
        add("d3-%02d" % f, T0 + 2 * 86400 + f * 3600 + i, syn("192.0.2.3", "198.51.100.11", 40000, 1 + p, p))
# day 4: 192.0.2.4 probes 90 ports in one file and 12 more in another (left out: under 16)
for i in range(90):
    add("d4-00", T0 + 3 * 86400 + i, syn("192.0.2.4", "198.51.100.12", 40000, 1 + i, i))
for i in range(12):
    add("d4-01", T0 + 3 * 86400 + 3600 + i, syn("192.0.2.4", "198.51.100.12", 40000, 2000 + i, 90 + i))
# background: horizontal scanners on every day, one port each
for d in range(4):
    for i in range(200):
        add("d%d-bg" % (d + 1), T0 + d * 86400 + 7200 + i, syn("10.1.%d.%d" % (d, i), "198.51.100.%d" % (1 + i % 250), 5555, 23, i))
for name, pk in files.items():
    write_pcap(name + ".pcap", pk)
PY
$DS ingest -q d[1-4]-*.pcap
ev_cmp split DETECT
ev_cmp split DETECT --type vertical_scan
$DS events --type vertical_scan --format json > v.json
python3 - v.json <<'PY' || fail "split: vertical scans: $(cat v.json)"
import json, sys
ev = json.load(open(sys.argv[1]))
srcs = sorted(e["top_sources"][0]["address"] for e in ev)
assert srcs == ["192.0.2.1", "192.0.2.2", "192.0.2.4"], srcs
PY

# ---- realism
R=${DS_REALISM:-$ROOT/../shared/corpus/realism}
if ls "$R"/*.pcap* > /dev/null 2>&1; then
    rm -f "$T"/store.db*
    write_conf_sensors UTC low=0.0.0.0/1 high=128.0.0.0/1
    for f in "$R"/*.pcap*; do $DS ingest -q "$f" 2>/dev/null || true; done
    ev_cmp realism DETECT
    ev_cmp realism DETECT --from 2010-07-04 --to 2010-07-04
    ev_cmp realism DETECT --type vertical_scan
    $DS events --type vertical_scan --format json | grep -q '"172.16.0.8"' || fail "realism: nmap's vertical scan is missing"
else
    echo "detin_diff: no realism corpus at $R, skipped"
fi

# ---- mixed: a file without DETECT chunks
rm -f "$T"/store.db*
write_conf
$DS synth -q -o a.pcap --days 5 --rate 5000 --seed 21
$DS synth -q -o b.pcap --days 5 --start 2023-08-15 --rate 5000 --seed 22
$DS ingest -q a.pcap
sqlite3 "$T/store.db" "DELETE FROM chunks WHERE kind IN (8, 9)"   # DETECT and CROSS
$DS ingest -q b.pcap
ev_cmp mixed "SRCSVC and SOURCES"
ev_cmp mixed "SRCSVC and SOURCES" --from 2023-07-28 --to 2023-08-19 --type spike   # its baseline reaches a's days
ev_cmp mixed DETECT --from 2023-08-15 --to 2023-08-19   # 28 days of baseline: b's days alone
DS_NO_DETIN=1 inputs | grep -q "SRCSVC" || fail "mixed: DS_NO_DETIN=1 still reads DETECT"
report_cmp mixed 2023-08
# the mixes read CROSS where every file has it (b's days), SRCSVC otherwise (a's): both as the
# SRCSVC path (DS_NO_ROLLUP=1) gives them
for p in 2023-07 2023-08; do
    $DS report --period "$p" --format json -o c.json > /dev/null
    DS_NO_ROLLUP=1 $DS report --period "$p" --format json -o s.json > /dev/null
    cmp -s c.json s.json || fail "mixed: report --period $p: CROSS and SRCSVC mixes differ"
    n=$((n + 1))
done

# `store migrate` builds what a's file lacks: then every period reads DETECT (and CROSS), with
# the same bytes as the raw chunks; run again, it builds nothing
$DS events --format json > before.json
$DS store migrate > mig.out || fail "store migrate: $(cat mig.out)"
grep -q "built for [1-9][0-9]* (file, sensor, day)s" mig.out || fail "store migrate built nothing: $(cat mig.out)"
[ "$(detect_chunks)" = "$(sources_chunks)" ] || fail "migrate: $(detect_chunks) DETECT chunks for $(sources_chunks) SOURCES chunks"
ev_cmp migrated DETECT
ev_cmp migrated DETECT --from 2023-07-01 --to 2023-07-05 --type spike
$DS events --format json > after.json
cmp -s before.json after.json || fail "migrate: events changed"
report_cmp migrated 2023-07
$DS store migrate > mig.out
grep -q "built for" mig.out && fail "store migrate built again: $(cat mig.out)"

# ---- exclude: the raw chunks
printf '[detect]\nresearch_asns = 4134\n' >> darkscope.conf
ev_cmp exclude "SRCSVC and SOURCES" --exclude research --from 2023-08-15 --to 2023-08-19 --type mirai
echo "detin_diff: DETECT and the raw chunks agree on $n runs"
