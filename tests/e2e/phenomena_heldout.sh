# Issue #4's bar on held-out quarters: `darkscope synth` plants phenomena at random (the seed picks
# services, countries, sources, days and sizes); every planted phenomenon whose start falls in
# 2023Q3 is found with the right type, service and/or country and a start within a day, and at
# most 10 spike / surge / new_service / single_source events match nothing planted.  The first
# part is not met yet: the test prints both verdicts and fails only on a regression (below).
#
# The detectors were tuned on seeds 1-18 only (10-18 validated the 2026-11-22 change first).
# HELDOUT_SEEDS are seeds nobody looked at while tuning (docs/testing.md): a failure here means the detectors do not generalise, and the fix is
# never to pick another seed.  Each run prints what it found so the numbers can be quoted.
source "$(dirname "$0")/lib.bash"
HELDOUT_SEEDS=${HELDOUT_SEEDS:-"20261122 4711"}
for seed in $HELDOUT_SEEDS; do
    write_conf
    rm -f store.db*
    $DS synth -q -o q.pcap --start 2023-04-01 --days 183 --seed "$seed" --truth truth.json
    $DS ingest -q -j 2 q.pcap
    $DS events --from 2023-07-01 --to 2023-09-30 --format json > ev.json
    SEED=$seed python3 - <<'PY' || fail "seed $seed: more planted phenomena missed than before, or too many unplanted events"
import datetime, json, os
def ts(x): return datetime.datetime.fromisoformat(x.replace("Z", "+00:00")).timestamp()
Q_FROM, Q_TO = ts("2023-07-01T00:00:00Z"), ts("2023-10-01T00:00:00Z")
truth = json.load(open("truth.json"))["phenomena"]
ev = json.load(open("ev.json"))
SERIES = ("spike", "surge", "new_service", "single_source")
# The right service and/or region: a planted service must be the event's; a planted country must
# be the event's, except that an event about the planted service may leave the country out (a
# weekly cycle of one country's traffic to a service is found on the service's series).
def same_key(p, e):
    if p.get("service") and e.get("service") != p["service"]:
        return False
    if p.get("country") and e.get("country") != p["country"]:
        return bool(p.get("service")) and e.get("country") is None
    return True
def found(p):
    if p["type"] == "tool":   # every planted source of the tool is attributed to it
        got = {t["address"] for e in ev if e["type"] == "tool" and e.get("tool") == p["tool"] for t in e.get("all_sources", e["top_sources"])}
        want = set(p.get("sources") or [p.get("source")])
        return want <= got
    for e in ev:
        if e["type"] != p["type"]:
            continue
        if not same_key(p, e):
            continue
        if p["type"].startswith("periodic") or abs(ts(e["start"]) - ts(p["start"])) <= 86400:
            return e
    return None
planted = [p for p in truth if Q_FROM <= ts(p["start"]) < Q_TO or p["type"].startswith("periodic")]
missed = [p for p in planted if not found(p)]
# an unplanted event: a series event that overlaps no planted phenomenon of the same key in time
def explained(e):
    for p in truth:
        if same_key(p, e) and (p.get("service") or p.get("country")) and \
           ts(e["start"]) <= ts(p["end"]) + 86400 and ts(e["end"]) >= ts(p["start"]) - 86400:
            return True
    return False
unplanted = [e for e in ev if e["type"] in SERIES and not explained(e)]
print("seed %s: %d planted in 2023Q3, %d found, %d missed; %d series events, %d unplanted" % (
    os.environ["SEED"], len(planted), len(planted) - len(missed), len(missed),
    sum(e["type"] in SERIES for e in ev), len(unplanted)))
for p in missed:
    print("  missed:", json.dumps(p))
for e in unplanted:
    print("  unplanted:", e["type"], e.get("service"), e.get("country"), e["start"], e["summary"]["en"][:160])
assert planted, "nothing planted in the quarter"
# Issue #4's bar is no miss at all; it is NOT met yet (2026-11-22: one planted spike missed on each
# held-out seed before the series change, one country spike on seed 4711 after it; see
# docs/detection.md).  Until it is, this fails on any further miss, so that a
# change can only keep or improve detection; the line above says where it stands.
print("bar (every planted phenomenon found): %s; bar (<= 10 unplanted): %s" % (
    "met" if not missed else "MISSED", "met" if len(unplanted) <= 10 else "MISSED"))
MAX_MISSED = 1
assert len(missed) <= MAX_MISSED and len(unplanted) <= 10
PY
done
echo "phenomena_heldout: ok"
