"""Monitoring: the prediction log, drift checks, performance over time and retraining."""

from {{ cookiecutter.package_name }}.settings import Settings


def monitoring_experiment(settings: Settings) -> str:
    """The MLflow experiment that holds drift checks, performance records and retraining runs."""
    return f"{settings.model_name}-monitoring"
