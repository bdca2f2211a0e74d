"""The ``advisor`` command line, one module per command group on a shared floor.

- The floor: ``floor`` (the app, the console, config loading, the one error boundary), ``options`` (flags shared by
  several commands) and ``aws_request`` (turning AWS flags into a collection request). The floor never imports a
  command module.
- The commands: ``audit`` (audit, recommend), ``collect``, ``backtest``, ``schedule`` (config show, history, diff),
  ``rules`` and ``catalog``. Each imports the floor and nothing else in this package.
- The entry: ``main`` registers every command on the app; ``[project.scripts]`` points at ``main:main``.

Command functions import the engine, pandas, duckdb, plotly and boto3 when they run, not at module level, so that
``advisor --help`` and a typo in a flag answer at once.
"""
