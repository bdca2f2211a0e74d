"""docs/iam-policy.json allows exactly the AWS operations the collector and the catalog refresh call.

The code is scanned statically (AST): every attribute call and string literal that names an operation of a
service we use (``ec2.describe_regions(...)``, ``get_paginator("describe_instances")``, ``_pages(client,
"list_endpoints", ...)``) must be allowed by the policy, and the policy allows nothing the code does not call.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import botocore.session
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [*sorted((ROOT / "advisor" / "sources" / "aws").glob("*.py")), ROOT / "advisor" / "catalog" / "refresh.py"]
SERVICES = ("application-autoscaling", "batch", "cloudwatch", "ec2", "pricing", "sagemaker", "sts")


def _operations() -> dict[str, set[str]]:
    """snake_case method name -> IAM actions (service prefix : API name) among our services."""
    session = botocore.session.get_session()
    names: dict[str, set[str]] = {}
    for service in SERVICES:
        model = session.get_service_model(service)
        prefix = model.signing_name if service != "cloudwatch" else "cloudwatch"
        for operation in model.operation_names:
            names.setdefault(xform_name(operation), set()).add(f"{prefix}:{operation}")
    return names


def _called(path: Path, operations: dict[str, set[str]]) -> set[str]:
    actions: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        name = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            name = node.func.attr
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            name = node.value
        if name in operations:
            actions |= operations[name]
    return actions


def _policy() -> set[str]:
    policy = json.loads((ROOT / "docs" / "iam-policy.json").read_text(encoding="utf-8"))
    assert policy["Version"] == "2012-10-17"
    actions = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        assert not any(a.endswith("*") for a in statement["Action"]), "no wildcards: least privilege"
        actions |= set(statement["Action"])
    return actions


def test_every_operation_called_is_in_the_policy_and_nothing_else() -> None:
    operations = _operations()
    called = set().union(*(_called(path, operations) for path in SCANNED))
    assert {"cloudwatch:GetMetricData", "ec2:DescribeInstances", "pricing:GetProducts",
            "sagemaker:ListTrainingJobsForHyperParameterTuningJob", "sts:AssumeRole"} <= called  # the scan works
    allowed = _policy()
    assert called - allowed == set(), "called but not allowed"
    assert allowed - called == set(), "allowed but never called"


def test_policy_is_read_only() -> None:
    verbs = ("Describe", "List", "Get", "AssumeRole")
    assert all(action.split(":", 1)[1].startswith(verbs) for action in _policy())
