"""Training: models, the train, tune, evaluate and promote stages, tracking and reports."""
