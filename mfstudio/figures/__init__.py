"""Figures drawn with matplotlib alone (no Qt, no pyplot), shared by the command line (saved as PNG through
Agg) and the window (shown on a Qt canvas)."""
