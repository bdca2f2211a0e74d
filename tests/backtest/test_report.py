"""The JSON document and the self-contained HTML page, including hostile names."""

import json

import numpy as np
import pytest
from fleet_builders import FleetBuilder

from advisor.backtest.registry import get_strategy
from advisor.backtest.replay import run_backtest
from advisor.backtest.report import render_html, to_document, write_outputs
from advisor.backtest.split import plan_split
from advisor.catalog import load_catalog

HOSTILE_ID = 'i-"><img src=x onerror=alert(1)>'
HOSTILE_NAME = "</script><script>alert('name')</script>"


@pytest.fixture(scope="module")
def result():
    fleet = FleetBuilder(days=4)
    quiet = fleet.noise(5, 20)  # bytes/s: idle needs network evidence
    fleet.ec2(HOSTILE_ID, "m5.xlarge", cpu=fleet.noise(0.1, 1.0), memory=fleet.noise(5, 6), network_in=quiet,
              network_out=quiet)
    fleet.ec2("i-big", "m5.4xlarge", cpu=fleet.noise(5, 15), memory=fleet.noise(10, 20))
    fleet.inventory[0]["name"] = HOSTILE_NAME
    inventory, metrics = fleet.frames()
    strategies = [get_strategy("ours"), get_strategy("naive-average")]
    return run_backtest(inventory, metrics, load_catalog(), plan_split(metrics), strategies, "files:<b>dir</b>")


def test_the_json_document_is_machine_readable(result):
    document = json.loads(json.dumps(to_document(result)))
    assert document["split"]["train_days"] == 2 and document["source"] == "files:<b>dir</b>"
    assert [s["name"] for s in document["strategies"]] == ["ours", "naive-average"]
    ours = document["strategies"][0]
    assert {"savings_kept", "savings_failed", "hurt", "hurt_share", "oracle_savings", "oracle_share",
            "savings_per_hurt_resource", "statuses", "net_savings", "net_oracle_share"} <= set(ours["summary"])
    row = next(r for r in ours["resources"] if r["resource_id"] == HOSTILE_ID)
    assert (row["action"], row["status"], row["oracle_target"]) == ("stop", "held", "stop")
    for field in ("current", "target", "failed_dimensions", "cpu_over_share", "worst_overshoot_pct",
                  "peak_utilization", "monthly_savings", "oracle_savings", "name", "region", "kind"):
        assert field in row
    assert "at most 1% of later samples" in document["definitions"]["cpu"]


def test_the_chart_sets_ec2_savings_against_the_ec2_oracle(result):
    html = render_html(result)
    chart = json.loads(html.split('<script type="application/json" id="chart-data">', 1)[1].split("</script>", 1)[0])
    summaries = [o.summary for o in result.outcomes]
    assert chart["kept"] == [s["savings_kept_on_oracle"] for s in summaries]
    assert chart["failed"] == [s["savings_failed_on_oracle"] for s in summaries]
    assert chart["oracle"] == summaries[0]["oracle_savings"]
    assert "Kept on other kinds / mo" in html and "Kept on EC2 / mo" in html


def test_the_html_page_escapes_every_user_string_and_fetches_nothing(result):
    page = render_html(result)
    assert "<img src=x" not in page and "<script>alert" not in page and "<b>dir</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&lt;b&gt;dir&lt;/b&gt;" in page
    assert "&lt;/script&gt;&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt;" in page
    assert "<script src" not in page and "<link" not in page and 'src="http' not in page
    assert page.count("Plotly.newPlot(") == 1 and len(page) > 1_000_000  # plotly.js inlined once
    chart = page.split('id="chart-data">')[1].split("</script>")[0]
    assert json.loads(chart)["strategies"] == ["ours", "naive-average"]


def test_outputs_are_written_to_the_out_directory(result, tmp_path):
    paths = write_outputs(result, tmp_path / "out")
    assert [p.name for p in paths] == ["backtest.html", "backtest.json"]
    assert json.loads(paths[1].read_text())["strategies"][0]["name"] == "ours"
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")]
    assert np.isfinite(json.loads(paths[1].read_text())["strategies"][0]["summary"]["savings_kept"])
