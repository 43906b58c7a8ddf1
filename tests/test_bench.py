"""Smoke test for benchmarks/bench.py: every contestant runs on a tiny table and the report renders.

Not a speed check (that is `make bench`); it keeps the benchmark from rotting as the engine changes.
"""

from __future__ import annotations



import bench  # noqa: E402

TINY = dict(rows=1_200, features=10, val_rows=200, batch_size=64, epochs=1, warmup=1, repeats=1)


def test_every_contestant_runs_and_the_report_has_targets():
    rates = bench.bench_training(TINY, "cpu", log=lambda line: None)
    assert set(rates) == {"trainer", "hand_loop", "dataloader", "sklearn"}
    assert all(rate > 0 for rate in rates.values())
    rows = bench.judge(rates, {})
    assert [r["result"] for r in rows if r["target"]] and all(r["result"] in ("PASS", "FAIL") for r in rows if r["target"])
    table = bench.markdown(rows)
    assert table.startswith("| Benchmark | Value | Target | Result |") and "trainer / hand_loop" in table


def test_ingest_ratios_are_judged():
    ingest = {"nnbuilder_s": 1.2, "pyarrow_s": 1.0, "nnbuilder_peak_bytes": 700e6, "pyarrow_peak_bytes": 500e6,
              "float32_bytes": 200e6, "csv_bytes": 1}
    results = {r["benchmark"]: r["result"] for r in bench.judge({}, ingest)}
    assert results["read_csv time vs pyarrow"] == "PASS"
    assert results["read_csv peak memory vs float32 data"] == "FAIL"  # 3.5× > 3×
