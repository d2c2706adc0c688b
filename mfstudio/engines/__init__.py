"""Engines other than MF Studio's own solvers (Qt-free): :mod:`mfstudio.engines.spark` runs Apache Spark's ALS.

An engine trains the same model (R ≈ P·Q) on the same split and hands back factors that the
built-in writers turn into the same result files and session."""
