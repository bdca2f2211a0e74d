"""The entry point: every command registered on the app, in the order ``advisor --help`` lists them."""

from advisor.cli import audit, backtest, catalog, collect, rules, schedule
from advisor.cli.floor import app

app.command()(audit.audit)
app.command()(audit.recommend)
app.add_typer(rules.app, name="rules")
app.add_typer(catalog.app, name="catalog")
app.command()(backtest.backtest)
app.command()(collect.collect)
app.add_typer(schedule.config_app, name="config")
app.command()(schedule.history)
app.command()(schedule.diff)


def main() -> None:
    """The ``advisor`` console script; errors become exit codes in the root command (``floor.ErrorBoundary``)."""
    app(prog_name="advisor")
