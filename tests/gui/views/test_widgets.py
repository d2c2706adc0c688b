"""The folding splitter: the later panes fold away while there is no room for them, and come back."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from mfstudio.gui.views.widgets import FoldingSplitter


def splitter(qtbot, width: int) -> FoldingSplitter:
    s = FoldingSplitter(fold_below=600)
    for text in ("loss", "map"):
        s.addWidget(QLabel(text))
    qtbot.addWidget(s)
    s.resize(width, 200)
    s.show()
    qtbot.waitExposed(s)
    return s


def test_narrow_folds_the_second_pane_and_wide_opens_it_again_evenly(qtbot):
    s = splitter(qtbot, 500)
    assert s.folded and s.sizes()[0] >= 490
    s.resize(900, 200)
    qtbot.waitUntil(lambda: not s.folded)
    a, b = s.sizes()
    assert abs(a - b) <= s.handleWidth() + 1
    s.resize(550, 200)
    qtbot.waitUntil(lambda: s.folded)


def test_a_pane_the_user_opens_at_a_narrow_width_stays_open(qtbot):
    s = splitter(qtbot, 500)
    assert s.folded
    s.moveSplitter(300, 1)  # as a drag of the handle does
    assert not s.folded
    s.resize(520, 200)  # still narrow: the user's layout stands
    qtbot.wait(10)
    assert not s.folded


def test_a_folded_layout_restored_at_a_wide_width_is_kept(qtbot):
    s = FoldingSplitter(fold_below=600)
    for text in ("loss", "map"):
        s.addWidget(QLabel(text))
    qtbot.addWidget(s)
    s.resize(900, 200)
    s.setSizes([900, 0])  # as restoreState of a layout the user folded
    s.show()
    qtbot.waitExposed(s)
    assert s.folded


def test_without_fold_below_nothing_folds_by_itself(qtbot):
    s = FoldingSplitter()
    for text in ("loss", "map"):
        s.addWidget(QLabel(text))
    qtbot.addWidget(s)
    s.resize(300, 200)
    s.show()
    qtbot.waitExposed(s)
    assert not s.folded


def test_the_window_folds_its_latent_map_when_too_narrow_for_it_and_the_loss_curve(window, qtbot):
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: window.top_split.folded)
    assert window.plot.width() >= 480  # the loss curve takes the room instead of two crushed views
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: not window.top_split.folded)
    assert window.latent_map.width() >= 400


def test_folding_by_width_is_announced_and_the_window_says_where_the_map_went(window, qtbot):
    with qtbot.waitSignal(window.top_split.foldedByWidth, timeout=3000) as got:
        window.resize(1000, 700)
    assert got.args == [True]
    assert "latent map is folded" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.top_split.foldedByWidth, timeout=3000) as got:
        window.resize(1400, 900)
    assert got.args == [False]
