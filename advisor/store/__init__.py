"""The local store: cached inventory snapshots and CloudWatch history (DuckDB), and where user files live."""

from advisor.store.paths import default_store_path, user_catalog_dir, user_data_dir

__all__ = ["default_store_path", "user_catalog_dir", "user_data_dir"]
