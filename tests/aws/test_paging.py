"""GetMetricData NextToken paging and result statuses. moto never pages and always answers ``Complete``, so these
paths are covered with botocore's Stubber, replaying GetMetricData's real response shape (``MetricDataResults``
with ``StatusCode`` ``PartialData`` on pages followed by a ``NextToken``, ``InternalError`` and ``Forbidden`` with
their ``Messages``): every page is committed as it arrives, and a range is logged as fetched only with the last page
and only for queries whose final result is ``Complete``.
"""

import threading
from datetime import UTC, datetime

import boto3
import numpy as np
import pytest
from botocore.stub import ANY, Stubber

from advisor.sources.aws.cloudwatch import Call, Query, Series, fetch_call, series_keys, sources
from advisor.store.cache import Store

START = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())


def _result(query_id: str, offsets: list[int], values: list[float]) -> dict:
    return {"Id": query_id, "Label": "CPUUtilization", "StatusCode": "PartialData",
            "Timestamps": [datetime.fromtimestamp(START + o, UTC) for o in offsets], "Values": values}


def _client_and_queries() -> tuple:
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    series = Series("i-1", next(s for s in sources() if s.name == "CPUUtilization"), (("InstanceId", "i-1"),))
    return client, [Query(series, "Average"), Query(series, "Maximum")]


def test_fetch_follows_next_token_and_commits_each_page(tmp_path):
    client, queries = _client_and_queries()
    call = Call(START, START + 4 * 300, 300, (0, 1))
    stubber = Stubber(client)
    first = {"MetricDataResults": [_result("q0", [0, 300], [10.0, 20.0]), _result("q1", [0, 300], [15.0, 25.0])],
             "NextToken": "page-2", "Messages": []}
    second = {"MetricDataResults": [{**_result("q0", [600, 900], [30.0, 40.0]), "StatusCode": "Complete"},
                                    {**_result("q1", [600, 900], [35.0, 45.0]), "StatusCode": "Complete"}],
              "Messages": []}
    stubber.add_response("get_metric_data", first, {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY,
                                                    "ScanBy": "TimestampAscending"})
    stubber.add_response("get_metric_data", second, {"MetricDataQueries": ANY, "StartTime": ANY, "EndTime": ANY,
                                                     "ScanBy": "TimestampAscending", "NextToken": "page-2"})
    with Store(tmp_path / "cache.duckdb") as store, stubber:
        ids = store.series_ids(series_keys(queries, "123456789012", "us-east-1", 300))
        made = fetch_call(client, call, queries, ids, store, settled=call.end, stop=threading.Event())
        fetched = store.fetched(ids)
        parts = store.counts()["parts"]
        points = store.read_points(store.series_of([("123456789012", "us-east-1")], 300), call.start, call.end)
        points = points.sort_values(["series_id", "ts"])
    stubber.assert_no_pending_responses()
    assert parts == 2  # one Parquet part per page, each written before the next call
    assert (made.calls, made.incomplete) == (2, {})
    assert fetched == {int(ids[0]): [(call.start, call.end)], int(ids[1]): [(call.start, call.end)]}
    average = points["value"][points["series_id"] == ids[0]]
    assert np.array_equal(average, [10.0, 20.0, 30.0, 40.0])


@pytest.mark.parametrize(("status", "messages", "reported"), [
    ("InternalError", [{"Code": "InternalError", "Value": "An internal error occurred"}], "InternalError "
     "(InternalError)"),
    ("Forbidden", [{"Code": "Forbidden", "Value": "Access denied to the metric"}], "Forbidden (Forbidden)"),
    ("PartialData", [], "PartialData"),  # the last page (no NextToken) still partial: nothing to continue with
])
def test_results_that_are_not_data_are_not_logged_as_fetched(tmp_path, status, messages, reported):
    client, queries = _client_and_queries()
    call = Call(START, START + 4 * 300, 300, (0, 1))
    stubber = Stubber(client)
    stubber.add_response("get_metric_data", {"MetricDataResults": [
        {**_result("q0", [0, 300], [10.0, 20.0]), "StatusCode": "Complete"},
        {"Id": "q1", "Label": "CPUUtilization", "StatusCode": status, "Timestamps": [], "Values": [],
         "Messages": messages}], "Messages": []})
    with Store(tmp_path / "cache.duckdb") as store, stubber:
        ids = store.series_ids(series_keys(queries, "123456789012", "us-east-1", 300))
        made = fetch_call(client, call, queries, ids, store, settled=call.end, stop=threading.Event())
        fetched = store.fetched(ids)
    assert made.incomplete == {1: reported}
    assert fetched == {int(ids[0]): [(call.start, call.end)]}  # the failed query is asked for again next run
