#!/usr/bin/env bash
# make demo: generate a synthetic quarter (two /24 sensors, ~3.4 M packets), ingest it, and
# print the tables an observatory report starts from.  Everything lands in demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
DS=$PWD/build/darkscope
mkdir -p demo
cd demo
cat > darkscope.conf <<EOF2
# darkscope demo configuration (see docs/configuration.md)
[store]
path = darkscope.db
[geo]
country = ../data/geo/country
asn = ../data/geo/asn
[report]
timezone = UTC
[sensor.tokyo]
darknet = 198.51.100.0/24
[sensor.osaka]
darknet = 203.0.113.0/24
EOF2
if [ ! -s quarter.pcap ]; then
    echo "== darkscope synth: a quarter of synthetic darknet traffic (2023Q3)"
    $DS synth -o quarter.pcap --truth truth.json
fi
rm -f darkscope.db darkscope.db-wal darkscope.db-shm
echo "== darkscope ingest quarter.pcap"
$DS ingest quarter.pcap
echo
echo "== darkscope stats"
$DS stats
echo
echo "== darkscope top ports (destination services)"
$DS top ports --limit 10
echo
echo "== darkscope top countries (source regions)"
$DS top countries --limit 10
echo
echo "== darkscope top asns"
$DS top asns --limit 5
echo
echo "== darkscope top sources --class backscatter (DDoS victims answering spoofed traffic)"
$DS top sources --class backscatter --limit 5
echo
echo "The store is demo/darkscope.db; try: cd demo && ../build/darkscope top ports --where country=CN"
