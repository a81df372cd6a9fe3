"""Remove what the chosen options did not select, then print the next commands to run.

Any error here is a template bug: it is raised, never swallowed, so cookiecutter stops and
removes the half-made project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

SLUG = "{{ cookiecutter.project_slug }}"
SAMPLE = "{{ cookiecutter.__sample }}"
SAMPLES = ("customers", "houses")

# Paths (relative to the baked project) that the answers did not select: the other task's
# sample data, and the sample data in the format the data source does not read.
UNSELECTED: list[str] = [
    f"data/raw/{name}.{kind}" for name in SAMPLES if name != SAMPLE for kind in ("csv", "db")
]
# {% if cookiecutter.data_source == "sql" %}
UNSELECTED += [f"data/raw/{SAMPLE}.csv"]
# {% else %}
UNSELECTED += [f"data/raw/{SAMPLE}.db"]
# {% endif %}
# {% if not cookiecutter.include_docker %}
UNSELECTED += ["Dockerfile", ".dockerignore", "docker-compose.yml", "deploy"]
# {% endif %}
# {% if not cookiecutter.include_ci %}
UNSELECTED += [".github"]
# {% elif not cookiecutter.include_docker %}
UNSELECTED += [".github/workflows/release.yml"]
# {% endif %}
# {% if not cookiecutter.include_monitoring %}
UNSELECTED += ["src/{{ cookiecutter.package_name }}/monitoring", "tests/monitoring"]
UNSELECTED += ["src/{{ cookiecutter.package_name }}/cli/monitoring.py"]
UNSELECTED += ["src/{{ cookiecutter.package_name }}/serving/rollout.py"]
UNSELECTED += ["tests/serving/test_prediction_logging.py", "tests/serving/test_rollout.py"]
UNSELECTED += ["docs/decisions/0004-drift-test.md"]
# {% if cookiecutter.include_ci %}
UNSELECTED += [".github/workflows/drift.yml"]
# {% endif %}
# {% endif %}
# {% if not cookiecutter.include_spark %}
UNSELECTED += ["src/{{ cookiecutter.package_name }}/spark", "tests/spark"]
# {% endif %}
# {% if cookiecutter.license == "none" %}
UNSELECTED += ["LICENSE"]
# {% endif %}


def remove(relative: str) -> None:
    """Delete one file or folder; a path that is not there means the template is out of step."""
    path = Path(relative)
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    else:
        raise FileNotFoundError(f"post_gen_project: {relative} should exist before removal")


def main() -> None:
    """Prune the baked project and say what to do next."""
    for relative in UNSELECTED:
        remove(relative)
    print(
        f"\nBaked {SLUG}. Next:\n"
        f"  cd {SLUG}\n"
        "  make install   # or: uv sync --all-extras --group docs (writes uv.lock: commit it)\n"
        "  make run       # the pipeline on the sample data: ingest, train, evaluate, promote\n"
        "  make check     # lint, format check and type check\n"
        "  make test      # the quick loop (make test-all: every test, with coverage)\n"
    )


if __name__ == "__main__":
    main()
