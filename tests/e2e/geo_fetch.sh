# scripts/fetch-geo.sh explains a failed `npm pack` (issue #21): npm's own error lines, the cause
# and what to do.  An unreachable registry (a closed loopback port) and a registry whose TLS
# certificate npm does not trust (a self-signed HTTPS server on loopback, as behind a
# TLS-intercepting proxy); each fails, names the cause, and leaves no half-fetched folder.
source "$(dirname "$0")/lib.bash"
need npm
need openssl
export npm_config_fetch_retries=0 npm_config_cache=$T/npm-cache npm_config_update_notifier=false
unset NODE_EXTRA_CA_CERTS npm_config_cafile

run_fetch() { # registry -> err.txt; the script must fail
    set +e
    npm_config_registry=$1 timeout 120 sh "$ROOT/scripts/fetch-geo.sh" "$T/geo" > out.txt 2> err.txt
    local rc=$?
    set -e
    [ $rc -ne 0 ] || fail "fetch-geo succeeded against $1"
    [ $rc -ne 124 ] || fail "fetch-geo hung against $1"
    [ ! -e "$T/geo/country" ] && [ ! -e "$T/geo/country.tmp" ] || fail "fetch-geo left a folder behind"
}

# unreachable: the connection refused, and npm's own words
run_fetch http://127.0.0.1:9/
grep -q "npm said:" err.txt || { cat err.txt; fail "npm's output is not shown"; }
grep -q "ECONNREFUSED" err.txt || { cat err.txt; fail "the error does not name ECONNREFUSED"; }
grep -q "cannot be reached" err.txt || { cat err.txt; fail "no cause given for an unreachable registry"; }
grep -q "place the files by hand" err.txt || { cat err.txt; fail "no manual way given"; }

# a certificate npm does not trust, as a TLS-intercepting proxy presents
openssl req -x509 -newkey rsa:2048 -nodes -keyout k.pem -out c.pem -days 1 -subj /CN=127.0.0.1 2>/dev/null
python3 - > /dev/null 2>&1 <<'PY' &
import http.server, ssl
s = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain("c.pem", "k.pem")
s.socket = c.wrap_socket(s.socket, server_side=True)
open("port.tmp", "w").write(str(s.server_address[1]))
__import__("os").rename("port.tmp", "port")
s.serve_forever()
PY
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 50); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "the HTTPS server did not start"
run_fetch "https://127.0.0.1:$(cat port)/"
grep -Eq "SELF_SIGNED|self-signed" err.txt || { cat err.txt; fail "the error does not name the certificate"; }
grep -q "NODE_EXTRA_CA_CERTS" err.txt || { cat err.txt; fail "no NODE_EXTRA_CA_CERTS advice for an untrusted certificate"; }
grep -q "npm config set cafile" err.txt || { cat err.txt; fail "no cafile advice"; }
echo "geo_fetch ok"
