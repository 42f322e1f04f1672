# Issue #4's bar on held-out quarters: `darkscope synth` plants phenomena at random (the seed picks
# services, countries, sources, days and sizes); every planted phenomenon whose start falls in
# 2023Q3 is found with the right type, service and/or country and a start within a day, and at
# most 10 spike / surge / new_service / single_source events match nothing planted.  Met on both
# seeds since 2026-12-07; the test fails on any miss.
#
# The detectors were tuned on seeds 1-18 only (10-18 validated the 2026-11-22 change first).
# HELDOUT_SEEDS are seeds nobody looked at while tuning (docs/testing.md): a failure here means the detectors do not generalise, and the fix is
# never to pick another seed.  Each run prints what it found so the numbers can be quoted.
source "$(dirname "$0")/lib.bash"
HELDOUT_SEEDS=${HELDOUT_SEEDS:-"20261122 4711"}
for seed in $HELDOUT_SEEDS; do
    write_conf
    rm -f store.db*
    $DS synth -q -o q.pcap --start 2023-04-01 --days 183 --seed "$seed" --truth truth.json
    $DS ingest -q -j 2 q.pcap
    $DS events --from 2023-07-01 --to 2023-09-30 --format json > ev.json
    # the scoring (found, onset, unplanted) is shared with bench/recall_seeds.sh.
    # Issue #4's bar is no miss at all (2026-11-22: one planted spike missed on each held-out seed
    # before the series change, one country spike on seed 4711 after it; met on both seeds since
    # the country sources series of 2026-12-07, measured once after that change; see
    # docs/detection.md).  This fails on any miss, so that a change can only keep detection; the
    # "bar" line says where it stands.
    python3 "$ROOT/tests/e2e/phenomena_score.py" --seed "$seed" --quiet-found \
        --max-missed 0 --max-unplanted 10 truth.json ev.json \
        || fail "seed $seed: a planted phenomenon missed, or too many unplanted events"
done
echo "phenomena_heldout: ok"
