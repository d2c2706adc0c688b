"""Help ▸ What am I looking at?: a paragraph per view, shown in a window and as each view's title tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel

from mfstudio.gui import help_texts


def test_every_view_has_a_plain_paragraph():
    assert set(help_texts.VIEWS) == {"grid", "R-hat", "P", "Q", "Biases", "latent map", "loss curve", "explain",
                                     "similar"}
    for name, text in help_texts.VIEWS.values():
        assert name and 120 < len(text) < 600 and "\n" not in text
    page = help_texts.page()
    assert all(name in page for name, _t in help_texts.VIEWS.values())


def test_the_titles_and_tabs_carry_the_paragraphs(window):
    tips = {lab.toolTip() for lab in window.findChildren(QLabel)}
    for key in ("grid", "latent map", "loss curve"):
        assert help_texts.tooltip(key) in tips
    tab_tips = {window.tabs.tabToolTip(i) for i in range(window.tabs.count())}
    for key in ("R-hat", "P", "Q", "Biases", "explain", "similar"):
        assert help_texts.tooltip(key) in tab_tips


def test_the_help_menu_opens_the_page(window, monkeypatch):
    shown: list[str] = []

    def fake_exec(dialog: QDialog) -> int:
        shown.append(dialog.findChild(type(dialog.text), "helpText").toHtml())
        return 0

    monkeypatch.setattr(QDialog, "exec", fake_exec)
    action = window.findChild(type(window.action_train), "actionWhatAmILookingAt")
    action.trigger()
    assert shown and "Latent map" in shown[0] and "R-hat" in shown[0]
