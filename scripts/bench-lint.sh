#!/usr/bin/env bash
# Benchmarks `certready lint-config` on the largest stream it accepts: just under 10 MiB of
# `helm template` output (testdata/deploy/flyte-core/rendered-good.yaml repeated, about
# 13,600 documents). Prints wall time and peak memory and fails when they exceed the
# targets (TARGET_SECONDS, default 3; TARGET_MIB, default 256). Results go to
# docs/performance.md by hand.
# Usage: [TARGET_SECONDS=3] [TARGET_MIB=256] scripts/bench-lint.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target_seconds=${TARGET_SECONDS:-3}
target_mib=${TARGET_MIB:-256}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
command -v /usr/bin/time >/dev/null 2>&1 || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends time >/dev/null
}

cargo build --release --quiet --bin certready
python3 - "$work/stream.yaml" <<'PY'
import sys
one = open("testdata/deploy/flyte-core/rendered-good.yaml").read()
copies = (10 * 1024 * 1024 - 1) // len(one)
open(sys.argv[1], "w").write(one * copies)
print(f"stream: {copies} copies of rendered-good.yaml, {copies * len(one) / 1048576:.1f} MiB")
PY
best=""
for round in 1 2 3; do
  /usr/bin/time -f "%e %M" -o "$work/time" target/release/certready lint-config "$work/stream.yaml" --format json > "$work/out.json" || true
  read -r seconds kib < "$work/time"
  echo "round $round: ${seconds} s, $((kib / 1024)) MiB peak"
  if [ -z "$best" ] || awk "BEGIN{exit !($seconds < $best)}"; then best=$seconds; best_kib=$kib; fi
done
python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['configs'][0]; print('objects linted:', sum(c['objects']['linted'].values()), 'findings:', len(c['findings']))" "$work/out.json"
echo "best: ${best} s, $((best_kib / 1024)) MiB (targets: ${target_seconds} s, ${target_mib} MiB)"
awk "BEGIN{exit !($best <= $target_seconds)}" || { echo "FAIL: slower than ${target_seconds} s"; exit 1; }
[ $((best_kib / 1024)) -le "$target_mib" ] || { echo "FAIL: more than ${target_mib} MiB"; exit 1; }
