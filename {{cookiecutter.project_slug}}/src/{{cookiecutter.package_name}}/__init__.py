"""The {{ cookiecutter.project_name }} package."""
{% if cookiecutter.include_spark %}
import warnings
{%- endif %}
from importlib.metadata import version

# The one place the version is written is pyproject.toml; the installed metadata carries it.
__version__ = version("{{ cookiecutter.project_slug }}")
{%- if cookiecutter.include_spark %}

# Importing pandera imports PySpark's pandas API when PySpark is installed, and PySpark 4 then
# warns that it does not fully support pandas 3. This project uses Spark's DataFrames, not that
# API: the warning would only be noise on every command.
warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
{%- endif %}
