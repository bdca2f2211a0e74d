"""Backtest: recommend from the history before a cut-off, replay the later demand on every recommended target.

``split`` chooses the windows, ``strategy``/``ours``/``reference`` turn the earlier history into decisions,
``demand`` and ``oracle`` read the later demand, ``replay`` judges the decisions, and ``report``/``terminal``
render the result. ``advisor backtest`` (``advisor/cli/backtest.py``) and ``bench/quality.py`` drive it.
"""
