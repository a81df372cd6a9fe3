"""The {{ cookiecutter.project_name }} package: its version lives here, read by the build."""

__version__ = "0.1.0"
