"""advisor: a rightsizing and cost advisor for machine-learning workloads on AWS."""

__version__ = "0.1.0"
