"""The `make bench` report a person reads: the markdown table and the throughput plot, from a result written here."""

from __future__ import annotations

from training.benchmarks.report import markdown, plot


def _result() -> dict:
    curve = [{"mean_words": w, "articles_per_second": 100.0 - w / 20} for w in (300, 700, 1800)]
    paths = {
        f"path-{k}": {"what": f"path {k}", "kind": "classify", "runtime": "onnx int8", "articles_per_second": 90.0 + k,
                      "by_length": curve, "latency": {"p50_s": 0.0146, "p95_s": 0.0173},
                      "fresh_process": {"first_result_s": 4.61, "peak_rss_mb": 799.0},
                      "quality": {"theme_micro_f1": 80.42, "theme_macro_f1": 70.19}}
        for k in range(12)  # more paths than the colour cycle has colours
    }
    paths["broken"] = {"what": "a path that failed", "error": "onnxruntime missing"}
    return {"machine": "test CPU", "threads": 2, "articles": 10, "seed": 13, "mean_words": 900.0,
            "median_words": 760, "labelled": "gold test", "paths": paths,
            "ratios": {"classify / plain fp32": 1.13},
            "targets": [{"target": "classify ≥ 100 articles/s", "measured": "121.0", "met": True},
                        {"target": "first result ≤ 3 s", "measured": "4.61", "met": False}]}


def test_the_table_shows_every_path_its_numbers_and_each_target_met_or_not():
    md = markdown(_result())
    assert "| path 0 | onnx int8 | **90.0** | 14.6 / 17.3 | 4.61 | 799 | themes micro-F1 80.42 / macro-F1 70.19 |" in md
    assert "| a path that failed | – | – | – | – | – | onnxruntime missing |" in md
    assert "| classify / plain fp32 | 1.13× |" in md
    assert "| classify ≥ 100 articles/s | 121.0 | yes |" in md and "| first result ≤ 3 s | 4.61 | **no** |" in md


def test_the_plot_is_written_as_a_png(tmp_path):
    out = tmp_path / "bench.png"
    plot(_result(), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000
