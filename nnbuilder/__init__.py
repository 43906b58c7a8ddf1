"""nnbuilder: a no-code neural-network builder. This package is the engine; it never imports streamlit."""

__version__ = "0.1.0"

# The built-in tasks register themselves (and their names with the spec) on import, so every entry point (the
# CLI, the app, a test building a spec) sees the same tasks. Kept last: the tasks import the rest of the engine.
import nnbuilder.tasks  # noqa: E402,F401
