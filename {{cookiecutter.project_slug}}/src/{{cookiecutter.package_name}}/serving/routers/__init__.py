"""One router per resource: health, predictions, model metadata, metrics."""
