#!/usr/bin/env bash
# darkscope serve in a real browser: Debian's chromium driven by playwright-core (npm, installed
# by `make web-test-deps` into build/web-test; `playwright install` cannot download browsers
# here, so serve_browser.mjs points it at /usr/bin/chromium).  On a synthetic month, in English
# and Japanese: every view loads with no console error and no request to anything but the
# server, the numbers on the page equal `darkscope top --format json`, and a drill-down from
# 23/TCP reaches a single source (its source ports equal the report's focus section, its first
# payloads are listed); the overview's IoT share is the report's and its daily chart shades the
# sensors' outages.  Skips only when chromium or node is not installed (make deps
# installs both).  SHOTS=DIR keeps screenshots of the main views (docs/img/ in the README).
source "$(dirname "$0")/lib.bash"
need curl
need python3
need node
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip "chromium not installed at $CHROMIUM (make deps installs Debian's chromium)"
"$DS" serve --help >/dev/null 2>&1 || skip "$DS has no serve command"
if [ ! -f "$ROOT/build/web-test/node_modules/playwright-core/package.json" ]; then
    make -s -C "$ROOT" web-test-deps >/dev/null 2>&1 || skip "playwright-core not installed and npm ci failed (make web-test-deps)"
fi
write_conf UTC
# June: the previous period; no capture on 2023-07-15: an outage of both sensors, shaded
"$DS" synth -q -o a.pcap --days 44 --start 2023-06-01 --rate 4000 --seed 24
"$DS" synth -q -o b.pcap --days 16 --start 2023-07-16 --rate 4000 --seed 25
"$DS" ingest -q a.pcap b.pcap

# the CLI's numbers for the views the browser visits
F=(--from 2023-07-01 --to 2023-07-31)
echo '{"from": "2023-07-01", "to": "2023-07-31", "last": "2023-07-31"}' > period.json
"$DS" top ports "${F[@]}" -n 20 --format json > ports.json
"$DS" top ports "${F[@]}" -n 0 --format json > ports_all.json
"$DS" top ports --from 2023-05-31 --to 2023-06-30 -n 100 --format json > ports_prev.json
"$DS" top countries "${F[@]}" -n 20 --format json > countries.json
"$DS" top countries "${F[@]}" -n 20 --where port=23/tcp --format json > countries_23.json
"$DS" top asns "${F[@]}" -n 20 --where port=23/tcp --format json > asns_23.json
"$DS" top sources "${F[@]}" -n 50 --where port=23/tcp --format json > sources_23.json
"$DS" top sources "${F[@]}" -n 0 --format json > sources_all.json
"$DS" events "${F[@]}" --format json > events.json
# an event without a daily series of its own: the app draws its service's (or region's) series
python3 - > ev_plain.txt <<'PY'
import json
ev = json.load(open("events.json"))
i = next(i for i, e in enumerate(ev) if "series" not in e and (e["service"] or e["country"]))
print(i, ev[i]["service"] and "port=" + ev[i]["service"] or "country=" + ev[i]["country"])
PY
read -r EV_PLAIN EV_WHERE < ev_plain.txt
"$DS" top ports "${F[@]}" -n 0 --where "$EV_WHERE" --format json > ev_plain_top.json
echo "{\"index\": $EV_PLAIN}" > ev_plain.json
"$DS" stats --format json > stats.json
# the report's IoT share and the focus section's source ports of 23/tcp (no CLI command prints a cube)
"$DS" report --period 2023-07-01..2023-07-31 --compare none --focus 23/tcp --format json > report.json
python3 -c 'import json; assert json.load(open("period.json"))["last"] == max(r["last"] for r in json.load(open("stats.json")))[:10]' \
    || fail "the store's last day is not 2023-07-31"

rm -f port
"$DS" serve --listen 127.0.0.1:0 --port-file port >serve.log 2>&1 &
SPID=$!
trap '[ -z "${SPID:-}" ] || kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || { cat serve.log; fail "serve did not start"; }
[ -n "${SHOTS:-}" ] && mkdir -p "$SHOTS"
DS_ROOT=$ROOT CHROMIUM=$CHROMIUM timeout 300 node "$ROOT/tests/e2e/serve_browser.mjs" "http://127.0.0.1:$(cat port)" "$T" ${SHOTS:+"$SHOTS"} \
    || { tail -n 20 serve.log; fail "the browser checks failed"; }
kill "$SPID"
rc=0; wait "$SPID" || rc=$?
[ "$rc" = 0 ] || { tail -n 30 serve.log; fail "serve exited with $rc"; }
SPID=
