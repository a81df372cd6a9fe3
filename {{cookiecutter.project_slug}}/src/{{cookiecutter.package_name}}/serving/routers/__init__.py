"""The routes: health, readiness and metadata; predictions (/metrics is the instrumentator's)."""
