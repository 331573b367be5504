#!/bin/bash
# gatelab bench --precision f32 against the peers' scripts (PyTorch, JAX) in alternating rounds
# on Benchmarks/configs.json, and a table of the medians:
#   Benchmarks/float32-bench-rounds.sh GATELAB [ROUNDS] [PEERS_DIR] [PYTHON]    (from the repository root)
# PEERS_DIR holds torch_rnn_bench.py and jax_rnn_bench.py (default ../shared/bench). GateLab's
# lines carry core_round_trip_ns (hundreds of ns: the two vCPUs were on different L3 caches).
set -euo pipefail
BIN=${1:?usage: float32-bench-rounds.sh GATELAB [ROUNDS] [PEERS_DIR] [PYTHON]}; N=${2:-3}
PEERS=${3:-../shared/bench}; PY=${4:-python3}; C=Benchmarks/configs.json
OUT=$(mktemp); trap 'rm -f "$OUT"' EXIT
for r in $(seq 1 "$N"); do
  "$BIN" bench --precision f32 --configs "$C" --json | grep '"name"' | sed 's/^/gatelab /' >> "$OUT"
  "$PY" "$PEERS/torch_rnn_bench.py" --threads 2 --reps 5 --dtype float32 --configs "$C" | grep '"name"' | sed 's/^/torch /' >> "$OUT"
  "$PY" "$PEERS/jax_rnn_bench.py" --reps 5 --dtype float32 --configs "$C" 2>/dev/null | grep '"name"' | sed 's/^/jax /' >> "$OUT"
done
"$PY" - "$OUT" <<'PYEOF'
import collections, json, statistics as st, sys
rows = collections.defaultdict(lambda: collections.defaultdict(list))
trips = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tool, _, rest = line.partition(" ")
    d = json.loads(rest)
    rows[d["name"]][tool].append(d["fwd_bwd_s"])
    if tool == "gatelab" and d.get("core_round_trip_ns"): trips[d["name"]].append(max(d["core_round_trip_ns"]))
print("| configuration | GateLab f32 | PyTorch f32 | JAX f32 | GateLab / faster peer | rounds GateLab beat both | GateLab's worst round trip (ns) per round |")
print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
f = lambda v: f"{st.median(v):.4f} ({min(v):.4f}–{max(v):.4f})"
for name, t in rows.items():
    g, p, j = t["gatelab"], t["torch"], t["jax"]
    wins = sum(1 for a, b, c in zip(g, p, j) if a < min(b, c))
    print(f"| {name} | {f(g)} | {f(p)} | {f(j)} | {st.median(g) / min(st.median(p), st.median(j)):.2f} | {wins} of {len(g)} | {', '.join(f'{x:.0f}' for x in trips[name])} |")
PYEOF
