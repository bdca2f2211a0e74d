"""Helpers for the moto-backed tests: seeding real resources and series, counting calls, injecting faults."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

REGION = "us-east-1"
SAGEMAKER_ROLE = "arn:aws:iam::123456789012:role/sagemaker"


def now_floor(minutes: int = 5) -> datetime:
    moment = datetime.now(UTC).replace(second=0, microsecond=0)
    return moment - timedelta(minutes=moment.minute % minutes)


@dataclass
class Seeder:
    """Creates real resources and CloudWatch series in moto through boto3."""

    session: boto3.Session = field(default_factory=boto3.Session)
    region: str = REGION

    def client(self, service: str, region: str | None = None) -> Any:
        # moto 5.2 cannot read botocore's gzip-compressed PutMetricData bodies
        return self.session.client(service, region_name=region or self.region,
                                   config=Config(disable_request_compression=True))

    def instance(self, instance_type: str = "m5.xlarge", name: str | None = None, spot: bool = False,
                 tags: dict[str, str] | None = None, region: str | None = None, root_volume: bool = True) -> str:
        """A running instance; ``root_volume=False`` detaches and deletes the root volume moto gives it (tests that
        count CloudWatch calls: an attached volume's I/O series are asked for by VolumeId, at their own period)."""
        ec2 = self.client("ec2", region)
        image = "ami-03cf127a"  # one of moto's bundled Amazon images (DescribeImages is slow on moto)
        all_tags = {**({"Name": name} if name else {}), **(tags or {})}
        arguments: dict[str, Any] = {"ImageId": image, "MinCount": 1, "MaxCount": 1, "InstanceType": instance_type}
        if all_tags:
            arguments["TagSpecifications"] = [{"ResourceType": "instance",
                                               "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()]}]
        if spot:
            arguments["InstanceMarketOptions"] = {"MarketType": "spot"}
        instance = ec2.run_instances(**arguments)["Instances"][0]
        if not root_volume:
            for mapping in instance.get("BlockDeviceMappings", []):
                volume = mapping["Ebs"]["VolumeId"]
                ec2.detach_volume(VolumeId=volume, InstanceId=instance["InstanceId"], Device=mapping["DeviceName"])
                ec2.delete_volume(VolumeId=volume)
        return str(instance["InstanceId"])

    def volume(self, volume_type: str = "gp3", size: int = 100, attach_to: str | None = None, **extra: Any) -> str:
        ec2 = self.client("ec2")
        volume = ec2.create_volume(AvailabilityZone=f"{self.region}a", Size=size, VolumeType=volume_type, **extra)
        if attach_to:
            ec2.attach_volume(VolumeId=volume["VolumeId"], InstanceId=attach_to, Device="/dev/sdf")
        return volume["VolumeId"]

    def endpoint(self, name: str, variants: list[dict[str, Any]]) -> None:
        sagemaker = self.client("sagemaker")
        sagemaker.create_model(ModelName=f"{name}-model", ExecutionRoleArn=SAGEMAKER_ROLE,
                               PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1"})
        sagemaker.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
            {"ModelName": f"{name}-model", **variant} for variant in variants])
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-config")

    def autoscale(self, endpoint: str, variant: str, low: int, high: int, policy: bool = True) -> None:
        scaling = self.client("application-autoscaling")
        resource = f"endpoint/{endpoint}/variant/{variant}"
        dimension = "sagemaker:variant:DesiredInstanceCount"
        scaling.register_scalable_target(ServiceNamespace="sagemaker", ResourceId=resource,
                                         ScalableDimension=dimension, MinCapacity=low, MaxCapacity=high)
        if policy:
            scaling.put_scaling_policy(
                PolicyName=f"{endpoint}-{variant}", ServiceNamespace="sagemaker", ResourceId=resource,
                ScalableDimension=dimension, PolicyType="TargetTrackingScaling",
                TargetTrackingScalingPolicyConfiguration={"TargetValue": 70.0, "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}})

    def training_job(self, name: str, instance_type: str = "ml.p3.2xlarge", count: int = 1, spot: bool = False,
                     checkpoints: bool = False) -> None:
        arguments: dict[str, Any] = {
            "TrainingJobName": name, "RoleArn": SAGEMAKER_ROLE,
            "AlgorithmSpecification": {"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1",
                                       "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
            "ResourceConfig": {"InstanceType": instance_type, "InstanceCount": count, "VolumeSizeInGB": 50},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600, **({"MaxWaitTimeInSeconds": 7200} if spot else {})},
            "EnableManagedSpotTraining": spot,
        }
        if checkpoints:
            arguments["CheckpointConfig"] = {"S3Uri": "s3://bucket/checkpoints"}
        self.client("sagemaker").create_training_job(**arguments)

    def notebook(self, name: str, instance_type: str = "ml.t3.medium") -> None:
        self.client("sagemaker").create_notebook_instance(NotebookInstanceName=name, InstanceType=instance_type,
                                                          RoleArn=SAGEMAKER_ROLE)

    def batch_environment(self, name: str, kind: str, instance_types: list[str]) -> None:
        iam, ec2 = self.client("iam"), self.client("ec2")
        role = iam.create_role(RoleName=f"{name}-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        profile = iam.create_instance_profile(InstanceProfileName=f"{name}-instance")["InstanceProfile"]["Arn"]
        subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
        group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
        self.client("batch").create_compute_environment(
            computeEnvironmentName=name, type="MANAGED", state="ENABLED", serviceRole=role, computeResources={
                "type": kind, "allocationStrategy": "SPOT_CAPACITY_OPTIMIZED" if kind == "SPOT" else
                "BEST_FIT_PROGRESSIVE", "minvCpus": 0, "maxvCpus": 256, "instanceTypes": instance_types,
                "subnets": [subnet], "securityGroupIds": [group], "instanceRole": profile})

    def series(self, namespace: str, name: str, dimensions: dict[str, str], values: list[float], end: datetime,
               step: timedelta = timedelta(minutes=5), region: str | None = None) -> None:
        """``values`` at ``step`` intervals, the last one at ``end - step``."""
        cloudwatch = self.client("cloudwatch", region)
        dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
        stamps = [end - step * (len(values) - i) for i in range(len(values))]
        data = [{"MetricName": name, "Dimensions": dims, "Timestamp": t, "Value": float(v)}
                for t, v in zip(stamps, values, strict=True)]
        for i in range(0, len(data), 500):
            cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[i:i + 500])


# ---------------------------------------------------------------------------------------------- call hooks


def error_response(request: Any, service: str, status: int, code: str, message: str) -> AWSResponse:
    """An AWS error response in the service's own protocol, as botocore will parse it."""
    content_type = request.headers.get("Content-Type", b"")
    content_type = content_type.decode() if isinstance(content_type, bytes) else content_type
    if "cbor" in content_type:  # smithy RPC v2 CBOR (CloudWatch, when botocore picks it)
        body = _cbor_map({"__type": code, "message": message})
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor"}
    elif service == "ec2":
        body = (f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                "<RequestID>test</RequestID></Response>").encode()
        headers = {"Content-Type": "text/xml"}
    elif service in ("sts", "iam"):
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
                "<RequestId>test</RequestId></ErrorResponse>").encode()
        headers = {"Content-Type": "text/xml"}
    else:  # JSON and REST-JSON services
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code}
    return AWSResponse(request.url, status, headers, _Raw(body))


def region_of(request: Any) -> str:
    """The region a request is signed for (the Credential scope of its SigV4 Authorization header)."""
    auth = request.headers.get("Authorization", b"")
    auth = auth.decode() if isinstance(auth, bytes) else auth
    return auth.split("Credential=", 1)[1].split("/")[2] if "Credential=" in auth else ""


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    head = bytes([0x60 + len(data)]) if len(data) < 24 else bytes([0x78, len(data)])
    return head + data


def _cbor_map(items: dict[str, str]) -> bytes:
    """A small CBOR map of text to text (enough for an error body; no CBOR library needed)."""
    return bytes([0xA0 + len(items)]) + b"".join(_cbor_text(k) + _cbor_text(v) for k, v in items.items())


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self) -> bytes:
        return self._body


Fault = Callable[[Any, str, str], AWSResponse | None]  # (request, service, operation) -> a response or None


@dataclass
class Calls:
    """Counts every attempt per operation (retries included) and lets faults answer instead of the server."""

    counts: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # GetMetricData parameters, in call order

    def configure(self, session: boto3.Session) -> None:
        session.events.register("before-send", self._before_send)
        session.events.register("before-parameter-build.cloudwatch.GetMetricData", self._before_call)

    def _before_call(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(dict(params))

    def _before_send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)
        self.counts[operation] += 1
        for fault in self.faults:
            response = fault(request, service, operation)
            if response is not None:
                return response
        return None
