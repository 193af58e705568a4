#!/usr/bin/env bash
# A/B the saga benchmark between git worktrees, alternating runs so both see the same
# machine: bench/ab.sh before:/path/to/worktree after:/path/to/other  (N=2 SAGAS=1500)
# Each worktree's platform/ is put first on PYTHONPATH; prints steps/s, p50, coordinator
# CPU ms per step and Redis round trips per step per run.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
N=${N:-2}
for i in $(seq "$N"); do
  for spec in "$@"; do
    label=${spec%%:*}; dir=${spec#*:}
    out="/tmp/ab-$label-$i.json"
    (cd "$dir" && PYTHONPATH="$dir/platform:$dir" timeout 600 "$here/.venv/bin/python" -m bench \
      --sagas "${SAGAS:-1500}" --warmup 300 --skip-pipe --out "$out" >/dev/null 2>&1)
    "$here/.venv/bin/python" - "$label" "$i" "$out" <<'PY'
import json, sys
label, i, path = sys.argv[1:]
d = json.load(open(path)); s = d["coordinator_stats"]
print(label, i, "steps/s", d["steps_per_s"], "p50", d["p50_step_ms"],
      "cpu_ms/step", s.get("cpu_ms_per_step"), "trips/step", s.get("redis_round_trips_per_step"))
PY
  done
done
