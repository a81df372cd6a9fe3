"""The prediction service: a FastAPI app that loads the model once and answers over HTTP.

`main.py` builds the app, `schemas.py` turns the data contract into request and response
models, `model.py` loads (and exports) the model, `observability.py` holds the logs and
metrics, and `routers/` has one module per resource.
"""
