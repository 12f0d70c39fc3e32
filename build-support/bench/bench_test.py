# Copyright 2026 pants-pyo3 contributors.
# Licensed under the Apache License, Version 2.0 (see LICENSE).

"""The benchmark's argument parsing and table, without measuring anything (no timing in tests)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent / "bench.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module
    spec.loader.exec_module(module)
    return module


def test_quick_runs_each_pair_once_without_waiting(bench: ModuleType) -> None:
    args = bench.parse_args(["--quick"])
    assert (args.repeat, args.cold_repeat, args.noop_repeat, args.max_wait) == (1, 1, 1, 0)
    assert set(args.only.split(",")) == set(bench.GROUPS)
    full = bench.parse_args([])
    assert full.repeat > 1 and not full.quick


def test_unknown_group_is_refused(bench: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "edit,nonsense"])
    assert "nonsense" in capsys.readouterr().err


def _measurements(bench: ModuleType, **medians: float) -> dict:
    return {name: bench.Measurement(name, [value], [1.0]) for name, value in medians.items()}


def test_table_has_a_row_per_loop_with_its_target(bench: ModuleType) -> None:
    measured = _measurements(
        bench,
        cargo_edit=0.5,
        pants_edit=0.7,
        maturin_edit=1.0,
        pants_edit_module=0.6,
        pants_edit_test=2.0,
        maturin_edit_test=2.0,
        pants_develop=0.8,
        maturin_develop=1.6,
        pants_py_edit_test=0.9,
        interp_one_edit=1.0,
        interp_n_edit=1.8,
        maturin_interp_one_edit=1.0,
        maturin_interp_n_edit=9.0,
        pants_noop=0.25,
        pants_cold=20.0,
        pants_noop_no_pantsd=8.0,
        maturin_cold=12.0,
        pants_startup=5.0,
        remote_warm=20.0,
        remote_cold=60.0,
    )
    meta = {"py_edit": {"pantsd_restarts": 0, "pantsd_same_pid": True}, "remote_what": "::"}
    rows = {r["key"]: r for r in bench.summarize(measured, ["3.9", "3.10", "3.11"], meta)}

    assert rows["edit_vs_maturin"]["value"] == 0.7 and rows["edit_vs_maturin"]["met"] is True
    assert rows["edit_over_cargo"]["value"] == 0.2 and rows["edit_over_cargo"]["met"] is True
    assert rows["edit_test"]["value"] == 1.0 and rows["edit_test"]["met"] is False
    assert rows["develop"]["value"] == 0.5 and rows["develop"]["target"] is None
    assert rows["py_edit_test"]["met"] is True
    assert "restarts in pants.log: 0" in rows["py_edit_test"]["detail"]
    assert rows["interpreters_edit"]["target"] == 1.7 and rows["interpreters_edit"]["met"] is False
    assert rows["noop"]["met"] is True
    assert rows["cold"]["value"] == 1.0 and rows["cold"]["met"] is True
    assert rows["remote"]["value"] == pytest.approx(0.333, abs=1e-3)
    assert rows["remote"]["met"] is False

    meta_md = {
        "date": "2026-12-02 15:00 UTC",
        "nproc": 2,
        "cpu": "test CPU",
        "load_start": [3.0, 2.0, 1.0],
        "load_end": [1.5, 1.0, 1.0],
        "max_load_before": 3.5,
        "repeat": 1,
        "cold_repeat": 1,
        "noop_repeat": 1,
        "quick": True,
        "versions": {"pants": "2.17.1", "maturin": "maturin 1.16.0", "cargo": "cargo 1.95.0"},
    }
    table = bench.markdown(list(rows.values()), meta_md)
    assert "2 CPUs (test CPU), 1-min load 3.00 at start" in table
    assert "`--quick`" in table
    edit_row = (
        "| one-line .rs edit → wheel: `package` vs `maturin build --release` "
        "| 0.70× | ≤ 0.8× | yes |"
    )
    assert edit_row in table
    assert "| `.py` edit → `pants test` (3.11) | 0.90 s | ≤ 1.0 s | yes |" in table
    assert table.count("**no**") == 3


def test_a_subset_renders_only_its_rows(bench: ModuleType) -> None:
    rows = bench.summarize(_measurements(bench, pants_noop=0.4), ["3.11"])
    assert [(r["key"], r["met"]) for r in rows] == [("noop", False)]


def test_linker_rows_give_zigs_cost_over_the_host_linker(bench: ModuleType) -> None:
    measured = _measurements(
        bench,
        linker_cold_zig=30.0,
        linker_cold_host=25.0,
        linker_edit_zig=1.1,
        linker_edit_host=1.0,
    )
    rows = {r["key"]: r for r in bench.summarize(measured, ["3.11"])}
    assert rows["linker_cold"]["value"] == 1.2 and rows["linker_cold"]["target"] is None
    assert "zig 30.00 s; host linker 25.00 s (+5.00 s)" == rows["linker_cold"]["detail"]
    assert rows["linker_edit"]["value"] == 1.1
