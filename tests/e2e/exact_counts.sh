# `top ports` and `top countries` packet counts equal an independent count by tcpdump/BPF, and
# `sources` equals the distinct source addresses tcpdump sees (here exactly, the bar is 1%).
# Countries use a geo CSV made here, whose ranges tcpdump can express as `src net`.
source "$(dirname "$0")/lib.bash"
need tcpdump
# geo: a few /2 and /3 blocks as countries, so BPF can count them independently
cat > geo.csv <<EOG
1.0.0.0,63.255.255.255,CN
64.0.0.0,127.255.255.255,US
128.0.0.0,159.255.255.255,BR
160.0.0.0,191.255.255.255,RU
192.0.0.0,223.255.255.255,JP
EOG
GEO_COUNTRY=$T/geo.csv GEO_ASN= write_conf
$DS synth -q -o q.pcap --days 10 --rate 6000 --seed 42
$DS ingest -q q.pcap
$DS top ports --limit 20 --format json | json_rows > ports.txt
[ "$(wc -l < ports.txt)" -eq 20 ] || fail "expected 20 port rows"
while read -r key packets sources; do
    port=${key%/*} proto=${key#*/}
    case $proto in
        tcp|udp) f="$NETS and $proto dst port $port" ;;
        icmp) f="$NETS and icmp[0] = $port" ;;
        *) continue ;;
    esac
    want=$(tcount q.pcap "$f")
    [ "$want" -eq "$packets" ] || fail "$key: darkscope $packets, tcpdump $want"
    wsrc=$(tcpdump -nr q.pcap "$f and $WHOLE" 2>/dev/null | awk '{split($3, a, "."); print a[1] "." a[2] "." a[3] "." a[4]}' | sort -u | wc -l)
    [ "$wsrc" -eq "$sources" ] || fail "$key: darkscope $sources sources, tcpdump $wsrc"
done < ports.txt
$DS top countries --limit 10 --format json | json_rows > cc.txt
declare -A NET=([CN]="src net 0.0.0.0/2 and not src net 0.0.0.0/8" [US]="src net 64.0.0.0/2" [BR]="src net 128.0.0.0/3" [RU]="src net 160.0.0.0/3" [JP]="src net 192.0.0.0/3")
while read -r key packets sources; do
    [ "$key" = ZZ ] && f="$NETS and (src net 0.0.0.0/8 or src net 224.0.0.0/3)" || f="$NETS and ${NET[$key]}"
    want=$(tcpdump -nr q.pcap "($f) and $WHOLE and (tcp or udp or icmp or ip proto 47)" 2>/dev/null | wc -l)
    all=$(tcount q.pcap "$f")
    [ "$all" -eq "$packets" ] || fail "$key: darkscope $packets, tcpdump $all ($want tcp/udp/icmp/gre)"
done < cc.txt
[ "$(wc -l < cc.txt)" -ge 5 ] || fail "expected at least 5 countries"
echo "ports and countries exact"
