# Coverage in `top` and `report` (issue #19): every rate divides by covered address-days, the
# report names every outage overlapping its period (wherever it began) with its dates, compares
# rates when the periods' coverage differs, and says plainly when a period has no data.
#
# 45 days of synthetic traffic (1 June .. 15 July 2023, UTC); osaka (203.0.113.0/24) is cut out
# from 5 June 00:00 to 22 June 00:00 UTC: 17 whole days, hour-aligned, so the covered
# address-days are known exactly: June has 256 x 30 (tokyo) + 256 x 13 (osaka).
source "$(dirname "$0")/lib.bash"
write_conf
$DS synth -q -o full.pcap --start 2023-06-01 --days 45 --rate 5000 --seed 19
python3 "$ROOT/tests/e2e/pcap_drop.py" full.pcap cut.pcap 203.0.113.0/24 \
    "$(date -u -d 2023-06-05T00:00:00Z +%s)" "$(date -u -d 2023-06-22T00:00:00Z +%s)" > /dev/null
rm -f full.pcap
$DS ingest -q cut.pcap

# (a) top: per_ip_per_day = packets / covered address-days, computed here from the known outage
$DS top ports --from 2023-06-01 --to 2023-06-30 --limit 0 --format json > all.json
$DS top ports --from 2023-06-01 --to 2023-06-30 --limit 0 --sensor osaka --format json > osaka.json
python3 - <<'PY' || fail "top's per_ip_per_day is not packets / covered address-days"
import json
for name, ad in (("all.json", 256 * 30 + 256 * (30 - 17)), ("osaka.json", 256 * (30 - 17))):
    rows = json.load(open(name))
    assert rows, name
    for r in rows[:20]:
        want = r["packets"] / ad
        assert abs(r["per_ip_per_day"] - want) <= max(0.005 * want, 1e-6), (name, r, want)
PY
$DS top ports --from 2023-06-01 --to 2023-06-30 | tail -1 | grep -q '11008.0 covered address-days' ||
    fail "top's total line does not state the covered address-days"

# (b) the month's report names the outage with its dates and states each sensor's coverage
$DS report --period 2023-06 --format json -o june.json
python3 - <<'PY' || fail "report JSON: coverage and outage"
import json
r = json.load(open("june.json"))
c = r["coverage"]
assert c["address_days"] == 256 * 30 + 256 * 13, c["address_days"]
assert abs(r["totals"]["per_ip_per_day_exact"] - r["totals"]["packets"] / c["address_days"]) < 1e-6, r["totals"]
for row in r["services"]:
    assert abs(row["per_ip_per_day_exact"] - row["packets"] / c["address_days"]) < 1e-6, row
s = {x["name"]: x for x in c["sensors"]}
assert s["osaka"]["covered_days"] == 13 and s["tokyo"]["covered_days"] == 30 and s["osaka"]["days"] == 30, s
assert c["outages"] == [{"sensor": "osaka", "from": "2023-06-05T00:00:00Z", "to": "2023-06-22T00:00:00Z",
                         "hours": 17 * 24, "kind": "inferred", "open": False}], c["outages"]
d = {x["date"]: x["share"] for x in c["daily"]}
assert d["2023-06-04"] == 1 and d["2023-06-10"] == 0.5 and d["2023-06-22"] == 1, d
PY
$DS report --period 2023-06 -o june.md
grep -q 'osaka: down from 5 June 2023 00:00 to 22 June 2023 00:00 UTC (17 d;' june.md || fail "report text does not name the outage"
grep -q '| osaka | 256 | 13.00 | 30 | 43.3% |' june.md || fail "report text lacks osaka's covered days"
grep -q 'Grey bands mark days' june.md || fail "daily figures do not say what the shading means"
grep -q 'fill-opacity' june-services-daily.svg || fail "the daily figure has no shaded days"
$DS report --period 2023-06 --lang ja -o june-ja.md
grep -q 'osaka：2023年6月5日 00:00～2023年6月22日 00:00（UTC）の17日観測できませんでした' june-ja.md ||
    fail "Japanese report does not name the outage"

# (e) an outage that began more than 7 days before the period is named, from where it began
$DS report --period 2023-06-20..2023-06-30 --format json | python3 -c '
import json, sys
o = json.load(sys.stdin)["coverage"]["outages"]
assert o and o[0]["sensor"] == "osaka" and o[0]["from"] == "2023-06-05T00:00:00Z" and o[0]["to"] == "2023-06-22T00:00:00Z", o
' || fail "an outage that began before the period is not named from its start"
$DS report --period 2023-06-20..2023-06-30 -o late.md
grep -q 'the outage began before the period' late.md || fail "the text does not say the outage began earlier"

# (c) July runs past the end of the data (15 of 31 days), June had the outage: the changes
# compare rates, not raw totals (which would show a drop of about a third)
$DS report --period 2023-07 --format json -o july.json
python3 - <<'PY' || fail "a period past the end of the data reports a drop artefact"
import json
r = json.load(open("july.json"))
c, t, p = r["coverage"], r["totals"], r["previous_totals"]
assert r["change_basis"] == "rates", r["change_basis"]
assert c["address_days"] == 512 * 15 and c["previous_address_days"] == 256 * 30 + 256 * 13, c
rate, prate = t["packets"] / c["address_days"], p["packets"] / c["previous_address_days"]
assert abs(r["change_pct"] - round((rate - prate) * 100 / prate, 2)) < 0.011, (r["change_pct"], rate, prate)
raw = (t["packets"] - p["packets"]) * 100 / p["packets"]
assert raw < -20 and abs(r["change_pct"]) < 15, (raw, r["change_pct"])
assert r["sources_change_pct"] is None
PY
$DS report --period 2023-07 -o july.md
grep -q 'so changes compare packets per covered address-day' july.md || fail "the text does not say changes compare rates"
grep -q "The store's data runs from 1 June 2023 to 15 July 2023" july.md || fail "the text does not say where the data ends"

# (d) a period with no data: a plain message, non-zero exit, nothing written
if $DS report --period 2023Q4 -o q4.html 2> err.txt; then fail "a report of a period with no data succeeded"; fi
grep -q 'No data for Q4 2023: the store covers 1 June 2023 – 15 July 2023.' err.txt || fail "no-data message: $(cat err.txt)"
[ ! -e q4.html ] || fail "a no-data report wrote a file"
if $DS report --period 2023Q4 --lang ja --format json 2> err.txt > out.json; then fail "ja: no-data report succeeded"; fi
grep -q '2023年第4四半期（10月～12月）のデータはありません' err.txt || fail "ja no-data message: $(cat err.txt)"
[ ! -s out.json ] || fail "a no-data report printed a document"
echo "coverage_report: ok"
