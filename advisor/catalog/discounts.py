"""Negotiated discounts, each applied only to what it covers (AWS's terms):

* **Compute Savings Plans** (``ec2_pct``) cover EC2 instance usage at on-demand rates in any family and region,
  including the instances AWS Batch launches; not EBS, not Spot Instances, not SageMaker.
* **SageMaker Savings Plans** (``sagemaker_pct``) cover SageMaker ML instance usage (hosting, training, notebooks);
  not Spot (managed Spot training).
* **Reserved Instances and EC2 Instance Savings Plans** (``families``) cover one EC2 family; a family's rate replaces
  ``ec2_pct`` for its types.

None covers EBS volumes or Spot prices (Savings Plans and reserved instances discount on-demand usage only), which
stay at their public prices. Sources: the Savings Plans User Guide
(https://docs.aws.amazon.com/savingsplans/latest/userguide/what-is-savings-plans.html) and SageMaker Savings Plans
(https://aws.amazon.com/savingsplans/ml-pricing/).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SAGEMAKER_PREFIX = "ml."


@dataclass(frozen=True)
class Discounts:
    """Percent off on-demand per scope; hashable, so priced tables can be cached per set of discounts."""

    ec2_pct: float = 0.0
    sagemaker_pct: float = 0.0
    families: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(cls, ec2_pct: float = 0.0, sagemaker_pct: float = 0.0,
           families: Mapping[str, float] | None = None) -> Discounts:
        return cls(float(ec2_pct), float(sagemaker_pct), tuple(sorted((families or {}).items())))

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Discounts:
        """From the settings' discount fields (a ``Settings.model_dump()``; missing fields are no discount)."""
        discounts = settings.get("discounts") or {}
        return cls.of(discounts.get("ec2_pct") or 0.0, discounts.get("sagemaker_pct") or 0.0,
                      discounts.get("families") or {})

    def __bool__(self) -> bool:
        return bool(self.ec2_pct or self.sagemaker_pct or any(pct for _, pct in self.families))

    def pct(self, instance_type: object, service: str | None = None) -> float:
        """Percent off the on-demand price of an instance type on a service (``ec2``, or SageMaker's ``hosting`` /
        ``training``; by default an ``ml.`` name is SageMaker's): SageMaker's rate, or an EC2 type's family rate
        else the EC2 rate. Anything else (a volume type, a list of types) gets none."""
        if not isinstance(instance_type, str) or "." not in instance_type:
            return 0.0
        if service is None:
            service = "hosting" if instance_type.startswith(SAGEMAKER_PREFIX) else "ec2"
        if service != "ec2":
            return self.sagemaker_pct
        return dict(self.families).get(instance_type.split(".")[0], self.ec2_pct)

    def factor(self, instance_type: object, service: str | None = None) -> float:
        """What is paid per on-demand dollar for the type (1.0 without a discount)."""
        return 1.0 - self.pct(instance_type, service) / 100.0

    def describe(self) -> list[str]:
        """One phrase per discount applied, for the report's header and summary."""
        parts = []
        if self.ec2_pct:
            parts.append(f"EC2 compute {self.ec2_pct:g} % (Compute Savings Plans)")
        if self.sagemaker_pct:
            parts.append(f"SageMaker {self.sagemaker_pct:g} % (SageMaker Savings Plans)")
        parts += [f"{family} family {pct:g} % (reserved instances)" for family, pct in self.families if pct]
        return parts


NO_DISCOUNTS = Discounts()
