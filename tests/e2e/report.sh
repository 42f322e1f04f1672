# darkscope report: the JSON tables agree with `top` over the period and the previous one
# (exact_counts ties `top` to tcpdump), ranks, per-address-per-day values and changes are
# computed as documented, HTML and Markdown come out in both languages, research scanners are
# excluded from every figure, and bad options are refused.
source "$(dirname "$0")/lib.bash"
write_conf
$DS synth -q -o half.pcap --start 2023-04-01 --days 183 --rate 2500 --seed 5 --truth truth.json
$DS ingest -q half.pcap

$DS report --period 2023Q3 --format json -o q3.json
$DS top ports --from 2023-07-01 --to 2023-09-30 --limit 0 --format json > p3.json
$DS top ports --from 2023-04-01 --to 2023-06-30 --limit 0 --format json > p2.json
$DS top countries --from 2023-07-01 --to 2023-09-30 --limit 0 --format json > c3.json
$DS top countries --from 2023-04-01 --to 2023-06-30 --limit 0 --format json > c2.json
python3 - <<'EOF' || fail "report JSON disagrees with top"
import json, math
rep = json.load(open("q3.json"))
assert rep["period"] == {"label": "Q3 2023", "kind": "quarter", "from": "2023-07-01", "to": "2023-09-30",
                         "days": 92, "timezone": "UTC"}, rep["period"]
assert rep["previous_period"]["from"] == "2023-04-01" and rep["previous_period"]["days"] == 91
addresses = rep["totals"]["addresses"]
assert addresses == 512, addresses
def check(table, cur, prev, days, pdays):
    prev_rank = {r["key"]: i + 1 for i, r in enumerate(prev)}
    prev_pk = {r["key"]: r["packets"] for r in prev}
    total = sum(r["packets"] for r in cur)
    assert rep["totals"]["packets"] == total, (rep["totals"]["packets"], total)
    assert len(table) == 10, len(table)
    for i, (row, want) in enumerate(zip(table, cur)):
        assert row["rank"] == i + 1
        assert row["key"] == want["key"], (row["key"], want["key"])
        assert row["packets"] == want["packets"], (row["key"], row["packets"], want["packets"])
        assert row["sources"] == want["sources"], (row["key"], row["sources"], want["sources"])
        assert row["per_ip_per_day"] == round(want["packets"] / (addresses * days), 2), row
        assert abs(row["share"] - want["packets"] / total) < 1e-6
        assert row["previous_rank"] == prev_rank.get(row["key"]), (row["key"], row["previous_rank"])
        pp = prev_pk.get(row["key"], 0)
        assert row["previous_packets"] == pp
        assert row["change"] == row["packets"] - pp
        if pp:
            assert abs(row["change_pct"] - round((row["packets"] - pp) * 100 / pp, 2)) < 0.006, row
        else:
            assert row["change_pct"] is None
        assert sum(d["packets"] for d in row["daily"]) == row["packets"]
        assert len(row["daily"]) == days and row["daily"][0]["date"] == "2023-07-01"
    # increase / decrease ranks over every key of either period, by absolute change
    keys = {r["key"] for r in cur} | {r["key"] for r in prev}
    cur_pk = {r["key"]: r["packets"] for r in cur}
    ch = {k: cur_pk.get(k, 0) - prev_pk.get(k, 0) for k in keys}
    ups = sorted((k for k in keys if ch[k] > 0), key=lambda k: -ch[k])
    downs = sorted((k for k in keys if ch[k] < 0), key=lambda k: ch[k])
    for row in table:
        k = row["key"]
        if ch[k] > 0:
            assert row["increase_rank"] == ups.index(k) + 1 or ch[ups[row["increase_rank"] - 1]] == ch[k], row
            assert row["decrease_rank"] is None
        elif ch[k] < 0:
            assert row["decrease_rank"] == downs.index(k) + 1 or ch[downs[row["decrease_rank"] - 1]] == ch[k], row
            assert row["increase_rank"] is None
check(rep["services"], json.load(open("p3.json")), json.load(open("p2.json")), 92, 91)
check(rep["regions"], json.load(open("c3.json")), json.load(open("c2.json")), 92, 91)
assert rep["services"][0]["key"] == "23/tcp" and rep["services"][0]["name"] == "telnet"
assert rep["services"][0]["iot"], "23/tcp is an IoT-targeted service"
assert rep["regions"][0]["name"], rep["regions"][0]
t = rep["totals"]
assert t["per_ip_per_day"] == round(t["packets"] / (512 * 92), 2)
assert rep["iot"]["top"] == 30 and 0 < rep["iot"]["share"] <= 1
# notable phenomena: the events of the period, as `darkscope events` finds them
assert any(e["type"] == "mirai" for e in rep["events"]), rep["events"][:2]
assert all(e["summary"] and e["start"] <= e["end"] for e in rep["events"])
mix = rep["services_of_regions"]
assert mix["rows"] == [r["key"] for r in rep["regions"][:5]], mix["rows"]
for k, row in enumerate(mix["rows"]):
    assert mix["row_totals"][k] == rep["regions"][k]["packets"]
    assert sum(mix["packets"][k]) <= mix["row_totals"][k]
EOF

# --compare none: no previous period anywhere
$DS report --period 2023Q3 --compare none --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["previous_period"] is None and r["previous_totals"] is None and r["change_pct"] is None
for row in r["services"] + r["regions"]:
    assert row["previous_rank"] is None and row["change"] is None and row["increase_rank"] is None
' || fail "--compare none"

# a month and a range; a focus on a service and on a region
$DS report --period 2023-08 --format json --top 5 --focus 23/tcp --focus CN > m.json
python3 - <<'EOF' || fail "month report with focus sections"
import json
r = json.load(open("m.json"))
assert r["period"]["days"] == 31 and r["previous_period"]["from"] == "2023-07-01"
assert len(r["services"]) == 5
f = {x["key"]: x for x in r["focus"]}
s, c = f["23/tcp"], f["CN"]
assert s["type"] == "service" and c["type"] == "region"
svc_row = next(x for x in r["services"] if x["key"] == "23/tcp")
assert s["packets"] == svc_row["packets"] and s["rank"] == svc_row["rank"]
assert sum(d["packets"] for d in s["daily"]) == s["packets"]
assert len(s["daily_sources"]) == 31 and max(d["sources"] for d in s["daily_sources"]) <= s["sources"]
assert s["split_by"] == "region" and c["split_by"] == "service"
for part in s["split"]:
    assert sum(d["packets"] for d in part["daily"]) == part["packets"]
assert 0 < len(s["source_ports"]) <= 5 and sum(p["packets"] for p in s["source_ports"]) <= s["packets"]
assert all(p["port"] is None or 0 <= p["port"] <= 65535 for p in s["source_ports"])
assert s["top_sources"] and s["top_sources"][0]["packets"] >= s["top_sources"][-1]["packets"]
assert c["organisations"] and all("asn" in o for o in c["organisations"])
assert all(ts["country"] == "CN" for ts in c["top_sources"])
EOF
$DS report --period 2023-07-10..2023-07-20 --format json | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert r["period"]["days"] == 11 and r["previous_period"]["to"] == "2023-07-09" and r["previous_period"]["days"] == 11
' || fail "range period"

# HTML in both languages: one offline file; Markdown with its figures beside it
$DS report --period 2023Q3 -o q3.html
grep -q '<html lang="en"' q3.html || fail "html lang en"
grep -q '23/TCP' q3.html || fail "html lacks 23/TCP"
grep -q 'data:image/svg+xml;base64,' q3.html || fail "html has no embedded figures"
if grep -Eo '(src|href)="[^"]*"' q3.html | grep -Eq '"(https?:)?//'; then fail "html loads something from the network"; fi
$DS report --period 2023Q3 --lang ja -o q3ja.html
grep -q '<html lang="ja"' q3ja.html || fail "html lang ja"
grep -q '件/IP・日' q3ja.html || fail "Japanese html lacks 件/IP・日"
grep -q '2023年' q3ja.html || fail "Japanese html lacks a Japanese date"
grep -q '注目された現象' q3ja.html || fail "Japanese html lacks the notable phenomena section"
# a report is for readers: no command lines or internal field names in its sentences (issue #20)
LEAK='darkscope events|--type|internet_rate_pps|[a-z]+_packets|[0-9]e\+0[0-9]'
for f in q3.html q3ja.html; do
    sed 's/data:image[^"]*//g' "$f" > text.tmp   # the embedded figures are base64
    if grep -Eq "$LEAK" text.tmp; then
        grep -Eo ".{0,60}($LEAK).{0,20}" text.tmp | head -3
        fail "$f: a command line, field name or 1e+04-style number in a sentence"
    fi
done
mkdir md && $DS report --period 2023Q3 --lang ja -o md/q3.md
ls md/q3-*.svg > /dev/null 2>&1 || fail "markdown figures not written beside the file"
for f in $(grep -Eo '\]\([^)]+\.svg\)' md/q3.md | sed 's/^](//; s/)$//'); do
    [ -s "md/$f" ] || fail "markdown links a missing figure $f"
done

# research scanners: excluded from every figure, both periods
python3 - <<'EOF'
import json
t = json.load(open("truth.json"))
srcs = [s["src"] for s in t["scanners"] if s["tool"] == "zmap"][:3]
json.dump({"name": "test research scanners", "type": "cidr", "list": [s + "/32" for s in srcs]},
          open("research.json", "w"))
open("srcs.txt", "w").write("\n".join(srcs) + "\n")
EOF
printf '[detect]\nresearch_lists = %s/research.json\n' "$T" >> darkscope.conf
$DS report --period 2023Q3 --exclude research --format json -o ex.json
excluded=0
for s in $(cat srcs.txt); do
    n=$($DS top sources --from 2023-07-01 --to 2023-09-30 --limit 0 --format json | python3 -c "
import json, sys; print(sum(r['packets'] for r in json.load(sys.stdin) if r['key'] == '$s'))")
    excluded=$((excluded + n))
done
[ "$excluded" -gt 0 ] || fail "the planted zmap scanners sent nothing in Q3?"
python3 -c "
import json
a, b = json.load(open('q3.json')), json.load(open('ex.json'))
assert b['excluded'], 'no exclusion label'
assert a['totals']['packets'] - b['totals']['packets'] == $excluded, (a['totals']['packets'], b['totals']['packets'], $excluded)
assert a['totals']['sources'] - b['totals']['sources'] == len(open('srcs.txt').read().split())
" || fail "--exclude research"

# "Notable phenomena" (issue #20): numbered subsections with their figures, sentences a CSIRT can
# publish (no command lines, field names, exponents, "1 packets"), Japanese with the tables'
# country names, no sign after 増加/減少, full-width brackets in the title.
$DS report --period 2023Q3 -o md/q3en.md
python3 - <<'PY' || fail "the notable phenomena section"
import re
for f, ja in (("md/q3en.md", False), ("md/q3.md", True)):
    t = open(f, encoding="utf-8").read()
    sec = t[t.index("注目された現象" if ja else "Notable phenomena"):]
    sec = sec[:sec.index("\n## ")]
    subs = re.findall(r"^### 4\.(\d+) (.+)$", sec, re.M)
    assert len(subs) >= 3, (f, subs)
    assert [int(n) for n, _ in subs] == list(range(1, len(subs) + 1)), subs
    assert ".svg)" in sec, "no figure in the section"
    prose = "\n".join(l for l in sec.splitlines() if l and not l.startswith(("|", "!", "#", "*")))
    for bad in (r"[0-9]e[+-][0-9]", r"`", r"\b[a-z]+_[a-z_]+\b", r"--[a-z]", r"\b1 (packets|days|sources|hosts)\b",
                r"rank [0-9]{4,}"):
        m = re.search(bad, prose)
        assert not m, (f, bad, prose[max(0, m.start() - 80):m.end() + 80])
    if ja:
        assert "大韓民国" not in t and "ロシア連邦" not in t, "formal country names"
        assert not re.search(r"(増加|減少)したのは[^。]*で、[+-]", t), "a sign after 増加/減少"
        assert re.search(r"^# .*第3四半期（7月～9月）", t, re.M), t.splitlines()[0]
print("phenomena:", len(subs), "subsections")
PY

# bad options: one clear line, exit 2 (usage) or 1 (config)
expect() { # status pattern command...
    local want=$1 pat=$2; shift 2
    set +e; "$@" > /dev/null 2> err.txt; local rc=$?; set -e
    [ $rc -eq "$want" ] || { cat err.txt; fail "'$*': exit $rc, want $want"; }
    grep -q -- "$pat" err.txt || { cat err.txt; fail "'$*': message lacks '$pat'"; }
}
expect 2 "period is required" $DS report
expect 2 "2023Q5" $DS report --period 2023Q5
expect 2 "use en or ja" $DS report --period 2023Q3 --lang fr
expect 2 "html, md or json" $DS report --period 2023Q3 --format pdf
expect 2 "focus 'tcp'" $DS report --period 2023Q3 --focus tcp
expect 2 "only exclusion" $DS report --period 2023Q3 --exclude bots
sed -i '/^\[detect\]/,$d' darkscope.conf
expect 1 "no research scanners are configured" $DS report --period 2023Q3 --exclude research
echo '{"type": "cidr", "list": ["192.0.2.0/24", ' > broken.json
printf '[detect]\nresearch_lists = %s/broken.json\n' "$T" >> darkscope.conf
expect 1 "broken.json: not a warninglist" $DS report --period 2023Q3 --exclude research
[ ! -e nothing.html ] || fail "a failed report left a file"
echo "report: ok"
