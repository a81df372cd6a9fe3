"""Request and response models, the request schema generated from the data contract.

The API documents and enforces exactly what validation and training use: names, types,
ranges, allowed categories and nullability, each field with its description and an example.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, create_model

from {{ cookiecutter.package_name }}.data.contract import (
{%- if cookiecutter.task == "classification" %}
    Category,
{%- endif %}
    Column,
    DataContract,
)

# pandas holds datetimes as nanoseconds since 1970: these years are the range it can represent.
READABLE_YEARS = range(1678, 2262)
EXAMPLE_DATETIME = "2024-01-31T00:00:00Z"


def _datetime(value: object) -> datetime | None:
    """An ISO 8601 date or date-time, read as training reads it, then naive in UTC.

    Nothing else counts as a date: not a number, and not digits in a string (`"1700000000"`),
    which pydantic would read as seconds since 1970. A date outside the years pandas can
    represent (checked before the move to UTC too, which overflows for year 1 or 9999) is passed
    on as unknown (None), like a missing value: it is valid, the model just cannot read it.
    """
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None  # pydantic's message would echo the whole value: say what to send instead
    if parsed is None:
        raise ValueError(f"Input should be an ISO 8601 date or date-time, e.g. {EXAMPLE_DATETIME}")
    if parsed.year not in READABLE_YEARS:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed if parsed.year in READABLE_YEARS else None


def field_type(column: Column, max_length: int) -> Any:
    """The type that validates one column in JSON; text is at most `max_length` characters long."""
    if column.type == "numeric":
        return Annotated[
            float, Field(ge=column.min, le=column.max, allow_inf_nan=False, strict=True)
        ]
    if column.type == "boolean":
        return Annotated[bool, Field(strict=True)]
    if column.type == "datetime":
        return Annotated[datetime, PlainValidator(_datetime, json_schema_input_type=datetime)]
    if column.categories is not None and column.unknown_categories == "reject":
        return Literal[column.categories]
    text = Annotated[str, Field(strict=True, max_length=max_length)]
    if column.categories is not None and not all(isinstance(c, str) for c in column.categories):
        return Annotated[text | int | float | bool, Field(union_mode="left_to_right")]
    return text


def example_value(column: Column) -> Any:
    """A plausible value for the OpenAPI page: the first category, the middle of the range."""
    if column.type == "numeric":
        low, high = column.min, column.max
        if low is not None and high is not None:
            return round((low + high) / 2, 2)
        return low if low is not None else (high if high is not None else 0.0)
    if column.type == "boolean":
        return False
    if column.type == "datetime":
        return EXAMPLE_DATETIME
    return column.categories[0] if column.categories else "unknown"


def example_record(contract: DataContract) -> dict[str, Any]:
    """One example request record."""
    return {column.name: example_value(column) for column in contract.features}


def record_model(contract: DataContract) -> type[BaseModel]:
    """The model of one record: every contract feature, nullable ones optional.

    Fields are named `f0`, `f1`, ... internally, with the column names as aliases, so any column
    name works (including ones that are not Python identifiers); requests and errors use the
    column names.
    """
    fields: dict[str, Any] = {}
    for position, column in enumerate(contract.features):
        kind = field_type(column, contract.max_length_of(column))
        described: dict[str, Any] = {
            "alias": column.name,
            "description": column.description or None,
            "examples": [example_value(column)],
        }
        if column.nullable:
            fields[f"f{position}"] = (kind | None, Field(default=None, **described))
        else:
            fields[f"f{position}"] = (kind, Field(**described))
    return create_model(
        "Record",
        __config__=ConfigDict(
            extra="forbid",
            json_schema_extra={"examples": [example_record(contract)]},
        ),
        __doc__=f"One {contract.name} row to score: the features of the data contract.",
        **fields,
    )


def batch_model(record: type[BaseModel], contract: DataContract, max_size: int) -> type[BaseModel]:
    """The model of a batch request: 1 to `max_size` records."""
    return create_model(
        "BatchRequest",
        __config__=ConfigDict(
            extra="forbid",
            json_schema_extra={"examples": [{"records": [example_record(contract)]}]},
        ),
        __doc__=f"Up to {max_size} records to score in one call.",
        records=(list[record], Field(min_length=1, max_length=max_size)),  # type: ignore[valid-type]
    )


class Prediction(BaseModel):
    """What the model answers for one record."""

{%- if cookiecutter.task == "classification" %}

    prediction: Category = Field(description="The predicted class.")
    probabilities: dict[str, float] = Field(description="The probability of each class.")
{%- else %}

    prediction: float = Field(description="The predicted value.")
{%- endif %}


class ResponseBase(BaseModel):
    """What every prediction response carries: which model answered, and the request's ID."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str
{%- if cookiecutter.include_monitoring %}
    variant: Literal["champion", "challenger"] = Field(
        description="Which model answered: the champion, or a challenger in a canary rollout."
    )
{%- endif %}
    request_id: str


class PredictionResponse(Prediction, ResponseBase):
    """The prediction for one record."""


class OutputExplanation(BaseModel):
    """How each column moved one of the model's outputs for this record (SHAP values)."""

    output: str = Field(
        description="What is explained: the positive class (two classes), a class, or the target."
    )
    base_value: float = Field(
        description="The output before the record is seen: its average over training rows."
    )
    contributions: dict[str, float] = Field(
        description=(
            "Each column's contribution, the largest (either way) first. They add up: the "
            "base value plus all of them is the model's output, in `space`."
        )
    )


class ExplanationResponse(PredictionResponse):
    """The prediction for one record, and why: each column's contribution to it."""

    space: str = Field(
        description='The unit of the values: "log-odds", "probability", or "units" of the target.'
    )
    explanations: list[OutputExplanation] = Field(
        description="One per output: the positive class, each class, or the target."
    )


class BatchResponse(ResponseBase):
    """One prediction per record, in request order."""

    predictions: list[Prediction]


class Problem(BaseModel):
    """One thing wrong with a request: where, and what."""

    field: str = Field(description="Dotted path to the field, e.g. records.3.tenure_months.")
    problem: str


class ErrorResponse(BaseModel):
    """Every error answer: a summary, each problem, and the request ID to quote."""

    error: str
    problems: list[Problem] = Field(default_factory=list)
    request_id: str


class Health(BaseModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """Whether the model is loaded and predictions can be served."""

    status: Literal["ready", "loading", "failed"]
    detail: str | None = None


class ModelMetadata(BaseModel):
    """Which model is served: where it came from, how it scored, what it reads."""

    model_config = ConfigDict(frozen=True, protected_namespaces=())

    name: str
    version: str
    run_id: str
    source: str = Field(description="The registry URI or directory it was loaded from.")
    task: Literal["classification", "regression"] = "{{ cookiecutter.task }}"
    metrics: dict[str, float] = Field(description="Metrics its training run recorded.")
    features: list[str]
