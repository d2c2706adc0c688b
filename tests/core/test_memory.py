"""Memory estimates: a run or an export that cannot fit is refused with the figure and what to change."""

from __future__ import annotations

import pytest

from mfstudio.core import DataError, Ratings, Training, memory


def test_run_estimate_grows_with_k_and_the_data():
    a = memory.run_bytes(1000, 2000, 50_000, 10)
    assert memory.run_bytes(1000, 2000, 50_000, 20) > a and memory.run_bytes(1000, 4000, 50_000, 10) > a
    assert a >= 8 * 10 * 3000  # at least the factors themselves


def test_a_run_that_does_not_fit_is_one_sentence_with_the_figure_and_the_fix():
    with pytest.raises(DataError) as e:
        memory.check_run(10, 1_500_000, 3_000_000, 1000, available=8 * 10**9)
    text = str(e.value)
    assert "K = 1,000" in text and "1,500,000 items" in text and "GB" in text
    assert "use K = " in text and "or less" in text
    memory.check_run(10, 1_500_000, 3_000_000, 20, available=8 * 10**9)  # K = 20 fits


def test_training_checks_memory_before_allocating(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 10_000)
    r = Ratings.from_dense([[5, 3], [4, 1]])
    with pytest.raises(DataError, match="needs about .* of memory"):
        Training(r, "sgd", {"K": 50})


def test_dense_exports_are_checked(monkeypatch):
    with pytest.raises(DataError, match="Exporting R_hat for 200,000 users x 100,000 items"):
        memory.check_dense_export(200_000, 100_000, available=16 * 10**9)
    memory.check_dense_export(943, 1682, available=16 * 10**9)


def test_human_sizes():
    assert memory.human(950e6) == "950 MB" and memory.human(2.4e9) == "2.4 GB" and memory.human(12) == "12 bytes"


def test_only_an_sgd_script_of_data_too_large_to_show_whole_is_refused():
    from mfstudio.core.memory import check_dense_script

    check_dense_script("sgd", 1000, 2000)  # 2 M cells: shown whole, scripted whole
    for solver in ("biased-sgd", "als", "nmf", "implicit-als"):
        check_dense_script(solver, 100_000, 100_000)
    with pytest.raises(DataError, match="keeps R as a 1,001 x 2,000 matrix"):
        check_dense_script("sgd", 1001, 2000)
