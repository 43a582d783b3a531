"""Operators' view of a running bot: Prometheus metrics, readiness probes, structured logs."""
