"""One exception family, so front ends catch user mistakes with one `except`.

Anything that is not an `NNBuilderError` is a bug in nnbuilder, not bad input.
Messages follow one shape: what is wrong, where, what was expected, what came,
and the fix, e.g. ``layers[2].rate must be in [0, 1); got 1.5``.
"""

from __future__ import annotations


class NNBuilderError(Exception):
    """Base of every error caused by the user's data, spec or files."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or [message]
        super().__init__(message)


class SpecError(NNBuilderError):
    """The network spec is invalid; `problems` lists every issue found at once."""

    def __init__(self, problems: list[str]):
        head = problems[0] if len(problems) == 1 else f"{len(problems)} problems in the spec: " + "; ".join(problems)
        super().__init__(head, problems)


class DataError(NNBuilderError):
    """The data cannot be used as asked; `column` names the culprit when there is one."""

    def __init__(self, message: str, column: str | None = None):
        self.column = column
        super().__init__(message)


class TrainingError(NNBuilderError):
    """Training cannot go on (diverged, out of memory); the message says what to change."""


class BundleError(NNBuilderError):
    """A saved model bundle is missing, damaged or not one of ours."""


class ExportError(NNBuilderError):
    """A model cannot be exported in the asked format (or the export failed its own check)."""
