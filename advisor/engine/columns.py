"""The names of the features frame's columns, as plain data that imports nothing.

The modules that compute the columns (``stats``, ``forecast``, ``samples``, ``features``) and the rule loader
(``advisor.engine.rules.known_columns``, which adds the inventory's columns) read them, so a rule pack is checked
without loading pandas or numpy.
"""

# Per-series statistics (advisor.engine.stats), each a column {metric}_{stat}
STAT_NAMES = ("mean", "min", "p50", "p90", "p95", "p99", "max", "above_90", "above_98", "nonzero", "samples", "hours",
              "days")
# Series summed per timestamp before their statistics: p99 of (read + write) is not p99(read) + p99(write).
DERIVED_METRICS = {"total_iops": ("read_iops", "write_iops"), "total_bytes": ("read_bytes", "write_bytes")}
# The metrics whose daily peaks are forecast (advisor.engine.forecast), each a column {metric}_{forecast column}
FORECAST_METRICS = ("cpu", "memory", "gpu", "gpu_memory")
FORECAST_COLUMNS = ("trend_per_day", "trend_significant", "trend_used", "forecast", "upper", "fit_days", "weekly_peak")
SPEC_COLUMNS = ("family", "generation", "vcpus", "memory_gib", "gpus", "gpu_share", "gpu_model", "gpu_manufacturer",
                "gpu_memory_gib", "accelerator", "accelerator_count", "accelerator_memory_gib", "arch", "burstable",
                "network_gbps")
EVIDENCE_COLUMNS = ("network_daily_max_mb", "cpu_censored", "memory_censored", "gpu_censored", "gpu_memory_censored",
                    "memory_step")
DERIVED_COLUMNS = (
    "hourly_price", "ondemand_hourly", "discount_pct", "monthly_cost", "price_estimated", "hours_billed", "running",
    "paid_capacity", "unpriced_reason",
    "has_memory_data", "attached",
    "network_demand", "iops_p99", "iops_used_pct", "hours_observed", "days_observed", "coverage", "datapoints",
    "in_auto_scaling_group", "interruptible", "spot_savings_pct", "interruption_band", "spot_hourly",
    "has_elastic_inference", "ei_hourly", "spot_realised_pct", "training_hours", "invocations_idle_days",
    "invocations_peak_to_median", "variants", "variant_share", "endpoint_max_count", "runs_per_month", "run_hours",
    *EVIDENCE_COLUMNS,
)

