"""GetMetricData NextToken paging. moto never pages, so this path is covered with botocore's Stubber, using the
real response shape: every page is committed as it arrives, and the range is logged as fetched only with the last.
"""

import threading
from datetime import UTC, datetime

import boto3
import numpy as np
from botocore.stub import ANY, Stubber

from advisor.sources.aws.cloudwatch import Call, Query, Series, fetch_call, series_keys, sources
from advisor.store.cache import Store

START = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp())


def _result(query_id: str, offsets: list[int], values: list[float]) -> dict:
    return {"Id": query_id, "Label": "CPUUtilization", "StatusCode": "PartialData",
            "Timestamps": [datetime.fromtimestamp(START + o, UTC) for o in offsets], "Values": values}


def test_fetch_follows_next_token_and_commits_each_page(tmp_path):
    client = boto3.client("cloudwatch", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    series = Series("i-1", next(s for s in sources() if s.name == "CPUUtilization"), (("InstanceId", "i-1"),))
    queries = [Query(series, "Average"), Query(series, "Maximum")]
    call = Call(START, START + 4 * 300, 300, (0, 1))
    stubber = Stubber(client)
    first = {"MetricDataResults": [_result("q0", [0, 300], [10.0, 20.0]), _result("q1", [0, 300], [15.0, 25.0])],
             "NextToken": "page-2", "Messages": []}
    second = {"MetricDataResults": [_result("q0", [600, 900], [30.0, 40.0]),
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
        points = store._con.execute("SELECT series_id, ts, value FROM points ORDER BY 1, 2").fetchnumpy()
    stubber.assert_no_pending_responses()
    assert made == 2
    assert fetched == {int(ids[0]): [(call.start, call.end)], int(ids[1]): [(call.start, call.end)]}
    average = points["value"][points["series_id"] == ids[0]]
    assert np.array_equal(average, [10.0, 20.0, 30.0, 40.0])
