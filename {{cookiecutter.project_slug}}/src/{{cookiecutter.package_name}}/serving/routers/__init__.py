"""One router per resource: health, predictions, model metadata (/metrics is the instrumentator's)."""
