#!/bin/sh
# Install the Debian packages darkscope needs to build, test and run the demo.
# Only packages that are missing are installed; nothing is fetched when all are present.
set -eu
PKGS="build-essential pkg-config clang libclang-rt-14-dev libpcap-dev libmaxminddb-dev \
libsqlite3-dev zlib1g-dev libzstd-dev libinih-dev libxxhash-dev libcmocka-dev \
tcpdump zstd sqlite3 iso-codes tzdata nfdump time bc \
netbase libwireshark-data libcairo2-dev libpango1.0-dev fonts-ipafont-gothic fonts-dejavu-core \
libmicrohttpd-dev libcurl4-openssl-dev nettle-dev libcrypt-dev curl iproute2 \
hping3 nmap zmap masscan tcpreplay chromium clickhouse-server clickhouse-client openssl"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# npm comes with the machine's Node.js where it has one; otherwise Debian's npm.
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"   # the tests read JSON with it
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
