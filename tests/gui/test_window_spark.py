"""The window opens a model trained on Spark (``mfstudio train --engine spark``, the session-wide ``spark_run``
fixture): its session's P and Q reach the factor tables, and the run is the window's result."""

from __future__ import annotations

import numpy as np


def test_the_window_opens_a_spark_run_and_shows_its_factors(window, spark_run):
    _, spark_dir, _ = spark_run
    assert window.open_path(spark_dir / "session.mfstudio")
    npz = np.load(spark_dir / "results.npz")
    P, Q = npz["P"], npz["Q"]
    result = window.result
    assert result is not None and result.solver == "als" and result.steps_done == 20
    np.testing.assert_array_equal(result.factors.P, P)
    np.testing.assert_array_equal(result.factors.Q, Q)
    pm, qm = window.p_model, window.q_model
    assert (pm.rowCount(), pm.columnCount()) == P.shape
    assert pm.value(7, 2) == P[7, 2] and pm.value(299, 0) == P[299, 0]
    shown_q = Q if (qm.rowCount(), qm.columnCount()) == Q.shape else Q.T
    assert (qm.rowCount(), qm.columnCount()) == shown_q.shape
    assert qm.value(1, 2) == shown_q[1, 2]
    assert window.recs_model.rowCount() > 0  # the recommendations are made from Spark's factors
