"""The One update panel's text: each solver's own rule, implicit-als's weighted least-squares row solve."""

from __future__ import annotations

import numpy as np

from mfstudio.core import Training, load_example
from mfstudio.gui.views.update_panel import update_text


def test_an_implicit_als_half_step_is_the_weighted_least_squares_row_solve_with_confidences():
    t = Training(load_example("listening"), "implicit-als", {"K": 2, "steps": 3, "confidence": 2.0})
    u, _ = t.step_update(focus=0)
    text = update_text(u, t.ratings)
    assert "every user's factors solved with Q fixed" in text
    assert "(Yᵀ Y + Σ_y (c_xy − 1) y yᵀ + β I) x = Σ_y c_xy p_xy y" in text and "weighted least-squares" in text
    assert "c_xy = 1 + confidence·|r_xy|" in text and "x_k · max(0" not in text  # not nmf's multiplicative rule
    assert "confidences c_xy: [" in text and "matrix: " in text and "right-hand side: " in text
    assert np.all(u.confidences >= 1.0) and "objective F (Hu et al., every cell)" in text
    als_u, _ = Training(load_example("example-1"), "als", {"K": 2}).step_update(focus=0)
    als = update_text(als_u, load_example("example-1"))
    assert "a ridge solve" in als and "confidences" not in als and "objective e:" in als
