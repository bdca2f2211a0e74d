"""Actions that need no sizing: stop or terminate (the whole cost goes), install the agent, informational findings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from advisor.engine.actions.base import ActionContext, Proposal, handles
from advisor.model import Kind

if TYPE_CHECKING:
    from advisor.engine.rules import LoadedRule

IDLE_SHUTDOWN_NOTE = (
    "Attach a lifecycle configuration that stops the notebook after an idle period (for example the auto-stop-idle "
    "script of aws-samples/amazon-sagemaker-notebook-instance-lifecycle-config-samples) so it does not run idle again."
)


@handles("stop")
@handles("terminate")
def stop(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """The resource's full cost is saved."""
    return {rid: Proposal(target=rule.rule.action, cost_after=0.0) for rid in rows.index}


@handles("stop", Kind.SAGEMAKER_NOTEBOOK)
def stop_notebook(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Stop an idle notebook instance and keep it from idling again."""
    return {rid: Proposal(target="stop", cost_after=0.0, notes=[IDLE_SHUTDOWN_NOTE],
                          evidence={"lifecycle_config": "stop after an idle period (auto-stop-idle)"})
            for rid in rows.index}


@handles("install_agent")
@handles("info")
def no_change(ctx: ActionContext, rule: LoadedRule, rows: pd.DataFrame) -> dict[str, Proposal]:
    """Findings that change nothing yet: the cost stays, nothing is saved."""
    return {rid: Proposal() for rid in rows.index}
