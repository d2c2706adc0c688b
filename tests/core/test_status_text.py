"""The status line: the same parts for the terminal and the window, the preferences' words for implicit-als."""

from __future__ import annotations

import numpy as np

from mfstudio.core.status_text import data_word, error_words, status_line, status_parts, too_large_text


def test_a_ratings_run_keeps_the_rmse_words():
    assert status_line(3, 10, 0.25, 0.1234, 0.2) == "step 3/10  objective 0.25  RMSE 0.1234  val RMSE 0.2"
    assert status_parts(3, 10, 0.25, 0.1234, 0.2, words="window")[2:] == ["RMSE 0.1234", "validation RMSE 0.2"]
    assert error_words(False) == ("training RMSE", "validation RMSE") and data_word(False) == "ratings"


def test_a_run_of_counts_says_preference_error_and_interactions():
    line = status_line(3, 10, 1132.5, 0.3913, 0.4675, preferences=True)
    assert line == "step 3/10  objective 1132.5  preference error 0.3913  val preference error 0.4675"
    window = status_parts(3, 10, 1132.5, 0.3913, 0.4675, words="window", preferences=True)
    assert window[1].startswith("F = ") and window[2:] == ["preference error 0.3913",
                                                           "validation preference error 0.4675"]
    assert "RMSE" not in line + " ".join(window)
    assert error_words(True) == ("training preference error", "validation preference error")
    assert data_word(True) == "interactions"


def test_values_too_large_are_told_to_rescale_or_read_as_events_when_they_look_like_timestamps():
    stamps = np.array([1.7e9, 1.7e9 + 100])
    assert too_large_text(np.array([2e6, 3.5]), False, 2e6).endswith("rescale them (for example to a 1 to 5 scale) "
                                                                      "and try again.")
    assert too_large_text(np.array([1e200]), False, 1e200).endswith("rescale them (for example to a 1 to 5 scale) "
                                                                     "and try again.")
    for implicit in (False, True):
        text = too_large_text(stamps, implicit, 1.7e9)
        assert "look like timestamps" in text and "--format events" in text and "rescale" not in text
    counts = too_large_text(np.array([2e6, 3.0]), True, 2e6)
    assert counts.startswith("The counts reach 2e+06") and "--format events" in counts and "1 to 5" not in counts
