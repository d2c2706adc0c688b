"""MF Studio: matrix factorization of rating matrices, to see, teach and experiment."""

__version__ = "0.1.0"
