# Issue #20's onset bar on a tuning seed: every spike, surge, new_service and single_source that
# `darkscope synth` plants in 2023Q3 is found (type and service or country) with its start within
# 1.5 days of the planted start (events are dated to local midnight of their first day; a
# phenomenon that begins late in a day is found on that day or the next).  Prints each error.
# Seed 3 is series.sh's; on tuning seeds 1-18 the largest error is 0.87 days (docs/detection.md).
# Then a regression on tuning seed 210: its single host on 81/tcp from 18 July rode on two days of
# background excess and was dated 16 July (-2.34 days); a one-host event is dated by its host.
source "$(dirname "$0")/lib.bash"
write_conf
$DS synth -q -o q.pcap --start 2023-04-01 --days 183 --seed ${ONSETS_SEED:-3} --truth truth.json
$DS ingest -q q.pcap
$DS events --from 2023-07-01 --to 2023-09-30 --format json > ev.json
python3 - <<'PY' || fail "a planted phenomenon was missed or dated more than 1.5 days from its start"
import datetime, json
def ts(x): return datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
Q_FROM, Q_TO = ts("2023-07-01T00:00:00Z"), ts("2023-10-01T00:00:00Z")
truth = json.load(open("truth.json"))["phenomena"]; ev = json.load(open("ev.json"))
def same_key(p, e):
    if p.get("service") and e.get("service") != p["service"]: return False
    if p.get("country") and e.get("country") != p["country"]:
        return bool(p.get("service")) and e.get("country") is None
    return True
bad, n = [], 0
for p in truth:
    if p["type"] not in ("spike", "surge", "new_service", "single_source") or not Q_FROM <= ts(p["start"]) < Q_TO:
        continue
    n += 1
    m = [e for e in ev if e["type"] == p["type"] and same_key(p, e) and
         ts(e["start"]) <= ts(p["end"]) + 86400 and ts(e["end"]) >= ts(p["start"]) - 86400]
    if not m:
        bad.append(("missed", p)); continue
    err = min((ts(e["start"]) - ts(p["start"])) / 86400 for e in m)
    print("onset %-13s %-10s %s: %+.2f days" % (p["type"], p.get("service") or p.get("country"), p["start"][:16], err))
    if abs(err) > 1.5: bad.append((err, p))
print("onsets: %d planted, %d off" % (n, len(bad)))
assert n > 0 and not bad, bad
PY
rm -f "$T"/store.db*
$DS synth -q -o q.pcap --start 2023-04-01 --days 183 --seed 210
$DS ingest -q q.pcap
$DS events --from 2023-07-01 --to 2023-09-30 --type single_source --format json > ev.json
python3 - <<'PY' || fail "seed 210: the one host on 81/tcp is not dated by its own first day (18 July)"
import json
ev = [e for e in json.load(open("ev.json")) if e["service"] == "81/tcp"]
print("seed 210, 81/tcp:", [(e["start"], e["end"], e["top_sources"][0]["address"]) for e in ev])
assert len(ev) == 1 and ev[0]["start"].startswith("2023-07-18") and ev[0]["end"].startswith("2023-07-20"), ev
assert ev[0]["top_sources"][0]["address"] == "210.212.72.180", ev
PY
echo "onsets: ok"
