"""Accelerator capacity in comparable units, from the throughput table in ``advisor/data/accelerators/``.

Every instance type (or features row) gets an accelerator *class* and its capacity:

* ``accel_class``: ``cpu``, ``gpu``, ``inferentia``, ``trainium``, ``elastic_inference`` (a CPU host with an EI
  accelerator attached) or ``other`` (FPGAs, Gaudi, video transcoders: never moved to another model);
* ``units``: devices (a GPU's ``gpu_share``, so a g6f.large counts 1/8 of an L4; Neuron chips);
* ``fp16``/``fp32``: TFLOPS of all devices (NaN when the model is not in the table);
* ``accel_memory``/``device_memory``: GiB over all devices and per device;
* ``accel_vendor``: the GPU manufacturer (a CUDA model does not run on an AMD GPU), ``AWS`` for Neuron and EI.

A target must hold the demand on both precisions: the workload's precision is unknown, so the weaker of the two
ratios counts (a V100 -> T4 move is judged on FP32, where the T4 is weaker, as much as on FP16).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from advisor.resources import data_path

NEURON_CLASSES = ("inferentia", "trainium")


@lru_cache(maxsize=1)
def throughput_table() -> pd.DataFrame:
    """The per-device table, index ``model``."""
    table = pd.read_csv(data_path("accelerators", "throughput.csv"), keep_default_na=False,
                        na_values={"fp16_tflops": [""], "fp32_tflops": [""], "memory_gib": [""]})
    return table.set_index("model")


def elastic_inference_notice() -> str:
    """The service status of Elastic Inference, stated once per finding that involves it."""
    status = throughput_table().loc[throughput_table()["kind"] == "elastic_inference", "status"]
    return str(status.iloc[0])


def is_elastic_inference(accelerator_type: pd.Series) -> np.ndarray:
    """True where an inventory ``accelerator_type`` names an Elastic Inference accelerator (ml.eia2.*, eia1.*)."""
    text = accelerator_type.astype(object).where(accelerator_type.notna(), "").astype(str)
    return text.str.removeprefix("ml.").str.startswith("eia").to_numpy()


def capacity(specs: pd.DataFrame) -> pd.DataFrame:
    """Accelerator class and capacity of each row of a frame with the catalog's spec columns.

    ``specs`` needs ``gpus, gpu_share, gpu_model, gpu_memory_gib, accelerator, accelerator_count,
    accelerator_memory_gib``; with an ``accelerator_type`` column, Elastic Inference attachments count too.
    """
    table = throughput_table()
    gpus = _num(specs, "gpus")
    share = _num(specs, "gpu_share")
    share = np.where(share > 0, share, gpus)
    accel_count = _num(specs, "accelerator_count")
    gpu_model = _text(specs, "gpu_model")
    accel_model = _text(specs, "accelerator")
    kind = table["kind"]
    neuron_kind = accel_model.map(kind).where(accel_model.map(kind).isin(NEURON_CLASSES))
    is_gpu = gpus > 0
    is_neuron = ~is_gpu & (accel_count > 0) & neuron_kind.notna().to_numpy()
    is_other = ~is_gpu & ~is_neuron & (accel_count > 0)
    model = pd.Series(np.where(is_gpu, gpu_model, np.where(is_neuron | is_other, accel_model, "")),
                      index=specs.index)
    units = np.where(is_gpu, share, np.where(is_neuron | is_other, accel_count, 0.0))
    per_fp16 = model.map(table["fp16_tflops"]).to_numpy(float)
    per_fp32 = model.map(table["fp32_tflops"]).to_numpy(float)
    memory = np.where(is_gpu, _num(specs, "gpu_memory_gib"),
                      np.where(is_neuron | is_other, _num(specs, "accelerator_memory_gib"), 0.0))
    devices = np.where(is_gpu, gpus, units)
    accel_class = np.select([is_gpu, is_neuron, is_other], ["gpu", neuron_kind.fillna("").to_numpy(), "other"],
                            "cpu").astype(object)
    vendor = np.where(is_gpu, _text(specs, "gpu_manufacturer").to_numpy(object), np.where(is_neuron, "AWS", ""))
    out = pd.DataFrame({
        "accel_class": accel_class,
        "accel_model": model.to_numpy(),
        "accel_vendor": vendor,
        "units": units,
        "fp16": np.where(units > 0, units * per_fp16, 0.0),
        "fp32": np.where(units > 0, units * per_fp32, 0.0),
        "accel_memory": memory,
        "device_memory": np.divide(memory, devices, out=np.zeros(len(specs)), where=devices > 0),
    }, index=specs.index)
    if "accelerator_type" in specs:
        out = _with_elastic_inference(out, specs["accelerator_type"], table)
    return out


def fullest_device_share(features: pd.DataFrame, gpu_row: np.ndarray) -> np.ndarray:
    """The fullest GPU's memory peak (0-1) per row, NaN where not measured (``gpu_memory_busiest``: the CloudWatch
    agent reports each GPU; ``gpu_memory`` is their mean, which hides one full device among idle ones)."""
    if "gpu_memory_busiest_max" not in features:
        return np.full(len(features), np.nan)
    return np.where(gpu_row, features["gpu_memory_busiest_max"].to_numpy(float) / 100, np.nan)


def _with_elastic_inference(out: pd.DataFrame, accelerator_type: pd.Series, table: pd.DataFrame) -> pd.DataFrame:
    """CPU hosts with an EI attachment: the accelerator's capacity is the EI's."""
    ei = is_elastic_inference(accelerator_type) & (out["accel_class"] == "cpu").to_numpy()
    if not ei.any():
        return out
    name = "ml." + accelerator_type[ei].astype(str).str.removeprefix("ml.")
    known = name.map(table["fp16_tflops"]).notna()
    out = out.copy()
    rows = out.index[ei]
    out.loc[rows, "accel_class"] = "elastic_inference"
    out.loc[rows, "accel_model"] = name.to_numpy()
    out.loc[rows, "accel_vendor"] = "AWS"
    out.loc[rows, "units"] = 1.0
    out.loc[rows, "fp16"] = name.map(table["fp16_tflops"]).to_numpy(float)
    out.loc[rows, "fp32"] = name.map(table["fp32_tflops"]).to_numpy(float)
    out.loc[rows, "accel_memory"] = name.map(table["memory_gib"]).to_numpy(float)
    out.loc[rows, "device_memory"] = out.loc[rows, "accel_memory"]
    unknown = rows[~known.to_numpy()]
    out.loc[unknown, ["fp16", "fp32"]] = np.nan
    return out


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.zeros(len(frame))
    return pd.to_numeric(frame[column], errors="coerce").fillna(0).to_numpy(float)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index)
    values = frame[column].astype(object)
    return values.where(values.notna(), "").astype(str)
