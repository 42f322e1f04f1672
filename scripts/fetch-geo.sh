#!/bin/sh
# Fetch the default geo data (never committed) into data/geo/ with `npm pack`:
#   @ip-location-db/geo-whois-asn-country-mmdb  country per address, from the five RIRs'
#                                                 delegation files and whois (what TSUBAME means by region)
#   @ip-location-db/asn                          ASN and organisation per range (CSV)
# Data licences: see data/geo/*/NRO_LICENSE, ROUTEVIEWS-LICENSE, DBIP-LICENSE after fetching.
#
# When npm fails, its own error lines are shown (not thrown away) with what to do for the usual
# causes: a TLS-intercepting proxy (npm does not trust its CA), no route or proxy, a registry
# that does not have the package; and how to put the files in place by hand (docs/geo.md).
set -eu
dir=${1:-data/geo}
mkdir -p "$dir"

# npm's error, its likely cause, and the ways around it; $1 package, $2 folder, $3 npm's output
explain() {
  echo "fetch-geo: npm pack $1 failed; npm said:" >&2
  # the lines that say what went wrong come first; stack frames and the log's path are left out
  grep -v -e '^npm error A complete log' -e '^npm error *$' -e '^npm error  *at ' "$3" | head -n 5 |
    sed 's/^/    /' >&2
  code=$(sed -n 's/^npm error code //p' "$3" | head -n 1)
  case $code in
    SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|\
    UNABLE_TO_VERIFY_LEAF_SIGNATURE|CERT_*|ERR_TLS_*)
      cat >&2 <<MSG
fetch-geo: cause: npm does not trust the registry's TLS certificate ($code).  Behind a proxy that
  intercepts TLS, give npm the proxy's CA certificate (PEM), then run \`make geo\` again:
    export NODE_EXTRA_CA_CERTS=/path/to/proxy-ca.pem        # or
    npm config set cafile /path/to/proxy-ca.pem
MSG
      ;;
    ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT)
      cat >&2 <<MSG
fetch-geo: cause: the registry ($(npm config get registry 2>/dev/null || echo '?')) cannot be reached ($code).
  Check the network; behind an HTTP proxy set it for npm (npm config set proxy / https-proxy URL,
  or HTTPS_PROXY), or point npm_config_registry at a mirror that can be reached.
MSG
      ;;
    E404|E403|E401|ETARGET)
      echo "fetch-geo: cause: the registry refused or lacks $1 ($code); check npm_config_registry and its credentials." >&2
      ;;
    "")
      echo "fetch-geo: cause: unknown (npm gave no error code; the lines above are all it said)." >&2
      ;;
    *)
      echo "fetch-geo: cause: npm error $code (see the lines above)." >&2
      ;;
  esac
  cat >&2 <<MSG
fetch-geo: or place the files by hand: on a machine that can fetch it, run
  \`npm pack $1\`, copy the .tgz here, then
    mkdir -p $dir/$2 && tar xzf FILE.tgz -C $dir/$2 --strip-components=1 && touch $dir/$2/.complete
  (any MMDB or @ip-location-db CSV in $dir/$2 will do; or set [geo] $2 in the configuration:
  docs/geo.md).
MSG
}

fetch() { # package, folder
  [ -f "$dir/$2/.complete" ] && return 0
  if ! command -v npm >/dev/null 2>&1; then
    echo "fetch-geo: npm is not installed (make deps installs it); or place the files by hand: docs/geo.md" >&2
    exit 1
  fi
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && npm pack --loglevel=error "$1" >npm.out 2>&1); then
    explain "$1" "$2" "$tmp/npm.out"
    rm -rf "$tmp"
    exit 1
  fi
  rm -rf "$dir/$2.tmp"; mkdir -p "$dir/$2.tmp"
  tar xzf "$tmp"/*.tgz -C "$dir/$2.tmp" --strip-components=1
  rm -rf "$tmp" "$dir/$2"; mv "$dir/$2.tmp" "$dir/$2"; : > "$dir/$2/.complete"
}
fetch @ip-location-db/geo-whois-asn-country-mmdb country
fetch @ip-location-db/asn asn
