"""SHAP explanations of a fitted pipeline, one value per contract column.

The estimator is explained on the features it sees (after preprocessing), by the SHAP explainer
that fits it: a tree explainer for tree ensembles, a linear one for linear models, and a
model-agnostic permutation explainer on a bounded sample for anything else. SHAP values add up,
so the one-hot columns of a category, or the parts of a date, are summed back into the column
they came from: the explanation speaks the contract's language, not the encoder's.
"""

import importlib.util
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.features import DATE_PARTS
from {{ cookiecutter.package_name }}.errors import ConfigError

if TYPE_CHECKING:  # Matplotlib draws the evaluation's figure only: the API explains without it
    from matplotlib.figure import Figure

# Explained: at most this many rows (a sample of them), against at most this many background rows.
MAX_ROWS = 500
MAX_BACKGROUND = 1_000
# The permutation explainer scores (2 x features + 1) x background rows for each row it
# explains: it explains at most this many rows, against this many background rows.
FALLBACK_ROWS = 100
FALLBACK_BACKGROUND = 50
#: Why a record cannot be explained here: what `explainer` raises, for the API and `predict`.
NO_SHAP = "explanations need SHAP: install the explain extra (uv sync --extra explain)"
NO_BACKGROUND = (
    "the model was logged without training rows to explain against: train it again with `train`"
)


@dataclass(frozen=True)
class Explanation:
    """SHAP values of some rows: each input column's contribution to each of the model's outputs.

    Attributes:
        values: rows x columns x outputs; a row's values plus its base value is the model's output.
        base: rows x outputs: what the model outputs before it sees the row (its average).
        columns: the contract's feature columns (and custom features), in the pipeline's order.
        outputs: what each output is about: the positive class, each class, or the target.
        space: the unit of the values: "log-odds", "probability" or (of a number) "units".
        data: rows x columns: each row's value of each column, as the model read it (numbers).
    """

    values: np.ndarray[Any, np.dtype[np.float64]]
    base: np.ndarray[Any, np.dtype[np.float64]]
    columns: list[str]
    outputs: list[str]
    space: str
    data: pd.DataFrame

    def contributions(self, row: int, output: int = 0, top: int | None = None) -> dict[str, float]:
        """One row's contribution of each column to one output, the largest (either way) first."""
        values = dict(zip(self.columns, self.values[row, :, output].tolist(), strict=True))
        return dict(sorted(values.items(), key=lambda item: -abs(item[1]))[:top])

    def importance(self) -> pd.DataFrame:
        """column, mean_abs_shap: the average size of each column's contribution, largest first."""
        mean_abs = np.abs(self.values).mean(axis=(0, 2))
        table = pd.DataFrame({"column": self.columns, "mean_abs_shap": mean_abs})
        return table.sort_values("mean_abs_shap", ascending=False, ignore_index=True)


@dataclass(frozen=True)
class Explainer:
    """A fitted pipeline's SHAP explainer, built once: call it with rows to explain them in order.

    Attributes:
        model: the fitted pipeline.
        contract: the data contract it reads.
        shap_explainer: SHAP's explainer of the pipeline's estimator, on its prepared features.
        space: the unit of the values (see Explanation).
        max_rows: how many rows to explain at a time at most: the permutation explainer's
            cost grows with each row (FALLBACK_ROWS), the others' hardly (MAX_ROWS).
        options: what SHAP's explainer is called with besides the rows.
    """

    model: Pipeline
    contract: DataContract
    shap_explainer: Any
    space: str
    max_rows: int
    options: dict[str, Any]

    def __call__(self, rows: pd.DataFrame) -> Explanation:
        """The SHAP values of `rows` (raw, as the contract describes them), in their order."""
        prepare, contract = self.model[:-1], self.contract
        typed = prepare[0].transform(rows)  # the input step: raw values as the contract types them
        features = prepare[1:].transform(typed)
        explained = self.shap_explainer(features, **self.options)
        classes = [str(c) for c in getattr(self.model[-1], "classes_", [])]
        values, base = _by_output(explained.values, explained.base_values, classes, contract)
        sources = source_columns(prepare, contract)
        names = list(dict.fromkeys(sources))
        folded = np.stack([values[:, [s == n for s in sources], :].sum(axis=1) for n in names], 1)
        data = pd.DataFrame(
            {name: _as_number(typed.get(name)) for name in names}, index=typed.index
        )
        one = contract.positive_class if classes else contract.target.name
        outputs = classes if len(classes) > 2 else [str(one)]
        return Explanation(folded, base, names, outputs, self.space, data)


def explainer(
    model: Pipeline, background: pd.DataFrame | None, contract: DataContract, *, seed: int = 42
) -> Explainer:
    """The SHAP explainer that fits `model`'s estimator, built once to explain many rows.

    `background` (rows of the training data; at most MAX_BACKGROUND of them are used) is what
    the model's output is compared with. A two-class model is explained for its positive
    class; more classes, for each class.

    Raises:
        ConfigError: SHAP is not installed (NO_SHAP), or there are no rows to compare with, as
            for a model logged without them (NO_BACKGROUND).
    """
    if importlib.util.find_spec("shap") is None:
        raise ConfigError(NO_SHAP)
    if background is None:
        raise ConfigError(NO_BACKGROUND)
    with warnings.catch_warnings():  # shap's import warns about matplotlib's future, not ours
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap  # seconds to import: only when explaining

    prepare, estimator = model[:-1], model[-1]
    classified = hasattr(estimator, "classes_")
    max_rows, options = MAX_ROWS, dict[str, Any]()
    try:
        found = shap.TreeExplainer(estimator)
        space = "log-odds" if hasattr(estimator, "decision_function") else "probability"
    except ValueError:  # shap's InvalidModelError: not a tree model it knows
        sample = background.sample(n=min(len(background), MAX_BACKGROUND), random_state=seed)
        reference = prepare.transform(sample)
        if hasattr(estimator, "coef_"):
            found, space = shap.LinearExplainer(estimator, reference), "log-odds"
        else:
            predict = estimator.predict_proba if classified else estimator.predict
            sample = shap.utils.sample(reference, FALLBACK_BACKGROUND, random_state=seed)
            found = shap.PermutationExplainer(predict, shap.maskers.Independent(sample))
            space, max_rows = "probability", FALLBACK_ROWS
            # Each feature moved once each way (and the row itself): the least SHAP accepts.
            options = {"max_evals": 2 * reference.shape[1] + 1, "silent": True}
    space = space if classified else "units"
    return Explainer(model, contract, found, space, max_rows, options)


def explain(
    model: Pipeline,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    contract: DataContract,
    *,
    seed: int = 42,
) -> Explanation:
    """Explain a fitted pipeline on a sample of `rows`, as many as its explainer takes at once.

    `background` is what the outputs are compared with (see `explainer`).
    """
    explaining = explainer(model, background, contract, seed=seed)
    return explaining(rows.sample(n=min(len(rows), explaining.max_rows), random_state=seed))


def _by_output(
    values: Any, base: Any, classes: list[str], contract: DataContract
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """SHAP's values as rows x features x outputs, a two-class model's for its positive class."""
    values, base = np.asarray(values, dtype="float64"), np.asarray(base, dtype="float64")
    base = base.reshape(len(values), -1)
    if values.ndim == 2:
        values = values[:, :, np.newaxis]
    if len(classes) == 2:
        positive = classes.index(str(contract.positive_class))
        if values.shape[2] == 2:  # one output per class: keep the positive class's
            values, base = values[:, :, [positive]], base[:, [positive]]
        elif positive == 0:  # one output, about the last class: the other class is its negative
            values, base = -values, -base
    return values, base


def source_columns(prepare: Pipeline, contract: DataContract) -> list[str]:
    """For each column the estimator sees, the contract column (or custom feature) it comes from.

    One-hot columns come from their category's column, date parts from their date.
    """
    dates = {
        f"{name}_{part}": name
        for name in contract.features_of_type("datetime")
        for part in DATE_PARTS
    }
    preprocess = prepare[-1]
    sources: list[str] = []
    for kind, step, columns in preprocess.transformers_:
        if kind == "remainder":
            continue
        if kind != "categorical":
            sources += [dates.get(name, name) for name in step.get_feature_names_out(columns)]
            continue
        encoder = step[-1]
        for name, categories, rare in zip(
            columns, encoder.categories_, encoder.infrequent_categories_, strict=True
        ):
            # One column per category; the rare ones (if any) share one.
            sources += [name] * (len(categories) - (len(rare) - 1 if rare is not None else 0))
    return sources


def _as_number(values: pd.Series | None) -> pd.Series | float:
    """A column's values as numbers where they are numbers, for colouring a plot; else NaN."""
    if values is None or not pd.api.types.is_numeric_dtype(values):
        return np.nan
    return values.astype("float64")


def summary_figure(explanation: Explanation, *, top: int = 10) -> "Figure":
    """SHAP's summary (beeswarm) plot for one output, or a bar per class for several."""
    import shap
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.0, 4.5), layout="constrained")
    axes = figure.add_subplot()
    if len(explanation.outputs) == 1:
        values = shap.Explanation(
            values=explanation.values[:, :, 0],
            base_values=explanation.base[:, 0],
            data=explanation.data.to_numpy(dtype="float64"),
            feature_names=explanation.columns,
        )
        with warnings.catch_warnings():  # a column with no numbers (a category) is drawn grey
            warnings.simplefilter("ignore", RuntimeWarning)
            shap.plots.beeswarm(values, max_display=top, ax=axes, show=False, plot_size=None)
    else:
        mean_abs = pd.DataFrame(
            np.abs(explanation.values).mean(axis=0),
            index=explanation.columns,
            columns=explanation.outputs,
        )
        shown = mean_abs.loc[mean_abs.sum(axis=1).sort_values().index[-top:]]
        shown.plot.barh(stacked=True, ax=axes)
        axes.legend(title="class")
    axes.set_title(f"SHAP values ({explanation.space})")
    axes.set_xlabel(f"contribution to the model's output ({explanation.space})")
    return figure


def in_words(explanation: Explanation, *, top: int = 5) -> list[str]:
    """The most important columns in sentences: how much each moves the output, and which way."""
    lines = []
    for row in explanation.importance().head(top).to_dict(orient="records"):
        column = row["column"]
        where = explanation.columns.index(column)
        line = f"`{column}` moves the output by {row['mean_abs_shap']:,.3f} {explanation.space} on average"
        values, data = explanation.values[:, where, 0], explanation.data[column]
        known = data.notna().to_numpy()
        varies = data[known].nunique() > 1 and np.ptp(values[known]) > 0
        if len(explanation.outputs) == 1 and varies:
            direction = np.corrcoef(data[known], values[known])[0, 1]
            if abs(direction) >= 0.3:
                line += f": higher values push it {'up' if direction > 0 else 'down'}"
        lines.append(line)
    return lines
