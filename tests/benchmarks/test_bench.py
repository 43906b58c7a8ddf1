"""Smoke test for benchmarks/bench.py: every contestant runs on a tiny table and the report renders.

Not a speed check (that is `make bench`); it keeps the benchmark from rotting as the engine changes.
"""

from __future__ import annotations



import bench  # noqa: E402

TINY = dict(rows=1_200, features=10, val_rows=200, batch_size=64, epochs=1, warmup=1, repeats=1, moons_epochs=2)


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


def test_views_overhead_runs_and_is_judged_against_ten_percent():
    import bench_views

    results = bench_views.bench_views(TINY, "cpu", log=lambda line: None)
    assert len(results) == 2  # the bench table and the built-in moons
    for best in results.values():
        assert all(best[view] > 0 for view in bench_views.VIEW_SETS)
        assert set(best["overhead"]) == {"internals only", "all views"}
        assert set(best["probe_share"]) == {"internals only", "all views"}
        # a smoke-sized run is mostly the first and the final collection, which always happen: only > 0 is sure
        assert best["probe_share"]["internals only"] > 0 and best["probe_share"]["all views"] > 0
        assert -1 < best["overhead"]["all views"] < 100
    table = next(best for name, best in results.items() if name.startswith("table"))
    # one round: the median slowdown is that round's, and the best rates are its rates
    assert table["overhead"]["all views"] == table["no views"] / table["all views"] - 1
    rows = bench.judge({}, {}, results)
    assert len(rows) == 4 and all(r["target"] == "≤ 10%" and r["result"] in ("PASS", "FAIL") for r in rows)
    fake = {"moons": {"no views": 100.0, "internals only": 95.0, "all views": 80.0,
                      "overhead": {"internals only": 0.05, "all views": 0.25},
                      "probe_share": {"internals only": 0.081, "all views": 0.12}}}
    judged = bench_views.judge_views(fake)
    assert [r["result"] for r in judged] == ["PASS", "FAIL"]  # 8.1 % passes, 12 % does not
    assert judged[1]["value"] == "12.0% of the training time (best 80 vs 100 samples/s; median slowdown +25.0%)"
    assert "views overhead, all views (moons)" in bench.markdown(bench.judge({}, {}, fake))
