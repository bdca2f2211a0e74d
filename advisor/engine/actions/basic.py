"""Actions that need no sizing: stop or terminate (the whole cost goes), a notebook's auto-stop, install the agent,
informational findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from advisor.engine.actions.base import ActionContext, Proposal, resources
from advisor.engine.actions.params import AutoStopParameters

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

HOURS_PER_WEEK = 168.0
IDLE_SHUTDOWN_NOTE = (
    "Attach a lifecycle configuration that stops the notebook after an idle period (for example the auto-stop-idle "
    "script of aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples) so it does not run idle again."
)


def stop(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """The resource's full cost is saved."""
    return {rid: Proposal(target=rule.rule.action, cost_after=0.0) for rid in rows.index}


def stop_notebook(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Stop an idle notebook instance and keep it from idling again."""
    return {rid: Proposal(target="stop", cost_after=0.0, notes=[IDLE_SHUTDOWN_NOTE],
                          evidence={"lifecycle_config": "stop after an idle period (auto-stop-idle)"})
            for rid in rows.index}


def add_auto_stop(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """A notebook that never stops itself: attach the auto-stop lifecycle configuration.

    Without utilization the saving is an assumption (``used_hours_per_week`` of 168 hours), stated; how long it has
    run without a stop (``LastModifiedTime``, which a start, stop or update moves) raises it from low to medium.
    """
    t = AutoStopParameters.of(rule)
    end = ctx.window[1]
    out: dict[str, Proposal] = {}
    for rid, row in resources(rows):
        since = pd.Timestamp(row["last_modified"]) if isinstance(row["last_modified"], str) else None
        days = (end - since).total_seconds() / 86_400 if since is not None else None
        share = t.used_hours_per_week / HOURS_PER_WEEK
        config = row["lifecycle_config"] if isinstance(row["lifecycle_config"], str) else None
        notes = [
            f"SageMaker publishes no utilization for notebook instances: the saving assumes it is used "
            f"{t.used_hours_per_week:g} hours a week and stopped by auto-stop the other "
            f"{HOURS_PER_WEEK - t.used_hours_per_week:g} (a {1 - share:.0%} saving), an estimate, not a measurement.",
            IDLE_SHUTDOWN_NOTE,
            ("Its lifecycle configuration " + config + " has no idle shutdown: add the auto-stop script's OnStart "
             "step to it." if config else "It has no lifecycle configuration: create one with the auto-stop script "
                                          "as its OnStart step and attach it (the notebook must be stopped to attach "
                                          "it)."),
        ]
        if days is not None:
            notes.append(f"InService without a stop or start since {since:%Y-%m-%d %H:%M} UTC ({days:.0f} days, "
                         "from its LastModifiedTime).")
        medium = days is not None and days >= t.running_days_for_medium
        out[rid] = Proposal(
            target="auto-stop lifecycle configuration", cost_after=float(row["monthly_cost"]) * share,
            confidence=0.6 if medium else 0.4, notes=notes,
            evidence={"notebook": {"status": row["state"], "last_modified": row["last_modified"],
                                   "days_without_stop": None if days is None else round(days, 1),
                                   "lifecycle_config": config, "auto_stop": False,
                                   "assumed_used_hours_per_week": t.used_hours_per_week},
                      "lifecycle_config": "stop after an idle period (auto-stop-idle)"})
    return out


def no_change(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Findings that change nothing yet: the cost stays, nothing is saved."""
    return {rid: Proposal() for rid in rows.index}
