"""One exception family, so front ends catch user mistakes with one `except`.

Anything that is not an `NNBuilderError` is a bug in nnbuilder, not bad input.
Messages follow one shape: what is wrong, where, what was expected, what came,
and the fix, e.g. ``layers[2].rate must be in [0, 1); got 1.5``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


class NNBuilderError(Exception):
    """Base of every error caused by the user's data, spec or files."""

    def __init__(self, message: str, problems: list[str] | None = None):
        self.problems = problems or [message]
        super().__init__(message)


SpecPath = tuple[str | int, ...]  # keys and list indexes into the spec's JSON: ("layers", 2, "rate"); () is the whole spec


def spec_path_text(path: SpecPath) -> str:
    """The JSON path as the spec file spells it: ("layers", 3, "layers", 0, "units") -> 'layers[3].layers[0].units'."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a spec: where it is (`path`) and what is wrong there (`message`).

    Front ends place the problem by its path (the Build page puts it on the layer's card) instead of
    reading the line. `message` continues a sentence whose subject is the path ("must be in [0, 1);
    got 1.5"), unless `sentence` is set or `layer_type` names the layer at the path: then it stands on
    its own after a colon ("layers[3] (conv2d): conv2d needs image input ...").
    """

    path: SpecPath
    message: str
    layer_type: str | None = None
    sentence: bool = False

    @property
    def text(self) -> str:
        """The engine's one line, with the 0-based JSON path: 'layers[2].rate must be in [0, 1); got 1.5'."""
        return self.text_at(spec_path_text(self.path))

    def text_at(self, where: str) -> str:
        """The line with `where` standing for the path (a front end's own name for it, e.g. 'Layer 3')."""
        if self.layer_type is None and not self.sentence:
            return f"{where or 'spec'} {self.message}"
        if self.layer_type is not None:
            where = f"{where} ({self.layer_type})"
        return f"{where}: {self.message}" if where else self.message

    def within(self, prefix: SpecPath) -> "SpecProblem":
        """The same problem seen from outside: a block's inner layer named by its full path."""
        return replace(self, path=(*prefix, *self.path))


class SpecError(NNBuilderError):
    """The network spec is invalid; `spec_problems` holds every issue found at once, each with its path.

    `problems` (and `str(err)`) are the readable lines the CLI prints. A plain string is accepted as a
    problem about the whole spec (path ()), e.g. a file that cannot be read.
    """

    def __init__(self, problems: list[SpecProblem | str]):
        self.spec_problems = [p if isinstance(p, SpecProblem) else SpecProblem((), p, sentence=True)
                              for p in problems]
        lines = [p.text for p in self.spec_problems]
        head = lines[0] if len(lines) == 1 else f"{len(lines)} problems in the spec: " + "; ".join(lines)
        super().__init__(head, lines)


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


class RunStoreError(NNBuilderError):
    """The run store cannot do what was asked: an illegal status change, a run that is not there, or a
    database that is locked, unreachable, corrupt or of another version; the message names the store or run."""
