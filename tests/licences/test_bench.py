"""The P7 benchmark keeps working: its measuring function, at tiny sizes, on the test database.
(Numbers are never asserted here; only that every result is there, in the shared format, correct.)"""

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

KEYS = {"id", "workload", "figure", "unit", "baseline", "baseline_unit", "ratio", "p99_ms", "errors", "rows_checked"}


def load_bench():
    path = Path(__file__).resolve().parents[2] / "bench" / "licences.py"
    spec = importlib.util.spec_from_file_location("bench_licences", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_licence_benchmark_measures_and_checks_at_tiny_sizes(tmp_path):
    bench = load_bench()
    results = bench.measure(bench.Sizes(rows=30, seconds=0.05, rounds=3, sample=10), tmp_path)
    assert [r["unit"] for r in results] == ["signs/s (CPU)", "verifies/s (CPU)", "licences/s (CPU)", "rows/s"]
    for result in results:
        assert set(result) >= KEYS and result["id"] == "P7"
        assert len(result["rounds"]) == 3 and result["figure"] > 0 and result["baseline"] > 0
        assert result["errors"] == 0
    assert results[-1]["rows_checked"] == 30  # every imported row counted in the library afterwards
    assert "projection for 1 M rows" in results[-1]["notes"]
