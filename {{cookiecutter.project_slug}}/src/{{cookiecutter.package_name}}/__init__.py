"""The {{ cookiecutter.project_name }} package."""

from importlib.metadata import version

# The one place the version is written is pyproject.toml; the installed metadata carries it.
__version__ = version("{{ cookiecutter.project_slug }}")
