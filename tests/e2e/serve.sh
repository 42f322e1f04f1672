#!/usr/bin/env bash
# darkscope serve, on loopback only (127.0.0.1, an ephemeral port), driven with curl(1): every
# endpoint of /api/v1 gives the bytes the CLI prints for the same filters (top, events, stats,
# collector --health), the series and a source's detail add up to top's numbers, every bad
# parameter is a 400 naming it, POST is a 405, with --tokens the API needs a reader's bearer
# token (the app's files do not), with --users a name and password (HTTP Basic; right, wrong,
# empty, removed; only a crypt(3) hash in the file; never over plain HTTP off loopback), plain HTTP is refused on a non-loopback address without
# --insecure-plain-http, /cube's grouped counts add up to top's, answers are kept until an ingest changes the store, the
# kept period views change no answer (against --view-memory 0 and 1, before and after an ingest), every answer carries the Content-Security-Policy, and HTTPS works with
# a self-signed certificate when openssl(1) is there.  DS=build-sanitize/darkscope runs it
# against the sanitizer build (a sanitizer report makes serve exit 99 at SIGTERM: a failure).
source "$(dirname "$0")/lib.bash"
need curl
need python3
"$DS" serve --help >/dev/null 2>&1 || skip "$DS has no serve command"
write_conf Asia/Tokyo
"$DS" synth -q -o a.pcap --days 21 --start 2023-07-01 --rate 4000 --seed 24
"$DS" ingest -q a.pcap

SPID=
start_serve() { # extra args...
    rm -f port
    "$DS" serve --listen 127.0.0.1:0 --port-file port -v "$@" >>serve.log 2>&1 &
    SPID=$!
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { cat serve.log; fail "serve did not start"; }
    URL=http://127.0.0.1:$(cat port)
}
stop_serve() { # SIGTERM: a clean stop, exit 0
    kill "$SPID" 2>/dev/null || true
    local rc=0
    wait "$SPID" 2>/dev/null || rc=$?
    SPID=
    [ "$rc" = 0 ] || { tail -n 30 serve.log >&2; fail "serve exited with $rc"; }
}
trap '[ -z "${SPID:-}" ] || kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
# get PATH [curl args]: the body into body, prints the status
get() { local p=$1; shift; curl -sS -o body -w '%{http_code}' "$@" "$URL$p"; }

start_serve

# ---- the API gives the CLI's bytes
same() { # api-path cli-args...
    local p=$1; shift
    local code; code=$(get "$p")
    [ "$code" = 200 ] || fail "$p: HTTP $code: $(cat body)"
    "$DS" "$@" > cli.out
    cmp -s body cli.out || { diff body cli.out | head -5; fail "$p differs from darkscope $*"; }
}
for d in ports countries asns sources; do
    same "/api/v1/top?dim=$d" top $d --format json
    same "/api/v1/top?dim=$d&limit=0&from=2023-07-03&to=2023-07-09&service=23/tcp,2323/tcp" \
        top $d -n 0 --from 2023-07-03 --to 2023-07-09 --where port=23/tcp --where port=2323/tcp --format json
done
same "/api/v1/top?dim=ports&country=cn,US&class=scan&limit=25" \
    top ports --where country=CN --where country=US --class scan -n 25 --format json
same "/api/v1/top?dim=countries&asn=AS4134&sensor=tokyo" top countries --where asn=4134 --sensor tokyo --format json
same "/api/v1/top?dim=sources&tool=mirai&limit=0" top sources --where tool=mirai -n 0 --format json
same "/api/v1/events" events --format json
same "/api/v1/events?type=mirai&from=2023-07-05&to=2023-07-12" events --type mirai --from 2023-07-05 --to 2023-07-12 --format json
same "/api/v1/coverage" stats --format json
same "/api/v1/sensors" collector --health --format json

# ---- span, and the overview: made of `top`s and the series, and precomputed for the presets
[ "$(get /api/v1/span)" = 200 ] && [ "$(cat body)" = '{"first": "2023-07-01", "last": "2023-07-22"}' ] \
    || fail "span: $(cat body)"
[ "$(get '/api/v1/overview?from=2023-07-08&to=2023-07-14')" = 200 ] || fail "overview: $(cat body)"
cp body overview.json
"$DS" top ports --from 2023-07-08 --to 2023-07-14 -n 20 --format json > o_ports.json
"$DS" top countries --from 2023-07-08 --to 2023-07-14 -n 20 --format json > o_countries.json
"$DS" top ports --from 2023-07-01 --to 2023-07-07 -n 100 --format json > o_prev_ports.json
"$DS" top countries --from 2023-07-01 --to 2023-07-07 -n 100 --format json > o_prev_countries.json
[ "$(get '/api/v1/series?from=2023-07-08&to=2023-07-14')" = 200 ] && cp body o_series.json
"$DS" report --period 2023-07-08..2023-07-14 --compare none --format json > o_report.json
python3 - <<'PY' || fail "the overview differs from top and series"
import json
o = json.load(open("overview.json"))
assert o["from"] == "2023-07-08" and o["to"] == "2023-07-14" and o["previous"] == {"from": "2023-07-01", "to": "2023-07-07"}, o["previous"]
for k, f in (("ports", "o_ports"), ("countries", "o_countries"), ("previous_ports", "o_prev_ports"),
             ("previous_countries", "o_prev_countries"), ("series", "o_series")):
    assert o[k] == json.load(open(f + ".json")), k
iot = dict(o["iot"]); services = iot.pop("services")
rep = json.load(open("o_report.json"))["iot"]
assert iot == rep, (iot, rep)                         # the report's IoT share, the same numbers
assert len(services) == rep["iot_services_in_top"] and "23/tcp" in services, services
assert o["series"]["total_sources"] > 0
PY
for _ in $(seq 100); do grep -q 'precomputed the week overview' serve.log && break; sleep 0.1; done
grep -q 'precomputed the quarter overview 2023-07-01..2023-07-22 -> 200' serve.log || fail "the quarter's overview not precomputed: $(cat serve.log)"
grep -q 'precomputed the week overview 2023-07-16..2023-07-22 -> 200' serve.log || fail "the week's overview not precomputed"
[ "$(curl -sS -D - -o body "$URL/api/v1/overview?to=2023-07-22&from=2023-07-01" | tr -d '\r' | sed -n 's/^[Xx]-[Dd]arkscope-[Cc]ache: //p')" = hit ] \
    || fail "the quarter preset's overview is not ready"
# the presets' events after their overviews: ready, and the bytes `events --format json` gives
for _ in $(seq 200); do grep -q 'precomputed the day events' serve.log && break; sleep 0.1; done
grep -q 'precomputed the quarter events 2023-07-01..2023-07-22 -> 200' serve.log || fail "the quarter's events not precomputed: $(cat serve.log)"
[ "$(curl -sS -D - -o body "$URL/api/v1/events?from=2023-07-01&to=2023-07-22" | tr -d '\r' | sed -n 's/^[Xx]-[Dd]arkscope-[Cc]ache: //p')" = hit ] \
    || fail "the quarter preset's events are not ready"
"$DS" events --from 2023-07-01 --to 2023-07-22 --format json | cmp -s - body || fail "the precomputed events differ from the CLI's"

# ---- answers kept until the store changes: a second ask is a hit, an ingest drops them
hdr() { curl -sS -D hdr -o body "$URL$1" >/dev/null; tr -d '\r' < hdr | sed -n 's/^[Xx]-[Dd]arkscope-[Cc]ache: //p'; }
[ "$(hdr '/api/v1/top?dim=asns&limit=7')" = miss ] || fail "first ask not a miss"
[ "$(hdr '/api/v1/top?limit=7&dim=asns')" = hit ] || fail "the same ask (parameters in another order) not a hit"
"$DS" top asns -n 7 --format json | cmp -s - body || fail "a cached answer differs from the CLI"
[ -z "$(hdr '/api/v1/sensors')" ] || fail "sensors (lag: now - ...) was cached"
"$DS" synth -q -o b.pcap --days 2 --start 2023-07-22 --rate 4000 --seed 25
"$DS" ingest -q b.pcap
[ "$(hdr '/api/v1/top?dim=asns&limit=7')" = miss ] || fail "an answer outlived an ingest"
"$DS" top asns -n 7 --format json | cmp -s - body || fail "after an ingest, top differs from the CLI"
[ "$(hdr '/api/v1/top?dim=asns&limit=7')" = hit ] || fail "not kept after the ingest"

# ---- series and a source's detail add up to top's numbers
[ "$(get '/api/v1/series?service=23/tcp&from=2023-07-02&to=2023-07-20')" = 200 ] || fail "series: $(cat body)"
cp body series.json
"$DS" top ports --where port=23/tcp --from 2023-07-02 --to 2023-07-20 --format json > top23.json
[ "$(get '/api/v1/series?step=hour&from=2023-07-02&to=2023-07-03')" = 200 ] || fail "hourly series: $(cat body)"
cp body hours.json
"$DS" top sources -n 0 --format json > sources.json
ADDR=$(python3 -c 'import json; print(json.load(open("sources.json"))[3]["key"])')
[ "$(get "/api/v1/source/$ADDR")" = 200 ] || fail "source/$ADDR: $(cat body)"
cp body source.json
python3 - "$ADDR" <<'PY' || fail "series or source detail disagree with top"
import json, sys
s = json.load(open("series.json")); t = json.load(open("top23.json"))
assert s["step"] == "day" and len(s["points"]) == 19, s["points"][:2]
assert sum(p["packets"] for p in s["points"]) == s["total_packets"] == t[0]["packets"], (s["total_packets"], t)
assert s["total_sources"] == t[0]["sources"], (s["total_sources"], t[0])
h = json.load(open("hours.json"))
assert len(h["points"]) == 48 and h["points"][0]["t"] == "2023-07-01T15:00:00Z", h["points"][0]   # Tokyo days
assert all(p["packets"] is None or p["packets"] >= 0 for p in h["points"])
addr = sys.argv[1]
row = [r for r in json.load(open("sources.json")) if r["key"] == addr][0]
d = json.load(open("source.json"))
assert d["address"] == addr and len(d["source"]) == 1
mine = dict(d["source"][0]); mine.pop("rank"); mine.pop("share"); row = dict(row); row.pop("rank"); row.pop("share")
assert mine == row, (mine, row)
assert sum(r["packets"] for r in d["services"]) == row["packets"]
assert d["days"]["total_packets"] == row["packets"] and sum(p["packets"] > 0 for p in d["days"]["points"]) == row["days"]
for e in d["events"]:
    assert addr in [x["address"] for x in e["top_sources"] + e.get("all_sources", [])], e["type"]
PY

# ---- cube: grouped counts that add up to top's (the report's queries, analysis/cube.h)
[ "$(get '/api/v1/cube?by=sport&service=23/tcp&from=2023-07-02&to=2023-07-20&sources=1&limit=10')" = 200 ] || fail "cube sport: $(cat body)"
cp body cube_sport.json
[ "$(get '/api/v1/cube?by=sport&service=23/tcp&from=2023-07-02&to=2023-07-20')" = 200 ] || fail "cube sport all: $(cat body)"
cp body cube_sport_all.json
[ "$(get '/api/v1/cube?by=service,day&from=2023-07-02&to=2023-07-20&country=CN')" = 200 ] || fail "cube service,day: $(cat body)"
cp body cube_sd.json
"$DS" top ports -n 0 --where country=CN --from 2023-07-02 --to 2023-07-20 --format json > top_cn.json
[ "$(get '/api/v1/cube?by=day&service=23/tcp&from=2023-07-02&to=2023-07-20&sources=1')" = 200 ] || fail "cube day: $(cat body)"
cp body cube_day.json
python3 - <<'PY' || fail "cube disagrees with top and series"
import json
t = json.load(open("top23.json"))[0]; s = json.load(open("series.json"))
c = json.load(open("cube_sport.json")); a = json.load(open("cube_sport_all.json"))
assert c["by"] == ["sport"] and c["total_packets"] == t["packets"] and c["total_sources"] == t["sources"], (c["total_packets"], t)
assert a["total_sources"] is None and "sources" not in a["cells"][0] and a["cells_total"] == len(a["cells"]) == c["cells_total"]
assert sum(x["packets"] for x in a["cells"]) == t["packets"]
assert len(c["cells"]) == min(10, c["cells_total"]) and all("sources" in x for x in c["cells"])
pk = [x["packets"] for x in c["cells"]]
assert pk == sorted(pk, reverse=True) and pk[0] == max(x["packets"] for x in a["cells"]), pk
keys = [x["sport"] for x in a["cells"]]
assert all(isinstance(k, int) or k == "various" for k in keys), keys[:5]
sd = json.load(open("cube_sd.json")); tc = json.load(open("top_cn.json"))
per = {}
for x in sd["cells"]:
    per[x["service"]] = per.get(x["service"], 0) + x["packets"]
assert per == {r["key"]: r["packets"] for r in tc}, "service,day != top ports"
d = json.load(open("cube_day.json"))
assert [(x["day"], x["packets"], x["sources"]) for x in d["cells"]] == [(p["t"], p["packets"], p["sources"]) for p in s["points"] if p["packets"]]
assert d["total_sources"] == s["total_sources"]
PY

# ---- many requests at once (more than the request threads and store handles): every answer whole
BURST=()
paths=("/api/v1/top?dim=ports" "/api/v1/top?dim=asns&limit=30" "/api/v1/series?service=23/tcp" "/api/v1/events"
       "/api/v1/source/$ADDR" "/api/v1/coverage" "/api/v1/top?dim=sources&limit=50&country=CN")
for i in $(seq 0 27); do
    p=${paths[$((i % ${#paths[@]}))]}
    curl -sS -o "burst.$i" -w '%{http_code}\n' "$URL$p$([[ $p == *\?* ]] && echo '&' || echo '?')unknown_$i=" > "burst.$i.code" &
    BURST+=($!)
done
wait "${BURST[@]}"   # not a bare wait: serve is a child too
BURST=()
for i in $(seq 0 27); do
    p=${paths[$((i % ${#paths[@]}))]}
    [ "$(cat "burst.$i.code")" = 400 ] || fail "burst $p: $(cat "burst.$i.code")"   # the unknown parameter
done
for i in $(seq 0 27); do
    p=${paths[$((i % ${#paths[@]}))]}
    curl -sS -o "burst.$i" -w '%{http_code}\n' "$URL$p" > "burst.$i.code" &
    BURST+=($!)
done
wait "${BURST[@]}"
for i in $(seq 0 27); do
    p=${paths[$((i % ${#paths[@]}))]}
    [ "$(cat "burst.$i.code")" = 200 ] || fail "burst $p: HTTP $(cat "burst.$i.code")"
    [ "$(get "$p")" = 200 ] && { [ "$p" = /api/v1/coverage ] || cmp -s body "burst.$i"; } || fail "burst $p: a different answer"
done

# ---- bad requests: 400 naming the parameter, 404, 405
bad() { # expected-code path parameter-named
    local code; code=$(get "$2")
    [ "$code" = "$1" ] || fail "$2: HTTP $code, expected $1: $(cat body)"
    python3 -c 'import json,sys; d=json.load(open("body")); assert d["status"] == "error" and d["code"] == int(sys.argv[1]) and d["error"].startswith(sys.argv[2]), d' \
        "$1" "$3" || fail "$2: the error does not start with '$3': $(cat body)"
}
bad 400 "/api/v1/top" "dim: "
bad 400 "/api/v1/top?dim=port" "dim: 'port'"
bad 400 "/api/v1/top?dim=ports&from=2023-13-01" "from: '2023-13-01'"
bad 400 "/api/v1/top?dim=ports&from=2023-07-10&to=2023-07-01" "to: is before from"
bad 400 "/api/v1/top?dim=ports&to=yesterday" "to: 'yesterday'"
bad 400 "/api/v1/top?dim=ports&limit=-1" "limit: '-1'"
bad 400 "/api/v1/top?dim=ports&limit=ten" "limit: 'ten'"
bad 400 "/api/v1/top?dim=ports&service=99999/tcp" "service: '99999/tcp'"
bad 400 "/api/v1/top?dim=ports&service=23/tcp,,22/tcp" "service: "
bad 400 "/api/v1/top?dim=ports&country=CHN" "country: 'CHN'"
bad 400 "/api/v1/top?dim=ports&asn=ASx" "asn: 'ASx'"
bad 400 "/api/v1/top?dim=ports&class=worm" "class: 'worm'"
bad 400 "/api/v1/top?dim=ports&tool=curl" "tool: 'curl'"
bad 400 "/api/v1/top?dim=ports&sensor=nagoya" "sensor: 'nagoya'"
bad 400 "/api/v1/top?dim=ports&colour=red" "colour: unknown parameter"
bad 400 "/api/v1/top?dim=ports&country=CN&country=RU" "country: given twice"
bad 400 "/api/v1/series?step=minute" "step: 'minute'"
bad 400 "/api/v1/series?step=hour&service=23/tcp" "step: 'hour'"
bad 400 "/api/v1/events?type=worm" "type: 'worm'"
bad 400 "/api/v1/events?service=23/tcp" "service: unknown parameter"
bad 400 "/api/v1/source/300.1.2.3" "source: '300.1.2.3'"
bad 400 "/api/v1/source/$ADDR?events=yes" "events: 'yes'"
bad 400 "/api/v1/coverage?from=2023-07-01" "from: unknown parameter"
bad 400 "/api/v1/cube" "by: missing"
bad 400 "/api/v1/cube?by=day,day" "by: 'day,day'"
bad 400 "/api/v1/cube?by=day,service,asn" "by: 'day,service,asn'"
bad 400 "/api/v1/cube?by=hour" "by: 'hour'"
bad 400 "/api/v1/cube?by=day&sources=2" "sources: '2'"
bad 400 "/api/v1/cube?by=day&limit=x" "limit: 'x'"
bad 400 "/api/v1/cube?by=day&country=C" "country: 'C'"
bad 404 "/api/v1/nothing" "no such endpoint"
bad 404 "/etc/passwd" "no such page"
bad 404 "/static/../../etc/passwd" "no such page"
[ "$(get /api/v1/top?dim=ports -X POST)" = 405 ] || fail "POST is not refused"
[ "$(get /api/v1/top?dim=ports -X DELETE)" = 405 ] || fail "DELETE is not refused"

# ---- the app's files, the security headers
for f in / /static/app.js /static/uPlot.iife.min.js /static/uPlot.min.css; do
    curl -sS -D hdr -o body "$URL$f" || fail "GET $f"
    grep -qi "^content-security-policy: default-src 'self'" hdr || fail "$f: no CSP: $(cat hdr)"
    grep -qi '^x-content-type-options: nosniff' hdr || fail "$f: no nosniff"
    [ -s body ] || fail "$f: empty"
done
grep -q '<script type="module" src="/static/app.js">' <(curl -sS "$URL/") || fail "index.html does not load app.js"
curl -sS "$URL/" | grep -qi '<script>' && fail "index.html has an inline script"
curl -sS -D hdr -o /dev/null "$URL/api/v1/sensors"
grep -qi '^cache-control: no-store' hdr || fail "API answers may be cached"
stop_serve

# ---- the kept period views (serve_views.c) change no answer: a server that keeps them, asked
# each period twice (the second ask reads the view the first one filled), answers what a server
# that reads the store for every request (--view-memory 0) answers, and so does one whose budget
# (--view-memory 1: 1 MiB) drops each view once its request is done; after an ingest the views
# are dropped, and the answers are the new store's
start_serve --no-cache
VURL=$URL
side_serve() { # LOG ARGS...: another server on this store; prints its URL
    rm -f port
    "$DS" serve --listen 127.0.0.1:0 --port-file port --no-cache "${@:2}" >>"$1" 2>&1 &
    echo $! >> side.pids
    for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
    [ -s port ] || { cat "$1" >&2; fail "serve ${*:2} did not start"; }
    echo "http://127.0.0.1:$(cat port)"
}
: > side.pids
NURL=$(side_serve serve_noviews.log --view-memory 0)
TURL=$(side_serve serve_tiny.log --view-memory 1)
views_same() { # label: every request of the list to both servers, twice, the same bytes
    local Q p i
    for Q in 'from=2023-07-02&to=2023-07-20' 'from=2023-07-10&to=2023-07-16&sensor=tokyo' 'from=2023-07-01&to=2023-07-23'; do
        for i in 1 2; do
            for p in "series?service=23/tcp&$Q" "top?dim=countries&limit=20&service=23/tcp&$Q" \
                     "top?dim=sources&limit=50&service=23/tcp&$Q" "top?dim=ports&limit=0&$Q" \
                     "cube?by=sport&sources=1&limit=20&service=23/tcp&$Q" "cube?by=day,country&sources=1&$Q" \
                     "source/$ADDR?$Q" "events?$Q" "events?type=spike&$Q" "overview?$Q"; do
                curl -sS -o views.a "$VURL/api/v1/$p" && curl -sS -o views.b "$NURL/api/v1/$p" &&
                    curl -sS -o views.c "$TURL/api/v1/$p" || fail "$1: GET $p"
                cmp -s views.a views.b || { diff views.a views.b | head -5; fail "$1: $p differs with the kept views"; }
                cmp -s views.c views.b || { diff views.c views.b | head -5; fail "$1: $p differs with a 1 MiB view budget"; }
            done
        done
    done
}
views_same "kept views"
"$DS" synth -q -o c.pcap --days 1 --start 2023-07-15 --rate 4000 --seed 26   # into the kept periods' days
"$DS" ingest -q c.pcap
views_same "after an ingest"
curl -sS -o body "$VURL/api/v1/top?dim=sources&limit=50&service=23/tcp&from=2023-07-02&to=2023-07-20"
"$DS" top sources -n 50 --where port=23/tcp --from 2023-07-02 --to 2023-07-20 --format json | cmp -s - body ||
    fail "after an ingest, a kept view's top differs from the CLI"
while read -r pid; do kill "$pid"; wait "$pid" || true; done < side.pids
stop_serve

# ---- tokens: the API needs one, the app's files do not
TOK=$("$DS" token new alice --tokens readers)
"$DS" token new bob --tokens readers >/dev/null
start_serve --tokens readers
[ "$(get /api/v1/sensors)" = 401 ] || fail "no token: not 401"
grep -qi bearer <(curl -sS -D - -o /dev/null "$URL/api/v1/sensors") || fail "401 without WWW-Authenticate: Bearer"
[ "$(get /api/v1/sensors -H 'Authorization: Bearer dst_0000000000000000000000000000000000000000000000000000000000000000')" = 401 ] \
    || fail "a wrong token: not 401"
[ "$(get /api/v1/sensors -H "Authorization: Basic $TOK")" = 401 ] || fail "not a bearer scheme: not 401"
[ "$(get /api/v1/sensors -H "Authorization: bearer $TOK")" = 200 ] || fail "alice's token: $(cat body)"
[ "$(get /)" = 200 ] || fail "the app needs no token"
"$DS" token revoke alice --tokens readers
sleep 0.05   # a new mtime
[ "$(get /api/v1/sensors -H "Authorization: Bearer $TOK")" = 401 ] || fail "a revoked token still works"
stop_serve

# ---- users: a name and a password (HTTP Basic, RFC 7617), only the crypt(3) hash stored
PW='correct horse battery staple'
printf '%s\n' "$PW" | "$DS" user add carol --users users 2>/dev/null || fail "user add carol"
printf 'other pw\r\n' | "$DS" user add dave --users users --method sha512 2>/dev/null || fail "user add dave (sha512)"
rc=0; printf '\n' | "$DS" user add erin --users users 2>err || rc=$?
[ "$rc" = 1 ] && grep -q 'password is empty' err || fail "an empty password accepted: rc $rc $(cat err)"
rc=0; "$DS" user add erin --users users </dev/null 2>err || rc=$?
[ "$rc" = 1 ] && grep -q 'no password read' err || fail "no password: rc $rc $(cat err)"
rc=0; printf 'x\n' | "$DS" user add carol --users users 2>err || rc=$?
[ "$rc" = 1 ] && grep -q 'exists' err || fail "user add of an existing user: rc $rc"
rc=0; printf 'x\n' | "$DS" user add 'bad:name' --users users 2>err || rc=$?
[ "$rc" = 1 ] || fail "a name with ':' accepted"
[ "$(stat -c %a users)" = 600 ] || fail "users file mode $(stat -c %a users)"
grep -qF "$PW" users && fail "the password is stored in clear"
grep -q 'other pw' users && fail "dave's password is stored in clear"
grep -q '^carol \$y\$' users && grep -q '^dave \$6\$' users || fail "not yescrypt / SHA-512 hashes: $(cat users)"
[ "$("$DS" user list --users users | tr '\n' ' ')" = "carol dave " ] || fail "user list"
start_serve --users users
[ "$(get /api/v1/span)" = 401 ] || fail "users: no Authorization: not 401"
curl -sS -D - -o /dev/null "$URL/api/v1/span" | tr -d '\r' | grep -qi '^www-authenticate: Basic realm="darkscope", charset="UTF-8"' \
    || fail "users: 401 without WWW-Authenticate: Basic"
[ "$(get /api/v1/span -u "carol:$PW")" = 200 ] || fail "carol's password: $(cat body)"
[ "$(get /api/v1/span -u "carol:$PW")" = 200 ] || fail "carol's password, again (remembered)"
[ "$(get /api/v1/span -u 'dave:other pw')" = 200 ] || fail "dave's (SHA-512) password: $(cat body)"
[ "$(get /api/v1/span -u 'carol:wrong')" = 401 ] || fail "a wrong password: not 401"
[ "$(get /api/v1/span -u 'carol:')" = 401 ] || fail "an empty password: not 401"
[ "$(get /api/v1/span -u "mallory:$PW")" = 401 ] || fail "an unknown user: not 401"
[ "$(get /api/v1/span -u "dave:$PW")" = 401 ] || fail "carol's password for dave: not 401"
[ "$(get /api/v1/span -H 'Authorization: Basic bm9jb2xvbg==')" = 401 ] || fail "Basic without ':': not 401"
[ "$(get /api/v1/span -H 'Authorization: Basic !!!!')" = 401 ] || fail "Basic not base64: not 401"
[ "$(get /api/v1/span -H "Authorization: Bearer $TOK")" = 401 ] || fail "a token without --tokens: not 401"
"$DS" user remove carol --users users 2>/dev/null
sleep 0.05
[ "$(get /api/v1/span -u "carol:$PW")" = 401 ] || fail "a removed user (remembered before) still works"
printf 'new pw\n' | "$DS" user add dave --users users --replace 2>/dev/null
sleep 0.05
[ "$(get /api/v1/span -u 'dave:other pw')" = 401 ] || fail "dave's old password still works"
[ "$(get /api/v1/span -u 'dave:new pw')" = 200 ] || fail "dave's new password"
stop_serve
# both: a token or a password
TOK2=$("$DS" token new frank --tokens readers 2>/dev/null)
start_serve --users users --tokens readers
[ "$(get /api/v1/span -H "Authorization: Bearer $TOK2")" = 200 ] || fail "tokens and users: the token"
[ "$(get /api/v1/span -u 'dave:new pw')" = 200 ] || fail "tokens and users: the password"
[ "$(curl -sS -D - -o /dev/null "$URL/api/v1/span" | tr -d '\r' | grep -ci '^www-authenticate:')" = 2 ] \
    || fail "tokens and users: not both challenges"
stop_serve
# HTTP Basic crosses the network over TLS only: --insecure-plain-http does not allow it
rc=0; "$DS" serve --listen 0.0.0.0:0 --users users --insecure-plain-http > out.txt 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "users' passwords" out.txt || fail "--users over plain HTTP on 0.0.0.0 not refused (rc $rc): $(cat out.txt)"

# ---- plain HTTP on a non-loopback address: refused without --insecure-plain-http
rc=0; "$DS" serve --listen 0.0.0.0:0 > out.txt 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'insecure-plain-http' out.txt || fail "plain HTTP on 0.0.0.0 not refused (rc $rc): $(cat out.txt)"
rc=0; "$DS" serve --listen '[::]:0' > out.txt 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'insecure-plain-http' out.txt || fail "plain HTTP on [::] not refused (rc $rc): $(cat out.txt)"
rc=0; "$DS" serve > out.txt 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q -- '--listen' out.txt || fail "no --listen: rc $rc"
rc=0; "$DS" serve --listen 127.0.0.1:0 --tls-cert x.pem > out.txt 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q 'both --tls-cert and --tls-key' out.txt || fail "a cert without a key: rc $rc: $(cat out.txt)"

# ---- HTTPS
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 || fail "openssl req"
    chmod 600 key.pem
    start_serve --tls-cert cert.pem --tls-key key.pem
    URL=https://127.0.0.1:$(cat port)
    [ "$(get '/api/v1/top?dim=ports' --cacert cert.pem)" = 200 ] || fail "HTTPS: $(cat body)"
    "$DS" top ports --format json | cmp -s - body || fail "HTTPS: top differs"
    stop_serve
    start_serve --tls-cert cert.pem --tls-key key.pem --users users
    URL=https://127.0.0.1:$(cat port)
    [ "$(get /api/v1/span --cacert cert.pem)" = 401 ] || fail "HTTPS and users: no password: not 401"
    [ "$(get /api/v1/span --cacert cert.pem -u 'dave:new pw')" = 200 ] || fail "HTTPS and users: $(cat body)"
    stop_serve
else
    echo "openssl not installed: HTTPS not tested"
fi
grep -q 'GET /api/v1/top -> 200' serve.log || fail "no request log line"
echo "serve: all checks passed"
