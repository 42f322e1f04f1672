#!/bin/sh
# Fetch the default geo data (never committed) into data/geo/ with `npm pack`:
#   @ip-location-db/geo-whois-asn-country-mmdb  country per address, from the five RIRs'
#                                                 delegation files and whois (what TSUBAME means by region)
#   @ip-location-db/asn                          ASN and organisation per range (CSV)
# Data licences: see data/geo/*/NRO_LICENSE, ROUTEVIEWS-LICENSE, DBIP-LICENSE after fetching.
set -eu
dir=${1:-data/geo}
mkdir -p "$dir"
fetch() { # package, folder
  [ -f "$dir/$2/.complete" ] && return 0
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$1" >/dev/null 2>&1) || { echo "fetch-geo: npm pack $1 failed" >&2; rm -rf "$tmp"; exit 1; }
  rm -rf "$dir/$2.tmp"; mkdir -p "$dir/$2.tmp"
  tar xzf "$tmp"/*.tgz -C "$dir/$2.tmp" --strip-components=1
  rm -rf "$tmp" "$dir/$2"; mv "$dir/$2.tmp" "$dir/$2"; : > "$dir/$2/.complete"
}
fetch @ip-location-db/geo-whois-asn-country-mmdb country
fetch @ip-location-db/asn asn
