"""The sample data shipped in the template is exactly what its documented generator makes."""

from __future__ import annotations

import subprocess
import sys

from conftest import TEMPLATE_DIR

GENERATOR = TEMPLATE_DIR / "scripts" / "generate_sample_data.py"


def test_shipped_sample_data_matches_the_generator() -> None:
    completed = subprocess.run(
        [sys.executable, str(GENERATOR), "--check"], capture_output=True, text=True, check=False
    )

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_generator_documents_its_data_generating_process() -> None:
    docstring = GENERATOR.read_text(encoding="utf-8").split('"""')[1]

    for column in ("churned", "price", "total_charges", "lot_area_sqm"):
        assert column in docstring
