#!/usr/bin/env bash
# One collector per ClickHouse store (issue #23): the collector role as a lease in the store
# (src/store/ch_lease.c), against a server of the test's own (clickhouse.bash; skipped when
# clickhouse-server is not installed).  Leases of 4 s here (DS_CH_LEASE, renewed every 1 s).
#   refused    a second collector on the store (its own spool) is refused naming the holder's
#              host, pid and since when; the first one still commits
#   stop       after the first stops (SIGTERM: it releases the lease) a new one starts at once
#   kill -9    a holder killed on this host: the next one starts at once (its pid is gone)
#   elsewhere  a lease held by a process of another host (a row written as it would): refused
#              while it runs, taken once it has expired
#   taken over a holder whose term another collector took (a row of a later term): it says so on
#              stderr and answers 503 to uploads, committing nothing more
#   collided   a term whose claimants both gave up (two claim rows): waited out, the next taken
#   race       two collectors started at the same instant, three times: exactly one runs
# KEEP=1 keeps the temporary directory (the collectors' logs).
source "$(dirname "$0")/lib.bash"
source "$ROOT/tests/e2e/clickhouse.bash"
need curl
need zstd
need cc
"$DS" collector --help >/dev/null 2>&1 || skip "$DS has no collector command"
ch_start ds
write_conf
sed "s|^path = .*|url = $CH_URL|" darkscope.conf > ch.conf
echo "ClickHouse $CH_VERSION on 127.0.0.1:$CH_HTTP"
build_xxh
$DS store init -c ch.conf > /dev/null || fail "store init"
TOKYO=$("$DS" token new tokyo --tokens tokens)
export DS_CH_LEASE=4
HOST=$(hostname)

declare -A CPID
stop_all() { local p; for p in "${CPID[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap 'stop_all; ch_stop; [ -n "${KEEP:-}" ] || rm -rf "$T"' EXIT
# launch NAME: a collector on the ClickHouse store with spool $T/spool.NAME, in the background;
# await NAME: 0 once it listens (URL_NAME set), 1 once it exited (its stderr in coll.NAME.log)
launch() {
    local name=$1
    rm -f "port.$name"
    "$DS" collector -c ch.conf --listen 127.0.0.1:0 --tokens tokens --spool "$T/spool.$name" \
        --port-file "port.$name" > "coll.$name.log" 2>&1 &
    CPID[$name]=$!
}
await() {
    local name=$1
    for _ in $(seq 400); do
        [ -s "port.$name" ] && { printf -v "URL_$name" 'http://127.0.0.1:%s' "$(cat "port.$name")"; return 0; }
        kill -0 "${CPID[$name]}" 2>/dev/null || { wait "${CPID[$name]}" 2>/dev/null; unset "CPID[$name]"; return 1; }
        sleep 0.1
    done
    fail "collector $name neither started nor exited: $(cat "coll.$name.log")"
}
start() { launch "$1"; await "$1"; }
stop() { kill "${CPID[$1]}"; wait "${CPID[$1]}" 2>/dev/null || true; unset "CPID[$1]"; }
mkseg() { "$DS" synth -c darkscope.conf -o - --days 1 --start "$2" --rate 500 --seed 7 -q | zstd -q -c > "$1"; }
send() { # URL FILE SEQ: prints the HTTP code
    curl -sS -o resp -w '%{http_code}' -H "Authorization: Bearer $TOKYO" -H "X-Darkscope-Sensor: tokyo" \
        -H "X-Darkscope-Segment: $3" -H "X-Darkscope-Hash: $(./xxh "$2")" -H "Content-Type: application/vnd.tcpdump.pcap" \
        --data-binary @"$2" "$1/v1/segments" || true
}
chq_ds() { chq "$1" --database ds; }
mkseg s1.zst 2023-07-01
mkseg s2.zst 2023-07-02
mkseg s3.zst 2023-07-03

# ---- refused: a second collector while the first holds the role
start a || fail "the first collector did not start: $(cat coll.a.log)"
start b && fail "a second collector on the store started"
grep -q "store clickhouse://127.0.0.1:$CH_HTTP/ds: the collector role is held by $HOST pid ${CPID[a]} since 20" coll.b.log ||
    fail "the second collector's error: $(cat coll.b.log)"
[ "$(send "$URL_a" s1.zst 1)" = 200 ] || fail "the holder does not commit: $(cat resp)"
sleep 5   # longer than the lease: the holder renews it
start b && fail "a second collector started once the first lease's first term had run"
[ "$(send "$URL_a" s2.zst 2)" = 200 ] || fail "the holder does not commit after renewals: $(cat resp)"
echo "refused: $(grep -o 'the collector role is held by [^(]*' coll.b.log)"

# ---- stop: released, the next one starts at once
stop a
t0=$(date +%s%N)
start b || fail "a collector after the first stopped: $(cat coll.b.log)"
echo "after a clean stop: the next collector started in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
[ "$(chq_ds "SELECT count() FROM collector_lease WHERE kind = 2")" -ge 1 ] || fail "no release row"

# ---- kill -9 on this host: the pid is gone, the next one starts at once
kill -9 "${CPID[b]}"; wait "${CPID[b]}" 2>/dev/null || true; unset "CPID[b]"
t0=$(date +%s%N)
start c || fail "a collector after the holder was killed: $(cat coll.c.log)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 3500 ] || fail "the next collector waited $ms ms for a dead local holder"
echo "after kill -9: the next collector started in $ms ms"
stop c

# ---- elsewhere: a holder on another host (its pid means nothing here) holds until its lease ends
seq=$(chq_ds "SELECT max(seq) + 1 FROM collector_lease WHERE role = 'collector'")
chq_ds "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) VALUES
    ('collector', $seq, 0, 'far:1:1', 'far.example', 1, now() + 10),
    ('collector', $seq, 1, 'far:1:1', 'far.example', 1, now() + 3)"
start d && fail "a collector started while a remote holder's lease runs"
grep -q "the collector role is held by far.example pid 1 since" coll.d.log || fail "remote holder: $(cat coll.d.log)"
sleep 4
start d || fail "a remote holder's expired lease was not taken over: $(cat coll.d.log)"
echo "a remote holder's lease: refused while it runs, taken over once expired"

# ---- taken over: another term appears; the holder notices at its next renewal and refuses uploads
seq=$(chq_ds "SELECT max(seq) + 1 FROM collector_lease WHERE role = 'collector'")
chq_ds "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) VALUES
    ('collector', $seq, 1, 'far:2:2', 'far.example', 2, now() + 3600)"
for _ in $(seq 50); do grep -q 'taken over' coll.d.log && break; sleep 0.1; done
grep -q "the collector role was taken over by far.example pid 2: refusing uploads" coll.d.log ||
    fail "the holder did not notice it lost the role: $(cat coll.d.log)"
code=$(send "$URL_d" s3.zst 3)
[ "$code" = 503 ] && grep -q "lost the store's collector role" resp || fail "a collector that lost the role answered $code: $(cat resp)"
[ "$(chq_ds "SELECT count() FROM collector_segments WHERE seq = 3")" = 0 ] || fail "a collector that lost the role committed"
stop d
chq_ds "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) VALUES
    ('collector', $seq, 2, 'far:2:2', 'far.example', 2, now())"
echo "taken over: the old holder stops committing (503)"

# ---- collided claims: a term two claimants both gave up (claims only, as they leave it) is
# "being taken" until the claims expire; a new collector waits that out and takes the next term
seq=$(chq_ds "SELECT max(seq) + 1 FROM collector_lease WHERE role = 'collector'")
chq_ds "INSERT INTO collector_lease (role, seq, kind, holder, host, pid, expires) VALUES
    ('collector', $seq, 0, 'far:3:3', 'far.example', 3, now() + 3),
    ('collector', $seq, 0, 'far:4:4', 'far.example', 4, now() + 3)"
t0=$(date +%s%N)
start g || fail "a collector after collided claims: $(cat coll.g.log)"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -ge 1500 ] || fail "a collector took a term being claimed ($ms ms)"
[ "$(chq_ds "SELECT max(seq) FROM collector_lease WHERE role = 'collector' AND kind = 1")" = $((seq + 1)) ] ||
    fail "the collector after collided claims did not take the next term"
stop g
echo "collided claims: waited $ms ms for them to expire, then took the next term"

# ---- race: two at once, exactly one runs
for round in 1 2 3; do
    launch e$round
    launch f$round
    up=0
    await e$round && up=$((up + 1))
    await f$round && up=$((up + 1))
    [ "$up" = 1 ] || fail "race $round: $up collectors run ($(cat coll.e$round.log coll.f$round.log))"
    grep -hq "the collector role is held by\|could not be taken" coll.e$round.log coll.f$round.log ||
        fail "race $round: the loser's error: $(cat coll.e$round.log coll.f$round.log)"
    for n in e$round f$round; do [ -z "${CPID[$n]:-}" ] || stop $n; done
done
echo "race: two collectors started at once, three times: one ran each time"
echo "clickhouse_lease: ok"
