"""The cost of looking inside: training throughput with the Train page's views on against off.

The app trains with `views=["all"]` (nnbuilder.train.probes): between epochs the probes draw the decision
boundary, the neuron maps and the weight/gradient histograms, on a time budget. The issue allows them
10 % of the training speed. Each contestant trains the same model from the same seed on the same
prepared data with nnbuilder's Trainer, once with no probe, once with the 'internals' probe only and
once with every registered probe; the WHOLE fit is timed (wall clock, probes and the final collection
included: `FitResult.seconds` leaves the probes out, which is exactly what we must not do here).
Rounds are interleaved, like bench.py's training contestants.

What is judged: the probes' time as a share of the same run's training time (the trainer clocks them
apart). Two separate fits of a half-second moons run differ by ±20 % even on a quiet 2-core machine,
more than the effect measured, so the slowdown between runs (the median over rounds of the paired
ratio) is shown beside it, not judged.

Two tables: bench.py's generated one (many rows, 50 features: few long epochs) and the built-in moons
(500 rows, 2 features: many epochs of a few milliseconds, where the views' fixed costs weigh most and
every view applies, the neuron maps included).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from nnbuilder.model.compile import build_model
from nnbuilder.data.pipeline import load_table, prepare
from nnbuilder.train.probes import PROBES, make_probes
from nnbuilder.spec.network import parse_spec
from nnbuilder.train.trainer import Trainer

import bench_cases as cases

VIEW_SETS = {"no views": [], "internals only": ["internals"], "all views": ["all"]}
TARGET_OVERHEAD = 0.10  # the limit
MOONS_LAYERS = [{"type": "dense", "units": 64, "activation": "relu"}, {"type": "dropout", "rate": 0.1},
                {"type": "dense", "units": 32, "activation": "relu"}]  # the app's default network


def _spec(layers: list[dict], batch_size: int, epochs: int, target: str = "label"):
    return parse_spec({
        "data": {"target": target}, "layers": layers,
        "training": {"optimizer": "adam", "learning_rate": cases.LEARNING_RATE, "batch_size": batch_size,
                     "epochs": epochs, "early_stopping_patience": 0, "seed": cases.SEED},
    })


def scenarios(cfg: dict) -> dict[str, tuple]:
    """name -> (spec, prepared data, repeats): the bench table with the bench MLP, and the built-in moons
    (its fits take a second: thrice the rounds, since the noise of a shared machine weighs more there)."""
    table = cases.make_table(cfg["rows"], cfg["features"], cfg["val_rows"])
    frame = pd.DataFrame(np.vstack([table.X_train, table.X_val]),
                         columns=[f"f{i}" for i in range(cfg["features"])])
    frame["label"] = np.concatenate([table.y_train, table.y_val])
    dense = [{"type": "dense", "units": units, "activation": "relu"} for units in cases.HIDDEN]
    table_spec = _spec(dense, cfg["batch_size"], cfg["warmup"] + cfg["epochs"])
    moons, _ = load_table("sample:moons")
    moons_spec = _spec(MOONS_LAYERS, 32, cfg["moons_epochs"])
    return {
        f"table {cfg['rows']:,}×{cfg['features']}": (table_spec, prepare(frame, table_spec.data, seed=cases.SEED),
                                                     cfg["repeats"]),
        f"moons {len(moons)}×2, {cfg['moons_epochs']} epochs": (moons_spec, prepare(moons, moons_spec.data,
                                                                                      seed=cases.SEED),
                                                                 3 * cfg["repeats"]),
    }


def run_fit(spec, prepared, views: list[str], device: str) -> tuple[float, float]:
    """Samples/s of one whole fit (training rows × epochs / wall seconds, probes included), and the share of
    that run's training time its probes took (the trainer clocks them apart: less noisy than two runs)."""
    torch.manual_seed(cases.SEED)
    model = build_model(spec, prepared.input_shape, prepared.task, prepared.n_outputs)
    trainer = Trainer(spec.training, prepared.task, device=device,
                      probes=make_probes(views, spec, prepared) if views else [])
    started = time.perf_counter()
    fit = trainer.fit(model, prepared.X_train, prepared.y_train, prepared.X_val, prepared.y_val)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return len(prepared.X_train) * len(fit.history) / seconds, fit.probe_seconds / fit.seconds


def bench_views(cfg: dict, device: str, log=print) -> dict[str, dict]:
    """{scenario: {view set: best samples/s, ..., "overhead": {view set: median paired slowdown},
    "probe_share": {view set: median share of the training time spent in the probes}}}."""
    import nnbuilder.views  # noqa: F401  (registers the built-in probes, so the log can name them)
    log(f"  registered probes: {', '.join(sorted(PROBES))}")
    results = {}
    for name, (spec, prepared, repeats) in scenarios(cfg).items():
        warm = spec.model_copy(update={"training": spec.training.model_copy(update={"epochs": 1})})
        run_fit(warm, prepared, ["all"], device)  # first calls: kernels, lazy imports, allocator
        rates: dict[str, list[float]] = {view: [] for view in VIEW_SETS}
        shares: dict[str, list[float]] = {view: [] for view in VIEW_SETS}
        for round_ in range(1, repeats + 1):
            for view, names in VIEW_SETS.items():
                rate, share = run_fit(spec, prepared, names, device)
                rates[view].append(rate)
                shares[view].append(share)
                log(f"  round {round_}: {name:<28} {view:<15} {rate:>12,.0f} samples/s, probes {share:6.1%} "
                    "of the training time")
        best = {view: max(seen) for view, seen in rates.items()}
        best["overhead"] = {view: float(np.median([a / b - 1.0 for a, b in zip(rates["no views"], rates[view])]))
                            for view in VIEW_SETS if view != "no views"}
        best["probe_share"] = {view: float(np.median(shares[view])) for view in VIEW_SETS if view != "no views"}
        results[name] = best
    return results


def judge_views(results: dict[str, dict]) -> list[dict]:
    """One bench.py row per scenario and view set: the probes' share of the training time and the median
    slowdown against no views, both ≤ 10 %."""
    rows = []
    for name, best in results.items():
        for view, share in best["probe_share"].items():
            ok = share <= TARGET_OVERHEAD and best["overhead"][view] <= TARGET_OVERHEAD  # their time, and the slowdown
            rows.append({"benchmark": f"views overhead, {view} ({name})",
                         "value": f"{share:.1%} of the training time (best {best[view]:,.0f} vs "
                                  f"{best['no views']:,.0f} samples/s; median slowdown {best['overhead'][view]:+.1%})",
                         "target": f"≤ {TARGET_OVERHEAD:.0%}", "result": "PASS" if ok else "FAIL"})
    return rows
