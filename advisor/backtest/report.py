"""Backtest outputs: a JSON document and a self-contained HTML page (``reports/backtest.html.j2``).

The page inlines its stylesheet and plotly.js once and fetches nothing. Text from the data (resource ids, names,
regions, types) reaches it through jinja2 with autoescape on, or as JSON in a ``<script type="application/json">``
block with ``<``, ``>`` and ``&`` escaped; the chart labels are strategy names only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import plotly.offline
from markupsafe import Markup

from advisor.backtest.demand import IDLE_IOPS, IDLE_SHARE, RATE_OVER_SHARE
from advisor.backtest.replay import BacktestResult
from advisor.display import usd
from advisor.fsutil import atomic_write_text
from advisor.jsonsafe import plain
from advisor.report.encoding import script_json
from advisor.resources import resource_dir
from advisor.version import __version__

TEMPLATE = "backtest.html.j2"
# Failed first, then what held, then the rest: the reader looks for what would have gone wrong.
STATUS_ORDER = {"failed": 0, "held": 1, "censored": 2, "not replayed": 3, "no later data": 4, "no change": 5}


def definitions() -> dict[str, Any]:
    """What "held" means, stated in every output."""
    return {
        "cpu": f"busy vCPUs above the target's vCPUs in at most {RATE_OVER_SHARE:.0%} of later samples",
        "gpu": f"busy GPUs above the target's GPUs in at most {RATE_OVER_SHARE:.0%} of later samples",
        "memory": "GiB used never above the target's memory",
        "gpu_memory": "GPU GiB used never above the target's GPU memory",
        "iops": "read + write IOPS never above the volume's limit",
        "stop": f"CPU and GPU within {IDLE_SHARE:.0%} of the current capacity (same {RATE_OVER_SHARE:.0%} rule), "
                f"volumes at most {IDLE_IOPS:g} IOPS",
        "unobserved": "a dimension without later data is assumed fully used at the current capacity",
        "censored": "later demand at the current capacity (1 % of samples at 98 % or more) is only a lower bound: "
                    "a target that keeps or raises that capacity is neither held nor hurt",
        "oracle": "per EC2 instance: stop if it stayed idle, else the cheapest type (sizing's candidate rules) "
                  "that held the later demand with no headroom, else the current type",
    }


def to_document(result: BacktestResult) -> dict[str, Any]:
    return plain({
        "generated_at": result.generated_at.isoformat(),
        "advisor_version": __version__,
        "source": result.source_label,
        "price_list_date": result.price_list_date,
        "split": result.split.describe(),
        "resources_replayed": result.resources_replayed,
        "definitions": definitions(),
        "strategies": [{"name": o.name, "description": o.summary_text, "settings": o.settings,
                        "summary": o.summary, "resources": sorted_rows(o.rows)} for o in result.outcomes],
    })


def to_json(result: BacktestResult) -> str:
    return json.dumps(to_document(result), indent=2, allow_nan=False)


def sorted_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (STATUS_ORDER.get(r["status"], 9), -(r["monthly_savings"] or 0.0),
                                       r["resource_id"]))


def render_html(result: BacktestResult) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(resource_dir("reports")),
                             autoescape=True, undefined=jinja2.StrictUndefined)
    env.filters["money"] = usd
    env.filters["pct"] = _pct
    chart = {"strategies": [o.name for o in result.outcomes],  # EC2 instances only: the oracle's scope
             "kept": [o.summary["savings_kept_on_oracle"] for o in result.outcomes],
             "failed": [o.summary["savings_failed_on_oracle"] for o in result.outcomes],
             "oracle": result.outcomes[0].summary["oracle_savings"] if result.outcomes else 0.0}
    document = to_document(result)
    return env.get_template(TEMPLATE).render(
        doc=document,
        chart_json=script_json(plain(chart)),
        plotly_js=Markup(plotly.offline.get_plotlyjs().replace("</script", "<\\/script")),
        version=__version__,
    )


def write_outputs(result: BacktestResult, out_dir: Path) -> list[Path]:
    """``backtest.html`` and ``backtest.json`` in ``out_dir``, each written atomically."""
    return [atomic_write_text(out_dir / "backtest.html", render_html(result)),
            atomic_write_text(out_dir / "backtest.json", to_json(result))]


def _pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{float(value) * 100:.{digits}f} %"
