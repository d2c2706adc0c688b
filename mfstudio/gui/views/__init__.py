"""The result views: the loss curve and the result tables."""
