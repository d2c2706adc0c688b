"""The desktop GUI (PySide6): main window, rating grid, controls, plots."""
