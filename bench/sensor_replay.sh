#!/usr/bin/env bash
# bench/sensor_replay.sh [SECONDS]: the live-capture bar of issue #5, side by side with the veth.
#
# Bar: the highest replay rate into a veth at which `darkscope sensor` loses nothing: its kernel
# drop counter (pcap ps_drop + ps_ifdrop, what it writes to seg-N.meta and ships as
# X-Darkscope-Kernel-Drops) stays 0 AND the packets in its segments equal the packets the
# generator sent.  Goal: >= 1 M packets/s on these 2-core machines.
#
# Generator: bench/replay_fast.c (BENCH_GEN=replay_fast, the default), compiled here with cc -O2:
# the file preloaded in memory, AF_PACKET with PACKET_QDISC_BYPASS, sendmmsg() batches of 256,
# rate control against CLOCK_MONOTONIC, and a sent count of what the kernel accepted.  Debian's
# tcpreplay (a debug build, one sendto() per packet) stops at ~0.4 M packets/s here, which is
# why replay_fast exists; BENCH_GEN=tcpreplay still runs it (-K, --pps-multi).  GEN_ARGS passes
# options to replay_fast (e.g. "--mode ring" for its TPACKET_V2 TX ring, "--batch 64").
#
# Peer: the raw veth ceiling, the generator at full speed into the same veth with no capture
# running (what the generator and the veth can do at all).  When the sensor's rate is close to
# it, the generator is the limit, not the sensor; the ratio sensor / ceiling says which.  Note
# that a veth has no receive core of its own: the peer's receive softirq, where the kernel runs
# the sensor's BPF filter and copies each packet into its TPACKET_V3 ring, runs on the sending
# CPU inside the generator's send call.  So with the sensor on, the generator slows down by the
# cost of the capture's kernel half; the sensor-cpu column is its user-space half.
#
# How: two network namespaces joined by a veth (vA in the generator's, vB in the sensor's); a
# ~1 M-packet capture from `darkscope synth` (one /24 darknet, cached in $BENCH_DIR) is preloaded
# and looped for SECONDS (default 3) per trial.  Trial 0 replays at full speed with no sensor (the
# ceiling); trial 1 at full speed with the sensor; if that loses nothing the answer is its
# achieved rate, otherwise the rate is bisected between 0 and that (fixed rate, SECONDS x rate
# packets) until the bracket is within 5%.  Each sensor trial gets a fresh spool and no
# collector, so only capture and spooling (zstd level 1) are measured.  The generator's sent
# count is cross-checked against vA's tx_packets counter (the veth-tx column; a mismatch stops the
# script).  Packets lost before the tap (veth backlog) are shown too: the sensor cannot see those,
# which is why "sent = captured" is part of the bar.
#
# Needs root (network namespaces), a C compiler, iproute2, tcpdump (tcpreplay for
# BENCH_GEN=tcpreplay).  It loads both cores for about a minute.  BENCH_RATES="R1 R2 ..." runs only
# trials at those rates (no ceiling, no bisection); SENSOR_ARGS="--buffer-mib 256 ..." passes
# options to the sensor.
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

SECS=${1:-3}
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
GEN=${BENCH_GEN:-replay_fast}
need ip tcpdump
case $GEN in
replay_fast)
    need cc
    rf=$W/replay_fast
    if [ ! -x "$rf" ] || [ "$BENCH_ROOT/bench/replay_fast.c" -nt "$rf" ]; then
        cc -O2 -std=c11 -Wall -Wextra -o "$rf" "$BENCH_ROOT/bench/replay_fast.c" || die "cannot build replay_fast"
    fi ;;
tcpreplay) need tcpreplay ;;
*) die "BENCH_GEN is replay_fast or tcpreplay, not '$GEN'" ;;
esac
build_darkscope
"$DS" sensor --help >/dev/null 2>&1 || die "$DS has no sensor command"

f=$W/replay-1m.pcap
bench_store replay "$(printf '[sensor.tokyo]\ndarknet = 198.51.100.0/24')"
if [ ! -s "$f" ]; then
    echo "generating $f (~1 M packets to 198.51.100.0/24, synth --rate 1000000 --days 1 --seed 5)"
    "$DS" synth -q -c "$conf" -o "$f.all" --days 1 --start 2023-07-01 --rate 1000000 --seed 5
    # only what the sensor's BPF takes (synth also writes non-IP and off-darknet packets), so that
    # every packet sent is one the sensor must capture
    tcpdump -r "$f.all" -w "$f.tmp" 'dst net 198.51.100.0/24' 2>/dev/null
    rm -f "$f.all"
    mv "$f.tmp" "$f"
fi
filepkts=$(tcpdump -nr "$f" 2>/dev/null | wc -l)

NA=dsrA$$ NB=dsrB$$
SPID=
cleanup() {
    set +e
    [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
    ip netns del $NA 2>/dev/null; ip netns del $NB 2>/dev/null
    rm -rf "$W/replay-spool" "$RES"
}
trap cleanup EXIT
ip netns add $NA || die "ip netns add failed"
ip netns add $NB || die "ip netns add failed"
ip link add vA netns $NA type veth peer name vB netns $NB
for ns in $NA $NB; do
    ip netns exec $ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n $ns link set lo up
done
ip -n $NA link set vA up
ip -n $NB link set vB up

stat_of() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3"; }

# replay RATE: send SECS seconds' worth of packets at RATE packets/s with the generator ("top":
# full speed for SECS seconds; tcpreplay: SECS x 1.5 M packets); sets SENT, ACH, TXD (vA's
# tx_packets delta, which must equal SENT: the generator's count is checked, not trusted)
replay() {
    local tx0 tx1
    tx0=$(stat_of $NA vA tx_packets)
    if [ "$GEN" = replay_fast ]; then replay_fast_run "$1"; else tcpreplay_run "$1"; fi
    tx1=$(stat_of $NA vA tx_packets)
    TXD=$(( tx1 - tx0 ))
    [ "$TXD" -eq "$SENT" ] || die "$GEN says it sent $SENT packets but vA's tx_packets grew by $TXD"
}

replay_fast_run() {
    local rate=$1 out
    if [ "$rate" = top ]; then
        # shellcheck disable=SC2086
        out=$(ip netns exec $NA "$rf" -i vA --topspeed --seconds "$SECS" --batch 256 ${GEN_ARGS:-} "$f" 2>&1) ||
            die "replay_fast: $out"
    else
        # the packet count ends the trial; the time limit only stops a generator that cannot keep up
        # shellcheck disable=SC2086
        out=$(ip netns exec $NA "$rf" -i vA --pps "$rate" --count $(( SECS * rate )) --seconds $(( SECS * 2 )) \
            ${GEN_ARGS:-} "$f" 2>&1) || die "replay_fast: $out"
    fi
    SENT=$(echo "$out" | awk -F= '$1 == "packets_sent" {print $2}')
    ACH=$(echo "$out" | awk -F= '$1 == "pps" {print $2}')
    GEN_ERRS=$(echo "$out" | awk -F= '$1 == "send_errors" {print $2}')
    [ -n "$SENT" ] && [ -n "$ACH" ] || die "cannot read replay_fast's summary: $out"
}

tcpreplay_run() {
    local rate=$1 n loops out
    GEN_ERRS=0
    if [ "$rate" = top ]; then
        n=$(( SECS * 1500000 ))
        loops=$(( (n + filepkts - 1) / filepkts ))
        out=$(ip netns exec $NA tcpreplay -q -K -i vA --loop="$loops" --limit="$n" --topspeed "$f" 2>&1) ||
            die "tcpreplay: $out"
    else
        local multi=$(( rate / 10000 > 1 ? rate / 10000 : 1 ))
        n=$(( SECS * rate ))
        loops=$(( (n + filepkts - 1) / filepkts ))
        out=$(ip netns exec $NA tcpreplay -q -K -i vA --loop="$loops" --limit="$n" --pps="$rate" --pps-multi="$multi" \
            "$f" 2>&1) || die "tcpreplay: $out"
    fi
    SENT=$(echo "$out" | awk '/Successful packets:/ {print $3}')
    ACH=$(echo "$out" | awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($(i + 1) ~ /^pps/) {printf "%.0f", $i; exit}}')
    [ -n "$SENT" ] && [ -n "$ACH" ] || die "cannot read tcpreplay's summary: $out"
}

# user+sys clock ticks of process PID so far (/proc/PID/stat fields 14 and 15)
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat"; }

# trial RATE: sensor on vB, replay, stop; sets SENT ACH TXD CAPT KDROP LOST_BEFORE CLEAN CPU (the
# sensor's user+sys CPU seconds per second of replay while the replay ran: 1.00 = one core busy)
trial() {
    local sp=$W/replay-spool rx0 rx1 t0 t1 c0 c1
    rm -rf "$sp"
    ip netns exec $NB "$DS" sensor -i vB --darknet 198.51.100.0/24 --name bench --spool "$sp" --rotate 60 \
        ${SENSOR_ARGS:-} 2>"$RES/sensor.err" &
    SPID=$!
    for _ in $(seq 50); do grep -q 'capturing on' "$RES/sensor.err" 2>/dev/null && break; sleep 0.1; done
    sleep 0.3
    rx0=$(stat_of $NB vB rx_packets)
    c0=$(cpu_ticks "$SPID")
    t0=$(date +%s%N)
    replay "$1"
    t1=$(date +%s%N)
    c1=$(cpu_ticks "$SPID")
    sleep 0.5
    rx1=$(stat_of $NB vB rx_packets)
    kill -TERM "$SPID"; wait "$SPID" || die "the sensor failed: $(tail -3 "$RES/sensor.err")"
    SPID=
    CAPT=$( (cat "$sp"/seg-*.meta 2>/dev/null || true) | awk -F= '$1 == "packets" {s += $2} END {print s + 0}')
    KDROP=$( (cat "$sp"/seg-*.meta 2>/dev/null || true) | awk -F= '$1 == "kernel_drops" || $1 == "if_drops" {s += $2} END {print s + 0}')
    # packets of ours that vB never delivered (backlog drops) are invisible to any capture
    LOST_BEFORE=$(( SENT - (rx1 - rx0) > 0 ? SENT - (rx1 - rx0) : 0 ))
    CLEAN=0
    [ "$KDROP" -eq 0 ] && [ "$CAPT" -eq "$SENT" ] && CLEAN=1
    rm -rf "$sp"
    CPU=$(awk -v t=$(( c1 - c0 )) -v hz="$(getconf CLK_TCK)" -v ns=$(( t1 - t0 )) 'BEGIN {printf "%.2f", t / hz / (ns / 1e9)}')
    printf '%-10s %10s %10s %10s %10s %12s %12s %10s %10s  %s\n' "$1" "$ACH" "$SENT" "$TXD" "$CAPT" "$KDROP" \
        "$LOST_BEFORE" "$GEN_ERRS" "$CPU" "$([ $CLEAN = 1 ] && echo clean || echo LOSS)"
}
header() {
    printf '%-10s %10s %10s %10s %10s %12s %12s %10s %10s  %s\n' "asked pps" "achieved" "sent" "veth-tx" "captured" \
        "kernel-drops" "lost-pre-tap" "gen-refused" "sensor-cpu" "verdict"
}

machine_line
echo "file: $f, $filepkts packets, $(( $(stat -L -c %s "$f") / 1000000 )) MB, preloaded, ${SECS}s per trial"
if [ "$GEN" = replay_fast ]; then
    echo "generator: replay_fast (AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg batches of 256 at full speed) ${GEN_ARGS:-}"
else
    echo "generator: $(tcpreplay -V 2>&1 | head -1) (-K, one packet per syscall)"
fi
echo "sensor: defaults (64 MiB TPACKET_V3 ring, immediate mode off, zstd level 1 in the capture thread) ${SENSOR_ARGS:-}"

if [ -n "${BENCH_RATES:-}" ]; then   # fixed rates only (e.g. BENCH_RATES="500000 1000000"): no ceiling, no bisection
    header
    for r in $BENCH_RATES; do trial "$r"; done
    exit 0
fi
# the raw veth ceiling: no capture on vB
rx0=$(stat_of $NB vB rx_packets)
replay top
rx1=$(stat_of $NB vB rx_packets)
CEIL=$ACH
echo "veth ceiling ($GEN at full speed, no capture): $CEIL packets/s sent, $(( rx1 - rx0 )) of $SENT delivered to vB" \
    "($GEN_ERRS sends refused by the kernel and retried)"
echo
header
trial top
if [ "$CLEAN" = 1 ]; then
    BEST=$ACH
    echo "no loss at full speed: the sending CPU is the limit (the generator plus, on a veth, the receive softirq" \
        "and the kernel's copy into the sensor's ring, which run in the sender's send call)"
    # the sensor process's own headroom.  Only user space is in it (capture loop, pcap writer,
    # zstd): the kernel copies packets into the ring in the veth's receive softirq, which runs in
    # the sender's context, so this is an upper bound, not a measurement of the capture path.
    echo "sensor process CPU at that rate: $CPU of a core (user space only) -> user-space upper bound about" \
        "$(awk -v r="$ACH" -v c="$CPU" 'BEGIN {printf "%.0f", (c > 0) ? r / c : 0}') packets/s per core (extrapolated, not measured)"
else
    lo=0 hi=$ACH
    while [ $(( (hi - lo) * 20 )) -gt "$hi" ]; do
        mid=$(( (lo + hi) / 2 / 10000 * 10000 ))
        [ "$mid" -gt "$lo" ] || break
        trial "$mid"
        if [ "$CLEAN" = 1 ]; then lo=$(( ACH < mid ? ACH : mid )); else hi=$mid; fi
    done
    BEST=$lo
fi
echo
echo "highest clean rate: $BEST packets/s ($GEN's achieved rate at that step)"
echo "vs the veth ceiling: $(ratio "$BEST" "$CEIL") x of $CEIL packets/s"
echo "vs the 1 M packets/s goal: $(ratio "$BEST" 1000000) x -> $(verdict "$BEST" '>=' 1000000)"
