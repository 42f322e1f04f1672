# clickhouse.bash: a ClickHouse server of the test's own (after lib.bash): loopback only, in a
# temporary directory, stopped on exit (bench/scale.sh starts its peer the same way).
#   ch_start     starts it (skips the test, exit 77, when clickhouse-server is not installed);
#                sets CH_HTTP (HTTP port), CH_TCP, CH_VERSION, CH_URL (clickhouse://127.0.0.1:PORT/NAME)
#   chq SQL      runs SQL through clickhouse-client
#   ch_stop      stops it (called at exit)
CHDIR=
CHPID=
ch_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ch_stop() {
    if [ -n "$CHPID" ]; then
        kill "$CHPID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$CHPID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$CHPID" 2>/dev/null || true
        CHPID=
    fi
    [ -z "$CHDIR" ] || rm -rf "$CHDIR"
}
chq() { clickhouse-client --host 127.0.0.1 --port "$CH_TCP" -q "$@"; }
ch_start() { # [database]
    local bin
    bin=$(command -v clickhouse-server || { [ -x /usr/sbin/clickhouse-server ] && echo /usr/sbin/clickhouse-server; } || true)
    [ -n "$bin" ] || skip "clickhouse-server is not installed (apt-get install clickhouse-server clickhouse-client, or scripts/deps.sh)"
    command -v clickhouse-client >/dev/null 2>&1 || skip "clickhouse-client is not installed"
    [ -r /etc/clickhouse-server/users.xml ] || skip "/etc/clickhouse-server/users.xml not found (the clickhouse-server package's users file)"
    need python3
    CHDIR=$T/clickhouse
    mkdir -p "$CHDIR"
    CH_TCP=$(ch_free_port)
    CH_HTTP=$(ch_free_port)
    cp /etc/clickhouse-server/users.xml "$CHDIR/users.xml"
    cat > "$CHDIR/config.xml" <<EOC
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$CHDIR/server.log</log><errorlog>$CHDIR/server.err.log</errorlog>
            <size>10M</size><count>1</count></logger>
    <tcp_port>$CH_TCP</tcp_port>
    <http_port>$CH_HTTP</http_port>
    <listen_host>127.0.0.1</listen_host>
    <path>$CHDIR/data/</path>
    <tmp_path>$CHDIR/tmp/</tmp_path>
    <user_files_path>$CHDIR/user_files/</user_files_path>
    <format_schema_path>$CHDIR/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>268435456</mark_cache_size>
    <max_concurrent_queries>20</max_concurrent_queries>
</yandex>
EOC
    "$bin" --config-file="$CHDIR/config.xml" > "$CHDIR/stdout" 2>&1 &
    CHPID=$!
    trap 'ch_stop; rm -rf "$T"' EXIT
    for _ in $(seq 150); do chq 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
    chq 'SELECT 1' >/dev/null 2>&1 || { tail -n 20 "$CHDIR/server.err.log" "$CHDIR/stdout" >&2; fail "clickhouse-server did not start"; }
    CH_VERSION=$(chq 'SELECT version()')
    CH_URL=clickhouse://127.0.0.1:$CH_HTTP/${1:-darkscope}
}
