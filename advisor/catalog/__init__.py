"""Instance specs and prices: the bundled, dated, offline catalog (see ``catalog.py``)."""

from advisor.catalog.catalog import (
    INTERRUPTION_BANDS,
    REFERENCE_REGION,
    REGION_BASKET,
    Catalog,
    load_catalog,
    sagemaker_price_class,
)
from advisor.catalog.discounts import NO_DISCOUNTS, Discounts

__all__ = [
    "INTERRUPTION_BANDS",
    "REFERENCE_REGION",
    "REGION_BASKET",
    "NO_DISCOUNTS",
    "Catalog",
    "Discounts",
    "load_catalog",
    "sagemaker_price_class",
]
