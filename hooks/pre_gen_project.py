"""Reject impossible answers before anything is written, with one line that says what to type.

Cookiecutter renders this file with Jinja before running it; every value arrives as a string.
"""

from __future__ import annotations

import keyword
import re
import sys

ANSWERS = {
    "project_name": {{cookiecutter.project_name | tojson}},
    "project_slug": {{cookiecutter.project_slug | tojson}},
    "package_name": {{cookiecutter.package_name | tojson}},
    "description": {{cookiecutter.description | tojson}},
    "author_name": {{cookiecutter.author_name | tojson}},
    "author_email": {{cookiecutter.author_email | tojson}},
    "github_username": {{cookiecutter.github_username | tojson}},
    "python_version": {{cookiecutter.python_version | tojson}},
    "task": {{cookiecutter.task | tojson}},
    "data_source": {{cookiecutter.data_source | tojson}},
    "license": {{cookiecutter.license | tojson}},
    "include_docker": "{{ cookiecutter.include_docker }}",
    "include_ci": "{{ cookiecutter.include_ci }}",
    "include_monitoring": "{{ cookiecutter.include_monitoring }}",
    "include_spark": "{{ cookiecutter.include_spark }}",
}

CHOICES = {
    "python_version": ("3.11", "3.12", "3.13"),
    "task": ("classification", "regression"),
    "data_source": ("csv", "sql"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "none"),
    "include_docker": ("True", "False"),
    "include_ci": ("True", "False"),
    "include_monitoring": ("True", "False"),
    "include_spark": ("True", "False"),
}

# Import names a baked project imports, or that tools treat specially: a package with one of
# these names would shadow it (``import mlflow`` would find the project instead).
TAKEN_NAMES = frozenset(
    {
        "app", "conftest", "evidently", "fastapi", "httpx", "joblib", "matplotlib", "mlflow",
        "numpy", "optuna", "pandas", "pandera", "prometheus_client", "psycopg", "pyarrow",
        "py4j", "pydantic", "pydantic_settings", "pyspark", "pytest", "rich", "scipy", "sklearn",
        "skops", "sqlalchemy", "src", "starlette", "test", "tests", "typer", "uvicorn", "yaml",
    }
)  # fmt: skip

# Longer names push generated lines past the formatter's line length.
MAX_NAME_LENGTH = 40
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
PACKAGE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
GITHUB_PATTERN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def suggest_slug(raw: str) -> str:
    """Turn any text into a slug that passes every check below."""
    slug = re.sub(r"[^a-z0-9]+", "-", raw.lower()).strip("-") or "ml-project"
    if not slug[0].isalpha():
        slug = f"project-{slug}"
    if is_taken(slug.replace("-", "_")):
        slug = f"{slug}-project"
    return slug


def is_taken(name: str) -> bool:
    """Whether a package of this name would be a keyword or shadow another import."""
    return (
        keyword.iskeyword(name)
        or keyword.issoftkeyword(name)
        or name in sys.stdlib_module_names
        or name in TAKEN_NAMES
    )


def problem(answers: dict[str, str]) -> str | None:
    """Return the first answer that cannot bake, as one line that says what to type instead."""
    for key, allowed in CHOICES.items():
        if answers[key] not in allowed:
            return f"{key}={answers[key]!r} is not offered: choose one of {', '.join(allowed)}."

    # Free text is written into TOML, Python and YAML strings as it is.
    for key in ("project_name", "description", "author_name"):
        if not answers[key].strip():
            return f"{key} is empty: type a few words."
        if any(char in answers[key] for char in '"\\\n'):
            return f"{key} must not contain double quotes, backslashes or line breaks: use '."

    slug, package = answers["project_slug"], answers["package_name"]
    fix = suggest_slug(slug or answers["project_name"])
    if len(slug) > MAX_NAME_LENGTH or len(package) > MAX_NAME_LENGTH:
        return (
            f"project_slug and package_name must be at most {MAX_NAME_LENGTH} characters: "
            f"type a shorter project_slug (project_name can stay as it is)."
        )
    if not SLUG_PATTERN.match(slug):
        return (
            f"project_slug {slug!r} must be lowercase letters, digits and single hyphens, "
            f"starting with a letter: try project_slug={fix!r}."
        )
    if not (package.isidentifier() and PACKAGE_PATTERN.match(package)):
        return (
            f"package_name {package!r} is not a valid lowercase Python identifier: "
            f"try package_name={fix.replace('-', '_')!r}."
        )
    for what, name in (("project_slug", slug.replace("-", "_")), ("package_name", package)):
        if is_taken(name):
            return (
                f"{what} {name!r} is a Python keyword or would shadow the module of the same "
                f"name: try project_slug={suggest_slug(name)!r}."
            )
    if not EMAIL_PATTERN.match(answers["author_email"]):
        return (
            f"author_email {answers['author_email']!r} is not an email address: "
            "type one like you@example.com."
        )
    if not GITHUB_PATTERN.match(answers["github_username"]):
        return (
            f"github_username {answers['github_username']!r} is not a GitHub name: use letters, "
            "digits and single hyphens (at most 39 characters)."
        )
    return None


def main() -> int:
    """Print the problem, if any, and tell cookiecutter to stop before writing anything."""
    message = problem(ANSWERS)
    if message is None:
        return 0
    print(f"ERROR: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
