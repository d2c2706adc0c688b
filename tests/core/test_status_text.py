"""The status line: the same parts for the terminal and the window, the preferences' words for implicit-als."""

from __future__ import annotations

from mfstudio.core.status_text import data_word, error_words, status_line, status_parts


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
