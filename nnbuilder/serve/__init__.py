"""The prediction API: `nnbuilder serve BUNDLE` (FastAPI), its schemas generated from the bundle.

    app.py  the service;  schema.py  request and answer models from the bundle's columns and task
"""

from nnbuilder.serve.app import serve

__all__ = ["serve"]
