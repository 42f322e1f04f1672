#!/usr/bin/env bash
# TLS to a ClickHouse store (issue #23: "user, password file, TLS options"), against a server of
# the test's own with an <https_port> (clickhouse.bash, ch_start_tls: loopback, a temporary
# directory, a throwaway CA and a server certificate for 127.0.0.1 and localhost made with
# openssl(1); skipped when clickhouse-server or openssl is not installed).
#   works      ingest over https ([store] secure = true, ca_file = the test CA) and `top ports`
#              over https give the bytes the same captures give over plain http, and the SQLite
#              store; the URL form (?secure=1&ca_file=) and the host name localhost too
#   refusals   each a clear error naming the problem: no ca_file (the server's CA is not one
#              this system trusts), a host the certificate does not name (127.0.0.2), secure=1
#              to the plain http port, plain http to the https port, a missing ca_file,
#              ca_file without secure, a bad [store] secure value
#   warning    a user's password over plain http to a host that is not loopback
# SHOW=1 prints each refusal's message.
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
ch_start_tls ds
write_conf
CA=$T/tls/ca.crt
TLS_URL=clickhouse://127.0.0.1:$CH_HTTPS/ds
sed "s|^path = .*|url = $TLS_URL\nsecure = true\nca_file = $CA|" darkscope.conf > tls.conf
sed "s|^path = .*|url = clickhouse://127.0.0.1:$CH_HTTP/plain|" darkscope.conf > plain.conf
echo "ClickHouse $CH_VERSION on 127.0.0.1: http $CH_HTTP, https $CH_HTTPS"

# ---- works: the same answers over https as over http
$DS synth -q -o a.pcap --days 3 --rate 3000 --seed 7
$DS synth -q -o b.pcap --days 2 --rate 2000 --seed 8 --start 2023-07-02
for f in a.pcap b.pcap; do
    $DS ingest -q -c tls.conf "$f" 2> e || fail "ingest $f over https: $(cat e)"
    $DS ingest -q -c plain.conf "$f" 2> e || fail "ingest $f over http: $(cat e)"
    $DS ingest -q "$f" 2> e || fail "ingest $f into SQLite: $(cat e)"
done
P=(--from 2023-07-01 --to 2023-07-31)
for fmt in table json; do
    $DS top ports "${P[@]}" --format "$fmt" > sq.out || fail "top ports (SQLite)"
    $DS top ports "${P[@]}" --format "$fmt" -c tls.conf > tls.out 2> e || fail "top ports over https: $(cat e)"
    $DS top ports "${P[@]}" --format "$fmt" -c plain.conf > plain.out 2> e || fail "top ports over http: $(cat e)"
    [ -s tls.out ] || fail "top ports over https printed nothing"
    cmp -s tls.out plain.out || { diff tls.out plain.out | head >&2; fail "top ports ($fmt): https and http differ"; }
    cmp -s tls.out sq.out || { diff tls.out sq.out | head >&2; fail "top ports ($fmt): https and SQLite differ"; }
done
# the database written over https, read over plain http (the same server): the same rows
$DS top ports "${P[@]}" --format json --db "clickhouse://127.0.0.1:$CH_HTTP/ds" > via_http.out ||
    fail "top ports over http of the https-written database"
cmp -s via_http.out tls.out || fail "the database written over https reads differently over http"
# the URL's own options, and the certificate's DNS name
$DS top ports "${P[@]}" --format json --db "$TLS_URL?secure=1&ca_file=$CA" > url.out 2> e || fail "?secure=1&ca_file=: $(cat e)"
cmp -s url.out tls.out || fail "?secure=1&ca_file= answers differently"
$DS top ports "${P[@]}" --format json --db "clickhouse://localhost:$CH_HTTPS/ds?secure=1&ca_file=$CA" > lh.out 2> e ||
    fail "localhost (the certificate's DNS name): $(cat e)"
cmp -s lh.out tls.out || fail "localhost answers differently"
$DS stats -c tls.conf > /dev/null 2> e || fail "stats over https: $(cat e)"
echo "https: ingest, top ports (2 formats), stats: the same bytes as http and SQLite"

# ---- refusals
refuse() { # WHAT PATTERN COMMAND...: the command fails and its stderr matches PATTERN
    local what=$1 pat=$2 st=0
    shift 2
    "$@" > /dev/null 2> e || st=$?
    [ "$st" != 0 ] || fail "$what: accepted"
    grep -q -- "$pat" e || fail "$what: $(cat e)"
    [ -z "${SHOW:-}" ] || cat e
}
# no ca_file: the test CA is not one this system trusts
refuse "no ca_file" "TLS: the server's certificate was not accepted: .*certificate.*a private CA: give it with ca_file=PATH" \
    $DS top ports "${P[@]}" --db "$TLS_URL?secure=1"
# a host the certificate does not name (127.0.0.2 reaches the same server)
refuse "wrong host name" "TLS: the server's certificate was not accepted: .*127.0.0.2.*name the host 127.0.0.2 and be signed by the CA in ca_file $CA" \
    $DS top ports "${P[@]}" --db "clickhouse://127.0.0.2:$CH_HTTPS/ds?secure=1&ca_file=$CA"
# TLS to the plain http port, plain http to the https port
refuse "secure=1 to the http port" "TLS handshake with 127.0.0.1:$CH_HTTP failed: .*is $CH_HTTP the server's https_port?" \
    $DS top ports "${P[@]}" --db "clickhouse://127.0.0.1:$CH_HTTP/ds?secure=1&ca_file=$CA"
# a plain port that says nothing to a ClientHello until the connect timeout (10 s): ClickHouse's
# http port does that now and then instead of answering an error (a CI run saw "SSL connection
# timeout"); the same mistake, the same hint
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); c, _ = s.accept(); time.sleep(15)' "$port" listening &
silent=$!
for _ in $(seq 50); do [ -e listening ] && break; sleep 0.1; done
refuse "secure=1 to a silent plain port" "TLS handshake with 127.0.0.1:$port failed: SSL connection timeout (is $port the server's https_port?)" \
    $DS top ports "${P[@]}" --db "clickhouse://127.0.0.1:$port/ds?secure=1&ca_file=$CA"
kill "$silent" 2>/dev/null || true
refuse "http to the https port" "cannot reach ClickHouse at 127.0.0.1:$CH_HTTPS: .*add secure=1" \
    $DS top ports "${P[@]}" --db "$TLS_URL"
refuse "a missing ca_file" "ca_file $T/nope.pem: No such file or directory" \
    $DS top ports "${P[@]}" --db "$TLS_URL?secure=1&ca_file=$T/nope.pem"
refuse "ca_file without secure" "ca_file=$CA without secure=1" \
    $DS top ports "${P[@]}" --db "$TLS_URL?ca_file=$CA"
sed "s|^secure = true|secure = on|" tls.conf > bad.conf
refuse "[store] secure = on" "\[store\] secure = on: write true" $DS stats -c bad.conf
echo "refusals: clear errors (no CA, wrong host, wrong port either way, missing CA file, bad values)"

# ---- the warning: a password in the clear to a host that is not loopback (.invalid never resolves)
: > pw
refuse "plain http to a remote host" "cannot reach ClickHouse" \
    $DS stats --db "clickhouse://db.invalid:$CH_HTTP/ds?user=default&password_file=$T/pw"
grep -q "warning: store clickhouse://db.invalid:$CH_HTTP/ds: user default's password goes over plain http" e ||
    fail "no warning for a password over plain http: $(cat e)"
$DS stats --db "clickhouse://127.0.0.1:$CH_HTTP/ds?user=default&password_file=$T/pw" > /dev/null 2> e ||
    fail "user over loopback http: $(cat e)"
[ ! -s e ] || fail "a warning for loopback: $(cat e)"
echo "warning: a password over plain http to a remote host"
echo "clickhouse_tls: ok"
