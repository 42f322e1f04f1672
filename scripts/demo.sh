#!/usr/bin/env bash
# make demo: generate two synthetic quarters (2023Q2 and 2023Q3, two /24 sensors, ~6.8 M packets),
# ingest them, print the tables an observatory report starts from, and write the 2023Q3 report
# (compared with 2023Q2) in English and Japanese.  Everything lands in demo/.
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
rm -f quarter.pcap   # the single quarter earlier demos wrote
# regenerate when the traffic model changed since the capture was written
if [ ! -s quarters.pcap ] || [ -n "$(find ../src/synth -newer quarters.pcap -print -quit)" ]; then
    echo "== darkscope synth: two quarters of synthetic darknet traffic (2023Q2 and 2023Q3)"
    $DS synth -o quarters.pcap --start 2023-04-01 --days 183 --truth truth.json
fi
rm -f darkscope.db darkscope.db-wal darkscope.db-shm darkscope.db-chunks
echo "== darkscope ingest quarters.pcap"
$DS ingest quarters.pcap
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
echo
echo "== darkscope report --period 2023Q3 (compared with 2023Q2)"
$DS report --period 2023Q3 --focus 23/tcp --focus CN -o report-2023Q3.html
$DS report --period 2023Q3 --focus 23/tcp --focus CN --lang ja -o report-2023Q3.ja.html
$DS report --period 2023Q3 --focus 23/tcp --focus CN --format json -o report-2023Q3.json
$DS report --period 2023Q3 --lang ja -o report-2023Q3.ja.md
echo
echo "The store is demo/darkscope.db; try: cd demo && ../build/darkscope top ports --where country=CN"
echo "Report: $PWD/report-2023Q3.html (Japanese: $PWD/report-2023Q3.ja.html; also .json, .ja.md)"
