"""Allow `python -m {{ cookiecutter.package_name }}`: it runs the same CLI as `{{ cookiecutter.project_slug }}`."""

from {{ cookiecutter.package_name }}.cli import app

app(prog_name="{{ cookiecutter.project_slug }}")
