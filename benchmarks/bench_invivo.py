"""Dose-finding simulation: trials per second, vectorised next to the loop per trial.

For BOIN (target 0.3; true toxicity 0.05, 0.15, 0.30, 0.45, 0.60) and BOIN12 (phi_T
0.35, phi_E 0.25; toxicity 0.05, 0.10, 0.15, 0.30, 0.45, efficacy 0.10, 0.30, 0.50,
0.55, 0.60), five doses, cohorts of 3, at most 36 patients:

* ``vectorised``: :func:`vein2vein.invivo.simulate`, all trials advancing one cohort
  per step with array operations (``--trials``, 10,000 by default);
* ``loop``: :func:`vein2vein.invivo._simulate.simulate_reference`, the same decisions
  one trial and one cohort at a time, as ``BOIN::get.oc`` loops (``--loop-trials``,
  fewer, since it is slow).

Each reports trials per second; ``ratio`` is vectorised / loop trials per second,
measured side by side in one process. The selection probabilities of both runs are
printed and their largest difference checked against Monte Carlo error (exit 1 if it is
beyond 5 standard errors). Run: ``.venv/bin/python benchmarks/bench_invivo.py``.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from _common import NOISE_NOTE, package_versions, print_json, run_metadata
from vein2vein.invivo import BOIN, BOIN12, simulate
from vein2vein.invivo._simulate import simulate_reference

NOTE = NOISE_NOTE + "compare the vectorised/loop ratio measured side by side in one process."
SCENARIOS: dict[str, dict[str, Any]] = {
    "BOIN": {
        "design": BOIN(5, 0.3),
        "true_tox": [0.05, 0.15, 0.30, 0.45, 0.60],
        "true_eff": None,
    },
    "BOIN12": {
        "design": BOIN12(5, 0.35, 0.25),
        "true_tox": [0.05, 0.10, 0.15, 0.30, 0.45],
        "true_eff": [0.10, 0.30, 0.50, 0.55, 0.60],
    },
}


def _run(name: str, trials: int, loop_trials: int, max_n: int, seed: int) -> dict[str, Any]:
    spec = SCENARIOS[name]
    kwargs = {"true_tox": spec["true_tox"], "true_eff": spec["true_eff"], "max_n": max_n}
    start = time.perf_counter()
    fast = simulate(spec["design"], n_trials=trials, seed=seed, **kwargs)
    fast_s = time.perf_counter() - start
    start = time.perf_counter()
    slow = simulate_reference(spec["design"], n_trials=loop_trials, seed=seed + 1, **kwargs)
    slow_s = time.perf_counter() - start
    worst = 0.0
    for a, b in zip(fast.selection, slow.selection, strict=True):
        se = math.sqrt(a * (1 - a) * (1 / trials + 1 / loop_trials)) + 1e-3
        worst = max(worst, abs(a - b) / se)
    print(
        f"{name}: {trials / fast_s:,.0f} vs {loop_trials / slow_s:,.0f} trials/s", file=sys.stderr
    )
    return {
        "design": repr(spec["design"]),
        "true_tox": spec["true_tox"],
        "true_eff": spec["true_eff"],
        "vectorised": {
            "trials": trials,
            "seconds": round(fast_s, 4),
            "trials_per_s": round(trials / fast_s, 1),
            "selection": [round(v, 4) for v in fast.selection],
            "mean_patients": [round(v, 3) for v in fast.mean_patients],
        },
        "loop": {
            "trials": loop_trials,
            "seconds": round(slow_s, 4),
            "trials_per_s": round(loop_trials / slow_s, 1),
            "selection": [round(v, 4) for v in slow.selection],
        },
        "ratio": round((trials / fast_s) / (loop_trials / slow_s), 1),
        "max_selection_difference_in_se": round(worst, 2),
        "agree": worst < 5,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10_000)
    parser.add_argument("--loop-trials", type=int, default=1_000)
    parser.add_argument("--max-n", type=int, default=36)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = {
        name: _run(name, args.trials, args.loop_trials, args.max_n, args.seed) for name in SCENARIOS
    }
    out = {
        "metadata": run_metadata(
            package_versions("numpy", "scipy"),
            NOTE,
            trials=args.trials,
            loop_trials=args.loop_trials,
            max_n=args.max_n,
            cohort_size=3,
        ),
        "results": results,
    }
    print_json(out)
    return 0 if all(r["agree"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
