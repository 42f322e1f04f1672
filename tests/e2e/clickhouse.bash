# clickhouse.bash: ClickHouse servers of the test's own (after lib.bash): loopback only, in
# temporary directories, stopped on exit (bench/scale.sh starts its peer the same way).
#   ch_start [DB]        one server; sets CH_HTTP (HTTP port), CH_TCP, CH_VERSION,
#                        CH_URL (clickhouse://127.0.0.1:PORT/DB); skips the test (exit 77) when
#                        clickhouse-server is not installed
#   ch_start_cluster [DB] [NAME]
#                        two servers (shards) that both know the cluster NAME (default `two`) in
#                        their <remote_servers> (ClickHouse docs, "Distributed"): one replica per
#                        shard, loopback, their TCP ports; sets CH_HTTP/CH_TCP (shard 1),
#                        CH_HTTP2/CH_TCP2 (shard 2), CH_VERSION, and CH_CLUSTER_URL, the store URL
#                        with ?cluster=NAME&shards=127.0.0.1:HTTP1,127.0.0.1:HTTP2
#   ch_start_tls [DB]    one server with an <https_port> as well (skips when openssl(1) is
#                        absent): a throwaway CA and a server certificate for 127.0.0.1 and
#                        localhost in $T/tls (ca.crt, server.crt, server.key), the server also
#                        listening on 127.0.0.2 (a loopback address its certificate does not
#                        name); sets what ch_start does and CH_HTTPS (its https port)
#   chq SQL / chq2 SQL   runs SQL through clickhouse-client on shard 1 / shard 2
#   ch_stop              stops them all (called at exit)
CHDIRS=()
CHPIDS=()
ch_free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ch_stop() {
    local p d
    for p in "${CHPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${CHPIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    CHPIDS=()
    for d in "${CHDIRS[@]}"; do rm -rf "$d"; done
    CHDIRS=()
}
chq() { clickhouse-client --host 127.0.0.1 --port "$CH_TCP" -q "$@"; }
chq2() { clickhouse-client --host 127.0.0.1 --port "$CH_TCP2" -q "$@"; }
ch_need() {
    CHBIN=$(command -v clickhouse-server || { [ -x /usr/sbin/clickhouse-server ] && echo /usr/sbin/clickhouse-server; } || true)
    [ -n "$CHBIN" ] || skip "clickhouse-server is not installed (apt-get install clickhouse-server clickhouse-client, or scripts/deps.sh)"
    command -v clickhouse-client >/dev/null 2>&1 || skip "clickhouse-client is not installed"
    [ -r /etc/clickhouse-server/users.xml ] || skip "/etc/clickhouse-server/users.xml not found (the clickhouse-server package's users file)"
    need python3
    trap 'ch_stop; rm -rf "$T"' EXIT
}
ch_server() { # DIR TCP HTTP [XML]: starts one server (XML: more of its config), waits until it answers
    local dir=$1 tcp=$2 http=$3 remote=${4:-}
    mkdir -p "$dir"
    CHDIRS+=("$dir")
    cp /etc/clickhouse-server/users.xml "$dir/users.xml"
    cat > "$dir/config.xml" <<EOC
<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><log>$dir/server.log</log><errorlog>$dir/server.err.log</errorlog>
            <size>10M</size><count>1</count></logger>
    <tcp_port>$tcp</tcp_port>
    <http_port>$http</http_port>
    <listen_host>127.0.0.1</listen_host>
    <path>$dir/data/</path>
    <tmp_path>$dir/tmp/</tmp_path>
    <user_files_path>$dir/user_files/</user_files_path>
    <format_schema_path>$dir/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>268435456</mark_cache_size>
    <max_concurrent_queries>20</max_concurrent_queries>
    $remote
</yandex>
EOC
    "$CHBIN" --config-file="$dir/config.xml" > "$dir/stdout" 2>&1 &
    CHPIDS+=($!)
    for _ in $(seq 150); do clickhouse-client --host 127.0.0.1 --port "$tcp" -q 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
    clickhouse-client --host 127.0.0.1 --port "$tcp" -q 'SELECT 1' >/dev/null 2>&1 ||
        { tail -n 20 "$dir/server.err.log" "$dir/stdout" >&2; fail "clickhouse-server did not start"; }
}
ch_start() { # [database]
    ch_need
    CH_TCP=$(ch_free_port)
    CH_HTTP=$(ch_free_port)
    ch_server "$T/clickhouse" "$CH_TCP" "$CH_HTTP"
    CH_VERSION=$(chq 'SELECT version()')
    CH_URL=clickhouse://127.0.0.1:$CH_HTTP/${1:-darkscope}
}
ch_start_cluster() { # [database] [cluster name]
    ch_need
    local db=${1:-darkscope} name=${2:-two}
    CH_TCP=$(ch_free_port); CH_HTTP=$(ch_free_port); CH_TCP2=$(ch_free_port); CH_HTTP2=$(ch_free_port)
    local remote="<remote_servers><$name>
        <shard><replica><host>127.0.0.1</host><port>$CH_TCP</port></replica></shard>
        <shard><replica><host>127.0.0.1</host><port>$CH_TCP2</port></replica></shard>
    </$name></remote_servers>"
    ch_server "$T/clickhouse.1" "$CH_TCP" "$CH_HTTP" "$remote"
    ch_server "$T/clickhouse.2" "$CH_TCP2" "$CH_HTTP2" "$remote"
    CH_VERSION=$(chq 'SELECT version()')
    CH_CLUSTER_URL="clickhouse://127.0.0.1:$CH_HTTP/$db?cluster=$name&shards=127.0.0.1:$CH_HTTP,127.0.0.1:$CH_HTTP2"
}
ch_tls_certs() { # DIR: a CA, and a server certificate it signs for 127.0.0.1 and localhost
    local d=$1
    mkdir -p "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 \
        -subj "/CN=darkscope test CA" > "$d/openssl.log" 2>&1 &&
    openssl req -newkey rsa:2048 -nodes -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=localhost" \
        >> "$d/openssl.log" 2>&1 &&
    printf '%s\n' 'subjectAltName=DNS:localhost,IP:127.0.0.1' 'basicConstraints=CA:FALSE' \
        'keyUsage=digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth' > "$d/ext.cnf" &&
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 2 \
        -extfile "$d/ext.cnf" -out "$d/server.crt" >> "$d/openssl.log" 2>&1 ||
        { cat "$d/openssl.log" >&2; fail "openssl could not make the test certificates"; }
}
ch_start_tls() { # [database]
    ch_need
    need openssl
    ch_tls_certs "$T/tls"
    CH_TCP=$(ch_free_port)
    CH_HTTP=$(ch_free_port)
    CH_HTTPS=$(ch_free_port)
    # ClickHouse docs, "Server settings: https_port, openSSL" (Poco's SSLManager keys)
    ch_server "$T/clickhouse" "$CH_TCP" "$CH_HTTP" "<https_port>$CH_HTTPS</https_port>
    <listen_host>127.0.0.2</listen_host>
    <openSSL><server>
        <certificateFile>$T/tls/server.crt</certificateFile>
        <privateKeyFile>$T/tls/server.key</privateKeyFile>
        <verificationMode>none</verificationMode>
        <loadDefaultCAFile>false</loadDefaultCAFile>
        <disableProtocols>sslv2,sslv3</disableProtocols>
        <preferServerCiphers>true</preferServerCiphers>
    </server></openSSL>"
    CH_VERSION=$(chq 'SELECT version()')
    CH_URL=clickhouse://127.0.0.1:$CH_HTTP/${1:-darkscope}
}
