#!/usr/bin/env bash
# bench/recall_seeds.sh: recall of the series and periodic detectors on synthetic quarters, per seed
# and per phenomenon type (issue #20: "every planted phenomenon found with its onset within 1.5 days").
#
# For each seed: `darkscope synth --start 2023-04-01 --days 183 --seed S --truth` (phenomena planted
# at random), `ingest -j 2`, `events` over 2023Q3, scored by tests/e2e/phenomena_score.py (the same
# scoring as tests/e2e/phenomena_heldout.sh).  Prints, per seed, what was planted, found (with the
# onset error) and missed, and the unplanted series events; then totals per phenomenon type.
# Seeds run one at a time (about 10 s each on the 2-core VM).
#
#   bench/recall_seeds.sh [-o DIR] [-k | -r] SEED...     e.g. bench/recall_seeds.sh $(seq 1 30)
#
# -k keeps each seed's store in DIR (~55 MB a seed); -r reuses them and only reruns `events`, which
# is what a change to src/analysis/ needs (about 1 s a seed instead of 10).
#
# The held-out seeds of phenomena_heldout.sh (20261122, 4711) are refused: nobody tunes on them.
# DS=BINARY scores another build; -o DIR keeps each seed's truth/events/score (default: a temp dir).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DS=${DS:-$ROOT/build/darkscope}
OUT= KEEP=0 REUSE=0
while [ $# -gt 0 ]; do
    case $1 in
        -o) OUT=${2:?-o needs a directory}; shift 2 ;;
        -k) KEEP=1; shift ;;
        -r) REUSE=1; shift ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: bench/recall_seeds.sh [-o DIR] [-k | -r] SEED..." >&2; exit 2; }
[ $REUSE = 0 ] || [ -n "$OUT" ] || { echo "recall_seeds: -r needs -o DIR (where -k kept the stores)" >&2; exit 2; }
[ -x "$DS" ] || { echo "recall_seeds: $DS not built (run make)" >&2; exit 1; }
[ -r "$ROOT/data/geo/country" ] || { echo "recall_seeds: no geo data in $ROOT/data/geo (make geo)" >&2; exit 1; }
W=$(mktemp -d /tmp/ds-recall.XXXXXX)
trap 'rm -rf "$W"' EXIT
OUT=${OUT:-$W/out}
mkdir -p "$OUT"
cat > "$W/darkscope.conf" <<EOC
[store]
path = $W/store.db
[geo]
country = $ROOT/data/geo/country
asn = $ROOT/data/geo/asn
[report]
timezone = UTC
[sensor.tokyo]
darknet = 198.51.100.0/24
[sensor.osaka]
darknet = 203.0.113.0/24
EOC
unset DARKSCOPE_CONFIG
export DARKSCOPE_DATA_DIR=${DARKSCOPE_DATA_DIR:-$ROOT/data}   # a DS= copy outside build/ finds data/ too
for seed in "$@"; do
    case $seed in
        20261122|4711) echo "recall_seeds: seed $seed is held out (phenomena_heldout.sh): refused" >&2; exit 2 ;;
        *[!0-9]*|'') echo "recall_seeds: seed '$seed' is not a number" >&2; exit 2 ;;
    esac
    db=$W/store.db
    if [ $REUSE = 1 ]; then
        db=$OUT/store.$seed.db
        [ -r "$db" ] || { echo "recall_seeds: no kept store $db (run with -k first)" >&2; exit 1; }
    else
        rm -f "$W"/store.db*
        "$DS" -c "$W/darkscope.conf" synth -q -o "$W/q.pcap" --start 2023-04-01 --days 183 --seed "$seed" --truth "$OUT/truth.$seed.json"
        "$DS" -c "$W/darkscope.conf" ingest -q -j 2 "$W/q.pcap"
    fi
    "$DS" -c "$W/darkscope.conf" --db "$db" events --from 2023-07-01 --to 2023-09-30 --format json > "$OUT/ev.$seed.json"
    if [ $KEEP = 1 ]; then
        for f in "$W"/store.db*; do mv "$f" "$OUT/store.$seed.db${f#"$W"/store.db}"; done
    fi
    python3 "$ROOT/tests/e2e/phenomena_score.py" --seed "$seed" --json "$OUT/score.$seed.json" \
        "$OUT/truth.$seed.json" "$OUT/ev.$seed.json"
done
rm -f "$W/q.pcap"
python3 "$ROOT/tests/e2e/phenomena_score.py" --summary "$OUT" "$@"
