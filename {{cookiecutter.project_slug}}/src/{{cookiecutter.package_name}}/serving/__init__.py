"""The prediction service: a FastAPI app that loads the model once and answers over HTTP.

`main.py` builds the app, `schemas.py` turns the data contract into request and response
models, `model.py` loads (and exports) the model, `batching.py` scores records that arrive
together in one call, `limits.py` bounds what a client may send, `observability.py` holds the
logs and metrics, and `routers/` has the routes (`health.py`: health, readiness and the
model's metadata; `predict.py`). `batch.py` scores files for the `predict` command.
"""
