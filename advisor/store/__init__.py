"""Local embedded stores: the metrics cache (cache.py) and the run history (history.py)."""
