"""advisor: a rightsizing and cost advisor for machine-learning workloads on AWS."""

from advisor.version import __version__

__all__ = ["__version__"]
