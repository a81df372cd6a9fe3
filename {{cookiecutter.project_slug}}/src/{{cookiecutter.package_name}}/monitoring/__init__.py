"""Monitoring: the prediction log, drift checks, performance over time and retraining."""
