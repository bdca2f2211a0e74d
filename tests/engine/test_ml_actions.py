"""The ML actions end to end on small hand-built fleets, with the money worked out by hand from catalog prices.

Prices used (bundled catalog, us-east-1): EC2 g4dn.xlarge 0.526, g4dn.12xlarge 3.912, g6.xlarge 0.8048,
p3.2xlarge spot savings 80 %; SageMaker ml.m5.xlarge 0.23, ml.m5.large 0.115, ml.c5.xlarge 0.2036,
ml.c5.2xlarge 0.4073, ml.t3.medium 0.0498, ml.inf1.xlarge 0.285, ml.eia2.medium 0.12, ml.p3.2xlarge 3.825;
EBS gp2 0.10/GiB, gp3 0.08/GiB + 0.005/IOPS over 3,000 + 0.04 per MiB/s over 125, io1 0.125/GiB + 0.065/IOPS.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fleet_builders import STEPS_PER_DAY, FleetBuilder, audit_fleet

from advisor.results import recommendations_frame
from advisor.settings import RulesConfig, Settings, SpotConfig

H = 730.0
# A job's money is a monthly rate: one run in the fleet's 14-day window (first to last 5-minute sample)
RUNS = H / (14 * 24 - 5 / 60)


def _run(fleet: FleetBuilder, catalog, settings: Settings | None = None):
    return audit_fleet(fleet, catalog, settings)


def _rec(result, resource_id: str, rule: str) -> pd.Series:
    rows = recommendations_frame(result.recommendations)
    rows = rows[(rows["resource_id"] == resource_id) & (rows["rule"] == rule)]
    assert len(rows) == 1, [(rec.resource_id, rec.rule) for rec in result.recommendations]
    return rows.iloc[0]


def _flat(fleet: FleetBuilder, value: float, spread: float = 0.5) -> np.ndarray:
    return fleet.noise(value - spread, value + spread)


def _endpoint(fleet: FleetBuilder, rid: str, instance_type: str, count: int, invocations: np.ndarray,
              cpu: float = 30.0, memory: float = 30.0, **fields) -> None:
    endpoint, _, variant = rid.partition("/")
    fleet.add(rid, "sagemaker_endpoint", instance_type=instance_type, count=count, endpoint=endpoint,
              variant=variant, autoscaling=False, min_count=count, max_count=count,
              metrics={"cpu": _flat(fleet, cpu), "memory": _flat(fleet, memory), "invocations": invocations},
              **fields)


# ---- accelerators -------------------------------------------------------------------------------------------


def test_under_used_gpu_host_moves_to_fewer_gpus_that_hold_compute_and_memory(catalog):
    fleet = FleetBuilder()
    # 4 x T4 at ~12 % busy (need 0.12 x 4 x 65 x 1.2 = 37 FP16 TFLOPS) and ~12 % of 64 GiB GPU memory
    fleet.ec2("i-g", "g4dn.12xlarge", cpu=_flat(fleet, 4), memory=_flat(fleet, 4), gpu=fleet.noise(11, 12),
              gpu_memory=fleet.noise(11, 12))
    rec = _rec(_run(fleet, catalog), "i-g", "ec2-gpu-underused")
    # a quarter L4 (g6f.2xlarge, 30 TFLOPS) is too small; one T4 (65) holds it and is the cheapest GPU that does
    assert (rec["action"], rec["target"]) == ("rightsize_accelerator", "g4dn.xlarge")
    assert rec["monthly_savings"] == pytest.approx((3.912 - 0.526) * H, abs=0.01)
    assert rec["evidence"]["demand"]["accel_memory"] <= 16
    labels = {o["label"] for o in rec["options"]}
    assert "Inferentia" in labels  # offered, but needs a Neuron build, so not the target


def test_idle_gpu_on_a_busy_host_gets_a_cpu_type(catalog):
    fleet = FleetBuilder()
    fleet.ec2("i-c", "g4dn.xlarge", cpu=fleet.noise(30, 40), memory=fleet.noise(15, 20),
              gpu=fleet.noise(0, 2), gpu_memory=fleet.noise(4, 5))
    rec = _rec(_run(fleet, catalog), "i-c", "ec2-gpu-underused")
    assert rec["options"][0]["label"] == "CPU only"
    spec = catalog.spec(rec["target"])
    assert spec["gpus"] == 0 and pd.isna(spec["accelerator"])
    need_vcpus, need_memory = 0.4 * 4 * 1.2, max(0.2 * 16 * 1.2, 0.2 * 16 + 1.0)  # 20 %, at least 1 GiB
    offered = catalog.offered("us-east-1")
    fits = offered[(offered["vcpus"] >= need_vcpus * 0.99) & (offered["memory_gib"] >= need_memory * 0.99)
                   & (offered["gpus"] == 0) & offered["accelerator"].isna() & (offered["arch"] == "x86_64")
                   & (offered["generation"] == "current") & ~offered["burstable"] & ~offered["bare_metal"]]
    assert catalog.hourly_price(rec["target"], "us-east-1") == pytest.approx(fits["ondemand_hourly"].min())
    assert rec["monthly_savings"] == pytest.approx((0.526 - fits["ondemand_hourly"].min()) * H, abs=0.01)


def test_gpu_models_are_compared_on_both_precisions(catalog):
    """An A10G at 80 %: an L4 has 121 FP16 TFLOPS but only 30.3 FP32 (< 0.8 x 35 x 1.2 = 33.6), so it does not
    hold the demand; at 70 % (29.4 FP32) it does and is cheaper."""
    def downsized(gpu: float) -> pd.DataFrame:
        fleet = FleetBuilder()
        fleet.ec2("i-a", "g5.xlarge", cpu=_flat(fleet, 5), memory=_flat(fleet, 20), gpu=_flat(fleet, gpu, 0.2),
                  gpu_memory=_flat(fleet, 30))
        recs = recommendations_frame(_run(fleet, catalog).recommendations)
        return recs[recs["rule"] == "ec2-overprovisioned"]
    assert downsized(79.7).empty
    at_70 = downsized(69.7).iloc[0]
    assert at_70["target"] == "g6.xlarge"
    assert at_70["monthly_savings"] == pytest.approx((1.006 - 0.8048) * H, abs=0.01)


def test_saturated_gpu_moves_to_a_gpu_that_holds_the_peak(catalog):
    fleet = FleetBuilder()
    hour = (fleet.t_days % 1) * 24
    # pinned at 100 % two hours a day (censored: the demand is at least the capacity)
    fleet.ec2("i-s", "g4dn.xlarge", cpu=_flat(fleet, 20), memory=_flat(fleet, 30),
              gpu=np.where((hour >= 10) & (hour < 12), 100.0, fleet.noise(60, 70)), gpu_memory=_flat(fleet, 50))
    rec = _rec(_run(fleet, catalog), "i-s", "ec2-gpu-saturated")
    # need 1.0 x 65 x 1.2 = 78 FP16 (A10G's 70 is short) and 9.7 FP32: one L4 (121 / 30.3) is the cheapest
    assert (rec["action"], rec["target"]) == ("upsize", "g6.xlarge")
    assert rec["monthly_savings"] == pytest.approx((0.526 - 0.8048) * H, abs=0.01)


def test_elastic_inference_endpoint_migrates_with_every_option_priced_and_the_notice(catalog):
    fleet = FleetBuilder()
    _endpoint(fleet, "ei/AllTraffic", "ml.m5.large", 2, _flat(fleet, 100), accelerator_type="ml.eia2.medium")
    rec = _rec(_run(fleet, catalog), "ei/AllTraffic", "sagemaker-elastic-inference")
    assert rec["monthly_cost_now"] == pytest.approx((0.115 + 0.12) * 2 * H, abs=0.01)  # 343.10
    # a small GPU runs the same framework code: the target; Inferentia needs a Neuron port, CPU only may be slow
    assert (rec["action"], rec["target"]) == ("migrate_accelerator", "ml.g4dn.xlarge")
    assert rec["monthly_cost_after"] == pytest.approx(0.736 * 2 * H, abs=0.01)
    options = {o["label"]: o for o in rec["options"]}
    assert list(options)[0] == "other GPU" and set(options) == {"other GPU", "Inferentia", "CPU only",
                                                                 "Serverless Inference"}
    assert all(o["monthly_cost"] is not None for o in options.values())
    assert options["Inferentia"]["instance_type"] == "ml.inf1.xlarge"
    assert options["Inferentia"]["monthly_cost"] == pytest.approx(0.285 * 2 * H, abs=0.01)
    assert "Neuron" in options["Inferentia"]["note"] and "latency" in options["CPU only"]["note"]
    # serverless: 30 % of 8 GiB = 2.4 GiB + 20 % -> 3 GB; 100 requests a minute x 0.1 s x 3 GB x $0.00002
    serverless = options["Serverless Inference"]
    assert serverless["instance_type"] == "serverless 3072 MB"
    assert serverless["monthly_cost"] == pytest.approx(100 * 60 * H * 0.1 * 3 * 0.00002, abs=0.01)
    assert any("ended in April 2024" in note for note in rec["evidence"]["notes"])
    assert rec["price_estimated"]


def test_an_ec2_elastic_inference_host_gets_no_serverless_option(catalog):
    fleet = FleetBuilder()
    fleet.ec2("i-ei", "m5.large", cpu=_flat(fleet, 20), memory=_flat(fleet, 30))
    fleet.inventory[-1]["accelerator_type"] = "eia2.medium"
    rec = _rec(_run(fleet, catalog), "i-ei", "ec2-elastic-inference")
    assert {o["label"] for o in rec["options"]} == {"other GPU", "Inferentia", "CPU only"}
    assert rec["target"] == next(o["instance_type"] for o in rec["options"] if o["label"] == "other GPU")


def test_inferentia_as_the_only_cheaper_accelerator_is_medium_and_never_alone(catalog):
    fleet = FleetBuilder()
    # ml.g4dn.xlarge is the cheapest GPU SageMaker hosts; its GPU memory holds a model (not empty): no CPU type
    fleet.add("gpu/AllTraffic", "sagemaker_endpoint", instance_type="ml.g4dn.xlarge", count=1, endpoint="gpu",
              variant="AllTraffic", metrics={"cpu": _flat(fleet, 10), "memory": _flat(fleet, 20),
                                             "gpu": _flat(fleet, 5), "gpu_memory": _flat(fleet, 10),
                                             "invocations": _flat(fleet, 50)})
    rec = _rec(_run(fleet, catalog), "gpu/AllTraffic", "sagemaker-endpoint-gpu-underused")
    assert rec["target"] == "ml.inf1.xlarge" and rec["confidence"] != "high"
    assert any("Neuron" in note and "at most medium confidence" in note for note in rec["evidence"]["notes"])
    keep = [o for o in rec["options"] if o["label"] == "keep (no port)"]
    assert len(keep) == 1 and keep[0]["instance_type"] == "ml.g4dn.xlarge" and keep[0]["monthly_savings"] == 0.0


def test_gpu_memory_is_judged_per_device_where_the_agent_reports_each_gpu(catalog):
    fleet = FleetBuilder()
    # 4 x A10G: 2 % of their memory on average, but it all sits on one GPU (8 %)
    common = {"cpu": _flat(fleet, 30), "memory": _flat(fleet, 20), "gpu": fleet.noise(0, 1),
              "gpu_memory": _flat(fleet, 2, 0.1)}
    fleet.ec2("i-mean", "g5.12xlarge", **common)
    fleet.ec2("i-device", "g5.12xlarge", gpu_memory_busiest=_flat(fleet, 8, 0.1), **common)
    result = _run(fleet, catalog)
    mean, device = _rec(result, "i-mean", "ec2-gpu-underused"), _rec(result, "i-device", "ec2-gpu-underused")
    assert mean["options"][0]["label"] == "CPU only"  # every GPU's memory empty on average: a CPU type may do
    # one GPU holds a model: a GPU stays, sized for that device's peak (8.1 % of its memory + 20 %), not the mean's
    assert all(o["label"] != "CPU only" for o in device["options"])
    per_device = catalog.spec("g5.12xlarge")["gpu_memory_gib"] / 4
    assert device["evidence"]["demand"]["device_memory"] == pytest.approx(0.081 * per_device * 1.2, rel=0.01)
    assert mean["evidence"]["demand"]["device_memory"] < device["evidence"]["demand"]["device_memory"] / 3


def test_under_used_gpu_endpoint_shows_an_elastic_inference_style_option_for_comparison(catalog):
    fleet = FleetBuilder()
    fleet.add("gpu/AllTraffic", "sagemaker_endpoint", instance_type="ml.g4dn.xlarge", count=1, endpoint="gpu",
              variant="AllTraffic", metrics={"cpu": _flat(fleet, 10), "memory": _flat(fleet, 20),
                                             "gpu": _flat(fleet, 5), "gpu_memory": _flat(fleet, 10),
                                             "invocations": _flat(fleet, 50)})
    rec = _rec(_run(fleet, catalog), "gpu/AllTraffic", "sagemaker-endpoint-gpu-underused")
    ei = [o for o in rec["options"] if o["label"].startswith("Elastic Inference-style")]
    assert len(ei) == 1 and ei[0]["available"] is False and "+ ml.eia2." in ei[0]["instance_type"]
    assert rec["target"] != ei[0]["instance_type"]
    assert any("ended in April 2024" in note for note in rec["evidence"]["notes"])


# ---- spot ---------------------------------------------------------------------------------------------------


def test_training_job_without_spot_saves_the_spot_advisor_discount(catalog):
    fleet = FleetBuilder()
    run = 10 * 12  # 10 hours of 5-minute samples
    fleet.add("job-1", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=2, managed_spot=False,
              checkpointing=True, training_seconds=36000, billable_seconds=36000,
              metrics={"cpu": _flat(fleet, 30)[-run:], "gpu": _flat(fleet, 90)[-run:]})
    rec = _rec(_run(fleet, catalog), "job-1", "sagemaker-training-managed-spot")
    assert rec["monthly_cost_now"] == pytest.approx(3.825 * 2 * 10 * RUNS, abs=0.01)  # 76.50 a run, 2.17 a month
    assert rec["monthly_savings"] == pytest.approx(76.5 * 0.80 * RUNS, abs=0.01)  # p3.2xlarge Spot: 80 % off
    basis = rec["evidence"]["run_rate"]
    assert basis == {"runs_in_window": 1, "window_days": 14.0, "runs_per_month": round(RUNS, 3),
                     "cost_per_run": 76.5, "savings_per_run": 61.2}
    assert any("monthly rate" in n and "14-day window" in n for n in rec["evidence"]["notes"])
    assert rec["evidence"]["spot"]["savings_pct"] == 80.0
    assert any("/opt/ml/checkpoints" in n and "MaxWaitTimeInSeconds" in n for n in rec["evidence"]["notes"])


def test_job_savings_join_the_monthly_headline_as_a_monthly_rate(catalog):
    """A run's saving is not a month's: the headline adds the job at its run rate, in the same unit as the rest."""
    from advisor.report.summary import summarize

    fleet = FleetBuilder()
    fleet.add("job-1", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=2, managed_spot=False,
              checkpointing=True, training_seconds=36000, billable_seconds=36000,
              metrics={"cpu": _flat(fleet, 30)[-120:], "gpu": _flat(fleet, 90)[-120:]})
    quiet = fleet.noise(5, 20)
    fleet.ec2("i-idle", "m5.xlarge", cpu=fleet.noise(0, 1), memory=fleet.noise(1, 2), network_in=quiet,
              network_out=quiet)
    result = _run(fleet, catalog)
    summary = summarize(result)
    job = _rec(result, "job-1", "sagemaker-training-managed-spot")
    idle = _rec(result, "i-idle", "ec2-idle")
    per_run = 3.825 * 2 * 10 * 0.80  # 61.20 saved on the one run seen
    assert job["monthly_savings"] == pytest.approx(per_run * RUNS, abs=0.01)
    assert job["evidence"]["run_rate"]["savings_per_run"] == pytest.approx(per_run, abs=0.01)
    assert summary.total_monthly_savings == pytest.approx(job["monthly_savings"] + idle["monthly_savings"], abs=0.01)
    assert summary.monthly_spend_covered == pytest.approx(job["monthly_cost_now"] + idle["monthly_cost_now"],
                                                          abs=0.01)


def test_on_demand_job_with_billable_seconds_only_still_gets_managed_spot(catalog):
    """An on-demand job's training time equals its billable time: a file source may give only billable_seconds."""
    fleet = FleetBuilder()
    fleet.add("job-b", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=1, managed_spot=False,
              checkpointing=True, billable_seconds=7200, metrics={"cpu": _flat(fleet, 30)[-24:]})
    rec = _rec(_run(fleet, catalog), "job-b", "sagemaker-training-managed-spot")
    assert rec["monthly_cost_now"] == pytest.approx(3.825 * 2 * RUNS, abs=0.01)  # the 2-hour run, monthly
    assert rec["monthly_savings"] == pytest.approx(3.825 * 2 * 0.80 * RUNS, abs=0.01)
    assert rec["rationale"].startswith("This 2.0-hour run on 1 x ml.p3.2xlarge used on-demand capacity")


def test_training_job_on_spot_reports_its_realised_saving(catalog):
    fleet = FleetBuilder()
    fleet.add("job-2", "sagemaker_training_job", instance_type="ml.p3.2xlarge", count=1, managed_spot=True,
              checkpointing=True, training_seconds=36000, billable_seconds=14400,
              metrics={"cpu": _flat(fleet, 30)[-120:]})
    rec = _rec(_run(fleet, catalog), "job-2", "sagemaker-training-spot-realised")
    assert (rec["action"], rec["monthly_savings"]) == ("info", 0.0)
    realised = rec["evidence"]["spot_realised"]
    assert realised["savings_pct"] == 60.0  # 1 - 14400 / 36000
    assert realised["saved"] == pytest.approx(3.825 * 6 * RUNS, abs=0.01)  # 6 of 10 hours not billed, a month


def test_lone_instance_never_gets_spot_but_a_tagged_one_does(catalog):
    fleet = FleetBuilder()
    for rid, tags in (("i-lone", "team=web"), ("i-batch", "workload=Batch"),
                      ("i-asg", "aws:autoscaling:groupName=web")):
        fleet.ec2(rid, "m5.2xlarge", cpu=_flat(fleet, 50), memory=_flat(fleet, 60))
        fleet.inventory[-1]["tags"] = tags
    recs = recommendations_frame(_run(fleet, catalog).recommendations)
    spot = recs[recs["rule"] == "ec2-spot-interruptible"]
    assert set(spot["resource_id"]) == {"i-batch", "i-asg"}
    stateless_only = Settings(spot=SpotConfig(interruptible_tags={"workload": ["stateless"]}))
    narrow = recommendations_frame(_run(fleet, catalog, stateless_only).recommendations)
    assert set(narrow.loc[narrow["rule"] == "ec2-spot-interruptible", "resource_id"]) == {"i-asg"}


# ---- storage ------------------------------------------------------------------------------------------------


def _volume(fleet: FleetBuilder, rid: str, volume_type: str, size: int, iops: float | None = None,
            throughput: float | None = None, attached: bool = True, **metrics: np.ndarray) -> None:
    fleet.add(rid, "ebs_volume", volume_type=volume_type, size_gib=size, iops=iops, throughput_mibps=throughput,
              attached_to="i-host" if attached else None, metrics=metrics)


def test_io1_far_below_its_iops_moves_to_gp3(catalog):
    fleet = FleetBuilder()
    mib = 2**20
    _volume(fleet, "vol-io", "io1", 500, 10_000, read_iops=np.full(fleet.n, 600.0),
            write_iops=np.full(fleet.n, 400.0), read_bytes=np.full(fleet.n, 30 * mib),
            write_bytes=np.full(fleet.n, 20 * mib))
    rec = _rec(_run(fleet, catalog), "vol-io", "ebs-io-overprovisioned")
    assert rec["monthly_cost_now"] == pytest.approx(500 * 0.125 + 10_000 * 0.065)  # 712.50
    # gp3: max(3,000, 1,000 x 1.2) IOPS and max(125, 50 x 1.2) MiB/s are included: 500 x 0.08 = 40
    assert (rec["target"], rec["monthly_cost_after"]) == ("gp3", 40.0)
    assert rec["monthly_savings"] == pytest.approx(672.5)
    lowered = [o for o in rec["options"] if o["volume_type"] == "io1"][0]
    assert lowered["iops"] == 1200 and lowered["monthly_cost"] == pytest.approx(62.5 + 1200 * 0.065)  # 140.50
    assert rec["options"][0]["iops"] == 3000 and rec["options"][0]["throughput_mibps"] == 125


def test_gp2_moves_to_gp3_without_getting_slower(catalog):
    fleet = FleetBuilder()
    mib = 2**20
    _volume(fleet, "vol-big", "gp2", 2000, 6000, read_iops=np.full(fleet.n, 500.0))  # no throughput data
    _volume(fleet, "vol-1t", "gp2", 1000, 3000, read_iops=np.full(fleet.n, 500.0),
            read_bytes=np.full(fleet.n, 100 * mib))
    result = _run(fleet, catalog)
    big = _rec(result, "vol-big", "ebs-gp2-to-gp3")
    # baseline 3 x 2000 = 6,000 IOPS kept; throughput at gp2's 250 MiB/s: 160 + 3,000 x 0.005 + 125 x 0.04 = 180
    assert (big["options"][0]["iops"], big["options"][0]["throughput_mibps"]) == (6000, 250)
    assert (big["monthly_cost_now"], big["monthly_cost_after"], big["monthly_savings"]) == (200.0, 180.0, 20.0)
    small = _rec(result, "vol-1t", "ebs-gp2-to-gp3")
    assert (small["options"][0]["iops"], small["options"][0]["throughput_mibps"]) == (3000, 125)
    assert small["monthly_savings"] == pytest.approx(100 - 80)


def test_draining_gp2_gets_gp3_iops_at_the_observed_need(catalog):
    fleet = FleetBuilder()
    mib = 2**20
    balance = np.linspace(100, 5, fleet.n)
    _volume(fleet, "vol-d", "gp2", 200, 600, read_iops=np.full(fleet.n, 2500.0),
            read_bytes=np.full(fleet.n, 150 * mib), burst_balance=balance)
    rec = _rec(_run(fleet, catalog), "vol-d", "ebs-gp2-burst-draining")
    # IOPS max(3,000, 2,500 x 1.2) = 3,000; 150 x 1.2 = 180 MiB/s: 200 x 0.08 + 55 x 0.04 = 18.20
    assert (rec["options"][0]["iops"], rec["options"][0]["throughput_mibps"]) == (3000, 180)
    assert rec["monthly_cost_after"] == pytest.approx(18.2) and rec["monthly_savings"] == pytest.approx(1.8)


def test_unattached_and_idle_volumes_are_deleted_for_their_full_cost(catalog):
    fleet = FleetBuilder()
    _volume(fleet, "vol-loose", "gp2", 100, attached=False)  # unattached volumes publish no metrics
    _volume(fleet, "vol-quiet", "gp3", 500, 3000, 125, read_iops=fleet.noise(0, 0.5))
    _volume(fleet, "vol-busy", "gp3", 500, 3000, 125, read_iops=fleet.noise(0, 1.5))
    result = _run(fleet, catalog)
    loose = _rec(result, "vol-loose", "ebs-unattached")
    assert (loose["action"], loose["target"], loose["monthly_savings"]) == ("delete", "delete", 10.0)
    assert _rec(result, "vol-quiet", "ebs-idle")["monthly_savings"] == 40.0
    assert "ebs-idle" not in {rec.rule for rec in result.recommendations if rec.resource_id == "vol-busy"}


# ---- SageMaker ----------------------------------------------------------------------------------------------


def test_single_instance_variant_costs_one_more_instance_never_a_saving(catalog):
    fleet = FleetBuilder()
    _endpoint(fleet, "one/AllTraffic", "ml.c5.xlarge", 1, _flat(fleet, 100))
    rec = _rec(_run(fleet, catalog), "one/AllTraffic", "sagemaker-endpoint-single-instance")
    assert (rec["action"], rec["target"]) == ("add_instance", "ml.c5.xlarge x2")
    assert rec["monthly_savings"] == pytest.approx(-0.2036 * H, abs=0.01)  # -148.63


def test_idle_endpoint_is_deleted_and_serverless_offered_when_the_model_fits(catalog):
    fleet = FleetBuilder()
    _endpoint(fleet, "idle/AllTraffic", "ml.m5.xlarge", 1, np.zeros(fleet.n), memory=30.0)
    rec = _rec(_run(fleet, catalog), "idle/AllTraffic", "sagemaker-endpoint-idle")
    assert (rec["action"], rec["target"], rec["monthly_savings"]) == ("delete", "delete", round(0.23 * H, 2))
    assert "serverless inference" in [o["instance_type"] for o in rec["options"]]  # 30 % of 16 GiB < 6 GB


def test_bursty_endpoint_pays_only_for_its_active_hours(catalog):
    fleet = FleetBuilder()
    hour = (np.arange(fleet.n) % STEPS_PER_DAY) // 12
    _endpoint(fleet, "burst/AllTraffic", "ml.c5.2xlarge", 2, np.where(hour == 2, 500.0, 0.0))
    rec = _rec(_run(fleet, catalog), "burst/AllTraffic", "sagemaker-endpoint-bursty")
    now = 0.4073 * 2 * H  # 594.66
    assert rec["monthly_cost_now"] == pytest.approx(now, abs=0.01)
    assert rec["monthly_cost_after"] == pytest.approx(now / 24, abs=0.01)  # one hour in 24
    assert rec["evidence"]["active_hour_share"] == pytest.approx(1 / 24, abs=1e-3)


def test_autoscaling_replays_the_daily_swing(catalog):
    fleet = FleetBuilder()
    hour = (np.arange(fleet.n) % STEPS_PER_DAY) // 12
    calls = np.where((hour >= 8) & (hour < 16), 400.0, 100.0)  # 8 busy hours a day
    _endpoint(fleet, "api/AllTraffic", "ml.c5.xlarge", 4, calls, cpu=50.0)
    rec = _rec(_run(fleet, catalog), "api/AllTraffic", "sagemaker-endpoint-autoscaling")
    scaling = rec["evidence"]["autoscaling"]
    # CPU 50 % < 70 %: target = today's per-instance peak 400 / 4 = 100; busy hours need 4, quiet ones 1 -> min 2
    assert (scaling["target_value"], scaling["min_capacity"], scaling["max_capacity"]) == (100.0, 2, 4)
    assert scaling["mean_instances"] == pytest.approx((8 * 4 + 16 * 2) / 24, abs=0.01)
    assert rec["monthly_savings"] == pytest.approx(0.2036 * H * (4 - 64 / 24), abs=0.01)  # 198.17


def test_ab_variant_is_sized_to_its_own_traffic_but_never_below_two_instances(catalog):
    fleet = FleetBuilder()
    _endpoint(fleet, "ab/main", "ml.m5.xlarge", 4, np.full(fleet.n, 400.0), weight=0.9)
    _endpoint(fleet, "ab/test", "ml.m5.xlarge", 4, np.full(fleet.n, 10.0), weight=0.1)
    _endpoint(fleet, "pair/main", "ml.m5.xlarge", 2, np.full(fleet.n, 200.0), weight=0.9)
    _endpoint(fleet, "pair/test", "ml.m5.xlarge", 2, np.full(fleet.n, 10.0), weight=0.1)
    result = _run(fleet, catalog)
    rec = _rec(result, "ab/test", "sagemaker-endpoint-ab-variant")
    # main carries 100 per instance; 10 x 1.2 would fit one instance, but a production variant keeps two (the
    # availability floor sagemaker-endpoint-single-instance asks for)
    assert (rec["target"], rec["monthly_savings"]) == ("ml.m5.xlarge x2", round(0.23 * H * 2, 2))
    assert rec["evidence"]["ab_test"]["variant_share"] == pytest.approx(10 / 410, abs=1e-3)
    # already at the floor: never cut to one instance
    assert not [r for r in result.recommendations if r.resource_id == "pair/test"]


def test_a_shadow_variant_is_neither_an_ab_variant_nor_asked_for_a_second_instance(catalog):
    fleet = FleetBuilder()
    _endpoint(fleet, "shadowed/main", "ml.m5.xlarge", 4, np.full(fleet.n, 400.0), weight=1.0,
              variant_role="production")
    _endpoint(fleet, "shadowed/copy", "ml.m5.xlarge", 4, np.full(fleet.n, 10.0), variant_role="shadow")
    _endpoint(fleet, "shadowed/probe", "ml.m5.xlarge", 1, np.full(fleet.n, 10.0), variant_role="shadow")
    result = _run(fleet, catalog)
    rules = {(r.resource_id, r.rule) for r in result.recommendations}
    assert ("shadowed/copy", "sagemaker-endpoint-ab-variant") not in rules
    assert ("shadowed/probe", "sagemaker-endpoint-single-instance") not in rules
    # the same variants as production ones would get both findings
    fleet = FleetBuilder()
    _endpoint(fleet, "plain/main", "ml.m5.xlarge", 4, np.full(fleet.n, 400.0), weight=1.0)
    _endpoint(fleet, "plain/copy", "ml.m5.xlarge", 4, np.full(fleet.n, 10.0))
    _endpoint(fleet, "plain/probe", "ml.m5.xlarge", 1, np.full(fleet.n, 10.0))
    rules = {(r.resource_id, r.rule) for r in _run(fleet, catalog).recommendations}
    assert {("plain/copy", "sagemaker-endpoint-ab-variant"), ("plain/probe", "sagemaker-endpoint-single-instance")} \
        <= rules


def test_suspended_or_pinned_scaling_is_not_auto_scaling_and_the_finding_says_why(catalog):
    fleet = FleetBuilder()
    hour = (np.arange(fleet.n) % STEPS_PER_DAY) // 12
    calls = np.where((hour >= 8) & (hour < 16), 400.0, 100.0)
    _endpoint(fleet, "paused/AllTraffic", "ml.c5.xlarge", 4, calls, cpu=50.0, scaling_suspended=True)
    _endpoint(fleet, "pinned/AllTraffic", "ml.c5.xlarge", 4, calls, cpu=50.0)  # min = max = 4
    result = _run(fleet, catalog)
    paused = _rec(result, "paused/AllTraffic", "sagemaker-endpoint-autoscaling")
    assert any("dynamic scaling is suspended" in n for n in paused["evidence"]["notes"])
    pinned = _rec(result, "pinned/AllTraffic", "sagemaker-endpoint-autoscaling")
    assert any("pins the count (min = max = 4)" in n for n in pinned["evidence"]["notes"])


def test_a_notebook_that_never_stops_itself_gets_auto_stop_priced_and_honest(catalog):
    fleet = FleetBuilder()
    end = fleet.timestamps[-1]
    for rid, config, auto_stop, started in (("nb-old", None, False, end - pd.Timedelta(days=20)),
                                            ("nb-new", "conda-setup", False, end - pd.Timedelta(days=2)),
                                            ("nb-stops", "auto-stop", True, end - pd.Timedelta(days=20)),
                                            ("nb-off", None, False, end - pd.Timedelta(days=20))):
        fleet.add(rid, "sagemaker_notebook", instance_type="ml.t3.medium", metrics={},
                  state="Stopped" if rid == "nb-off" else "InService", lifecycle_config=config,
                  auto_stop=auto_stop, last_modified=started.isoformat())
    fleet.ec2("i-1", "m5.large", cpu=fleet.noise(10, 20))  # the window comes from the data, not the clock
    result = _run(fleet, catalog)
    old = _rec(result, "nb-old", "sagemaker-notebook-no-auto-stop")
    assert (old["action"], old["target"]) == ("add_auto_stop", "auto-stop lifecycle configuration")
    # 50 of 168 hours used (an assumption, stated): 118 / 168 of the month saved
    assert old["monthly_cost_now"] == pytest.approx(0.0498 * H, abs=0.01)
    assert old["monthly_savings"] == pytest.approx(0.0498 * H * 118 / 168, abs=0.01)
    assert old["confidence"] == "medium" and old["evidence"]["notebook"]["days_without_stop"] == 20.0
    assert any("no utilization for notebook instances" in n and "an estimate" in n for n in old["evidence"]["notes"])
    assert any("auto-stop-idle" in n for n in old["evidence"]["notes"])
    new = _rec(result, "nb-new", "sagemaker-notebook-no-auto-stop")
    assert new["confidence"] == "low"  # running two days: it may well be stopped by hand
    assert any("conda-setup has no idle shutdown" in n for n in new["evidence"]["notes"])
    skipped = result.skipped.set_index("resource_id")["reason"]
    # stops itself: nothing to flag without a usage history, and that is said
    assert skipped["nb-stops"] == ("no metrics at all for this resource: SageMaker publishes no utilization for "
                                   "notebook instances")
    assert not [r for r in result.recommendations if r.resource_id in ("nb-stops", "nb-off")]


def test_idle_notebook_is_stopped_with_an_idle_shutdown_config(catalog):
    fleet = FleetBuilder()
    fleet.add("nb-1", "sagemaker_notebook", instance_type="ml.t3.medium",
              metrics={"cpu": fleet.noise(0, 1), "memory": _flat(fleet, 20)})
    rec = _rec(_run(fleet, catalog), "nb-1", "sagemaker-notebook-idle")
    assert (rec["target"], rec["monthly_savings"]) == ("stop", round(0.0498 * H, 2))
    assert "lifecycle_config" in rec["evidence"]


def test_tuning_job_without_early_stopping_shows_the_lagging_jobs_cost(catalog):
    fleet = FleetBuilder()
    fleet.add("hpo-1", "sagemaker_tuning_job", instance_type="ml.m5.xlarge", count=1, early_stopping="Off",
              training_jobs=20, billable_seconds=36000, training_seconds=36000, lagging_billable_seconds=14400,
              metrics={})
    rec = _rec(_run(fleet, catalog), "hpo-1", "sagemaker-tuning-early-stopping")
    assert rec["target"] == "TrainingJobEarlyStoppingType=Auto"
    assert rec["monthly_cost_now"] == pytest.approx(0.23 * 10 * RUNS, abs=0.01)  # 2.30 for the tuning job
    assert rec["evidence"]["tuning"]["lagging_jobs_cost"] == pytest.approx(0.23 * 4 * RUNS, abs=0.01)
    assert rec["monthly_savings"] == pytest.approx(0.23 * 4 * 0.5 * RUNS, abs=0.01)  # share_saved 0.5


def test_min_monthly_savings_drops_changes_that_do_not_pay(catalog, tmp_path):
    fleet = FleetBuilder()
    _volume(fleet, "vol-small", "gp2", 1000, 3000, read_iops=np.full(fleet.n, 500.0))
    pack = tmp_path / "strict.yaml"
    pack.write_text("rules:\n  - id: strict-gp3\n    title: t\n    kind: ebs_volume\n    action: modify_volume\n"
                    "    group: other\n    thresholds: {min_monthly_savings: 25}\n"
                    "    when: [volume_type, '==', gp2]\n    rationale: r\n")
    result = _run(fleet, catalog, Settings(rules=RulesConfig(dirs=[tmp_path], disabled=["ebs-gp2-to-gp3"])))
    # no throughput data: gp3 keeps gp2's 250 MiB/s, 1000 x 0.08 + 125 x 0.04 = 85, so it saves 15 < 25
    assert not result.recommendations
    reason = result.skipped.set_index("resource_id").at["vol-small", "reason"]
    assert reason == "strict-gp3: gp3 would save $15.00 a month, under the rule's minimum of $25.00"


def test_a_volume_without_type_or_size_is_skipped_with_a_reason(catalog):
    fleet = FleetBuilder()
    fleet.add("vol-x", "ebs_volume", volume_type="gp2", attached_to="i-1", metrics={"read_iops": _flat(fleet, 5)})
    result = _run(fleet, catalog)
    assert not result.recommendations
    assert result.skipped.set_index("resource_id").at["vol-x", "reason"].startswith("no volume type or size")
