#!/usr/bin/env bash
# bench/all.sh: run every benchmark in turn (about 6-8 minutes with inputs cached, ~3 minutes more
# the first time) and keep the whole output in $BENCH_DIR/latest.txt for bench/README.md's table.
set -euo pipefail
cd "$(dirname "$0")"
out=${BENCH_DIR:-/tmp/darkscope-bench}/latest.txt
mkdir -p "$(dirname "$out")"
{
    for s in ingest_vs_tcpdump ingest_shapes memory_1m_sources top_vs_nfdump detect_cost; do
        echo "=== bench/$s.sh"
        "./$s.sh"
        echo
    done
} 2>&1 | tee "$out"
