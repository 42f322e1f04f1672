# Shared set-up for end-to-end tests: a temp dir, a config with two /24 sensors, helpers.
# Each test is a bash script: exit 0 = pass, 77 = skip (last line says why), else fail.
set -euo pipefail
ROOT=${DS_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
DS=${DS:-$ROOT/build/darkscope}
DSAN=$ROOT/build-sanitize/darkscope
T=$(mktemp -d /tmp/ds-e2e.XXXXXX)
trap 'rm -rf "$T"' EXIT
cd "$T"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:exitcode=99:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:exitcode=99:print_stacktrace=1}
unset DARKSCOPE_CONFIG
NETS='(dst net 198.51.100.0/24 or dst net 203.0.113.0/24)'

# darkscope.conf with the store, geo data and timezone; the sensors follow as NAME=CIDR arguments
write_conf_sensors() { # timezone NAME=CIDR...
    local tz=$1; shift
    cat > darkscope.conf <<EOC
[store]
path = $T/store.db
[geo]
country = ${GEO_COUNTRY:-$ROOT/data/geo/country}
asn = ${GEO_ASN:-$ROOT/data/geo/asn}
[report]
timezone = $tz
EOC
    local s
    for s in "$@"; do printf '[sensor.%s]\ndarknet = %s\n' "${s%%=*}" "${s#*=}" >> darkscope.conf; done
}
write_conf() { # [timezone]
    write_conf_sensors "${1:-UTC}" tokyo=198.51.100.0/24 osaka=203.0.113.0/24
}

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }
need() { command -v "$1" >/dev/null 2>&1 || skip "$1 not installed"; }
# checksum of the store files (db and any -wal/-shm)
store_sum() { cat "$T"/store.db* 2>/dev/null | md5sum | cut -d' ' -f1; }
# packets tcpdump counts for a filter (IPv4 packets darkscope decodes: WHOLE)
# BPF: an IPv4 packet darkscope decodes as one (docs/decoding.md, Outcomes): not a later fragment,
# and a first fragment only when its TCP, UDP or ICMP header is whole in it
IPL='(ip[2:2] - ((ip[0] & 0xf) << 2))'
WHOLE="(ip[6:2] & 0x1fff = 0 and (ip[6:2] & 0x2000 = 0 or (udp and $IPL >= 8) or (icmp and $IPL >= 4) or (tcp and $IPL >= 20 and $IPL >= ((tcp[12] & 0xf0) >> 2))))"
tcount() { tcpdump -nr "$1" "$2 and $WHOLE" 2>/dev/null | wc -l; }
# field of JSON rows from `top --format json`: prints "key packets sources" lines
json_rows() { python3 -c 'import json,sys; [print(r["key"], r["packets"], r["sources"]) for r in json.load(sys.stdin)]'; }

# ./xxh FILE: XXH3-128 of a file, canonical hex (what X-Darkscope-Hash carries), from libxxhash;
# skips the test when it cannot be built
build_xxh() {
cat > xxh.c <<'EOF'
#include <stdio.h>
#include <xxhash.h>
int main(int argc, char **argv)
{
    FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
    if (!f) return 1;
    XXH3_state_t *s = XXH3_createState();
    XXH3_128bits_reset(s);
    char b[65536];
    size_t n;
    while ((n = fread(b, 1, sizeof b, f)) > 0) XXH3_128bits_update(s, b, n);
    XXH128_canonical_t k;
    XXH128_canonicalFromHash(&k, XXH3_128bits_digest(s));
    for (int i = 0; i < 16; i++) printf("%02x", k.digest[i]);
    printf("\n");
    return 0;
}
EOF
    cc -O2 -o xxh xxh.c -lxxhash || skip "cannot build the XXH3 helper (libxxhash-dev)"
}

# netns_start TEST: the namespaces $NA and $NB (named by the caller) created and joined by
# netns_veth_pair, or the test skipped (exit 77) when they cannot be; at exit, every pid the test
# appended to PIDS is killed, both namespaces are deleted and $T is removed ($KEEP keeps it).
netns_start() {
    ip netns add "$NA" 2>/dev/null || skip "$1: ip netns add failed (no CAP_SYS_ADMIN?)"
    ip netns add "$NB" || { ip netns del "$NA"; skip "$1: ip netns add failed"; }
    PIDS=()
    trap netns_cleanup EXIT
    netns_veth_pair
}
netns_cleanup() {
    set +e
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    ip netns del "$NA" 2>/dev/null; ip netns del "$NB" 2>/dev/null
    [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}

# The namespaces $NA and $NB (made by the caller, which deletes them in its EXIT trap) joined by a
# veth pair: vA (192.0.2.1) in A, the sender's side, and vB (192.0.2.2) in B, the sensor's; IPv6
# off, 198.51.100.0/24 routed from A to B, and B forwarding nothing, so nothing leaves the pair.
# vA computes its checksums itself (transmit checksum offload off), as packets off the wire have
# them: with offload, A's kernel leaves only the pseudo-header sum in TCP segments, and the sensor's
# SYN responder refuses those as a real stack refuses a bad checksum (src/core/synjudge.c).
# A and B run a command in each.
A() { ip netns exec "$NA" "$@"; }
B() { ip netns exec "$NB" "$@"; }
netns_veth_pair() {
    ip link add vA netns "$NA" type veth peer name vB netns "$NB"
    local ns
    for ns in "$NA" "$NB"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        ip netns exec "$ns" ip link set lo up
    done
    # ETHTOOL_STXCSUM (0x17) through SIOCETHTOOL (0x8946): `ethtool -K vA tx off`, without ethtool
    A python3 -c '
import ctypes, fcntl, socket, struct
sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ev = ctypes.create_string_buffer(struct.pack("II", 0x17, 0), 8)
fcntl.ioctl(sk.fileno(), 0x8946, struct.pack("16sP16x", b"vA", ctypes.addressof(ev)))' ||
        fail "cannot turn off transmit checksum offload on vA"
    A ip addr add 192.0.2.1/30 dev vA; A ip link set vA up
    B ip addr add 192.0.2.2/30 dev vB; B ip link set vB up
    A ip route add 198.51.100.0/24 via 192.0.2.2
    B sysctl -qw net.ipv4.ip_forward=0
}
