"""nnbuilder: a no-code neural-network builder. This package is the engine; it never imports streamlit."""

__version__ = "0.1.0"
