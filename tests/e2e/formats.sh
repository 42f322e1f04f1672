# The same capture as plain pcap, gzip, zstd, stdin, nanosecond pcap, and with --threads 2
# gives identical tables; a pcapng from the corpus ingests.
source "$(dirname "$0")/lib.bash"
need zstd
need tcpdump
write_conf
$DS synth -q -o a.pcap --days 3 --rate 4000 --seed 5
gzip -c a.pcap > a.pcap.gz
zstd -q -c a.pcap > a.pcap.zst
ref=""
for variant in plain gz zst stdin threads stdin-threads; do
    rm -f "$T"/store.db*
    case $variant in
        plain) $DS ingest -q a.pcap ;;
        gz) $DS ingest -q a.pcap.gz ;;
        zst) $DS ingest -q a.pcap.zst ;;
        stdin) $DS ingest -q - < a.pcap ;;
        threads) $DS ingest -q --threads 2 a.pcap ;;
        stdin-threads) gzip -dc a.pcap.gz | $DS ingest -q -j 2 - ;;
    esac
    out=$( ($DS top ports -n 0 --format csv; $DS top countries -n 0 --format csv; $DS top asns -n 0 --format csv;
            $DS top sources -n 50 --format csv; $DS stats --format json | sed 's/"files": [0-9]*,//') | md5sum)
    [ -z "$ref" ] && ref=$out
    [ "$out" = "$ref" ] || fail "$variant differs from plain"
    echo "ok: $variant"
done
# nanosecond timestamps: the same packets, so the same tables
rm -f "$T"/store.db*
$DS synth -q -o n.pcap --days 3 --rate 4000 --seed 5 --nsec
$DS ingest -q n.pcap
out=$( ($DS top ports -n 0 --format csv; $DS top countries -n 0 --format csv) | md5sum)
rm -f "$T"/store.db*; $DS ingest -q a.pcap
ref2=$( ($DS top ports -n 0 --format csv; $DS top countries -n 0 --format csv) | md5sum)
[ "$out" = "$ref2" ] || fail "nanosecond capture differs"
# raw IP link type: counts equal tcpdump's
rm -f "$T"/store.db*
$DS synth -q -o r.pcap --days 1 --rate 4000 --seed 6 --link raw
$DS ingest -q r.pcap
p23=$($DS top ports -n 0 --format json | python3 -c 'import json,sys; print(sum(r["packets"] for r in json.load(sys.stdin) if r["key"]=="23/tcp"))')
want=$(tcount r.pcap "$NETS and tcp dst port 23")
[ "$p23" -eq "$want" ] || fail "raw link: 23/tcp $p23, tcpdump $want"
echo "ok: nsec, raw"
corpus=${DS_CORPUS:-$ROOT/../shared/corpus/robustness}
png=$(ls "$corpus"/*/*.pcapng 2>/dev/null | head -n 1 || true)
if [ -n "$png" ]; then
    $DS ingest -q -c /dev/null --db "$T/png.db" --darknet 0.0.0.0/0 "$png" || fail "pcapng $png"
    echo "ok: pcapng"
fi
