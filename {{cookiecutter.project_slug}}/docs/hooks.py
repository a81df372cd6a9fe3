"""MkDocs hooks for `make docs`: the pages made from the project, fresh on every build.

The README becomes the home page, the last `make run`'s model card (with its figures) a page,
the data contract a table, and the service's OpenAPI schema the API reference. They exist in
the build only: nothing is written into docs/.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort
from mkdocs.structure.files import File, Files
from openapidocs.mk.v3 import OpenAPIV3DocumentationHandler

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import Column, load_contract
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.settings import load_settings

#: A Markdown link or image target: `](target)`.
LINK = re.compile(r"\]\(([^)\s]+)\)")


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated pages and the model card's figures to the site's files."""
    settings = load_settings()
    project = load_config(settings.config_file)
    reports = project.evaluate.reports_dir
    card = reports / "model_card.md"
    if not card.is_file():
        raise Abort(f"{card} not found: run `make run` first, then `make docs`")
    figures = sorted((reports / "figures").glob("*.png"))
    pages = {
        "index.md": readme(Path("README.md").read_text(encoding="utf-8"), config.repo_url),
        "model-card.md": model_card(card.read_text(encoding="utf-8"), figures),
        "contract.md": contract_page(project.data.contract, config.repo_url),
        "api.md": OpenAPIV3DocumentationHandler(
            create_app(settings).openapi(), style="MKDOCS"
        ).write(),
    }
    for name, content in pages.items():
        files.append(File.generated(config, name, content=content))
    for figure in figures:
        files.append(File.generated(config, f"figures/{figure.name}", abs_src_path=str(figure)))
    return files


def readme(text: str, repo_url: str | None) -> str:
    """The README with its links made to work on the site.

    A link into docs/ points at that page; a link to any other file of the repository points
    at the file on GitHub; anchors and web addresses stay as they are.
    """

    def target(match: re.Match[str]) -> str:
        link = match.group(1)
        if link.startswith(("#", "http://", "https://", "mailto:")):
            return match.group(0)
        if link.startswith("docs/"):
            return f"]({link.removeprefix('docs/')})"
        return f"]({repo_url}/blob/main/{link})"

    return LINK.sub(target, text)


def model_card(text: str, figures: list[Path]) -> str:
    """The model card, followed by the figures of the evaluation it does not show itself."""
    rest = [figure for figure in figures if f"figures/{figure.name}" not in text]
    if not rest:
        return text
    shown = "\n\n".join(f"![{f.stem.replace('_', ' ')}](figures/{f.name})" for f in rest)
    return f"{text.rstrip()}\n\n## Figures\n\n{shown}\n"


def contract_page(path: Path, repo_url: str | None) -> str:
    """The data contract as a table: one row for the target and each feature."""
    contract = load_contract(path)
    source = f"[`{path.as_posix()}`]({repo_url}/blob/main/{path.as_posix()})"
    identified = f" Rows are identified by `{contract.id_column}`." if contract.id_column else ""
    lines = [
        f"# Data contract: {contract.name}",
        "",
        f"What a valid row of `{contract.name}` is, as {source} says: validation, the features,"
        f" the API's request schema and the model card are all made from it.{identified}",
    ]
    rows = [
        "| column | role | type | description | allowed values | nullable | protected |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    columns = [("target", contract.target)] + [("feature", f) for f in contract.features]
    rows += [row(role, column) for role, column in columns]
    return "\n".join([*lines, "", *rows, ""])


def row(role: str, column: Column) -> str:
    """One table row for a column of the contract."""
    if column.categories is not None:
        allowed = ", ".join(f"`{value}`" for value in column.categories)
    elif column.min is not None or column.max is not None:
        allowed = " to ".join(
            "" if bound is None else f"{bound:g}" for bound in (column.min, column.max)
        )
    else:
        allowed = ""
    cells = [f"`{column.name}`", role, column.type, column.description.replace("|", "\\|"), allowed]
    cells += ["yes" if column.nullable else "no", "yes" if column.protected else "no"]
    return "| " + " | ".join(cells) + " |"
