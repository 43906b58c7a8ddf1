"""Writing an exported file. Apart from the format registry (nnbuilder.export.formats), which names the
exporters, so that the exporters need not import the registry back."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from nnbuilder.errors import ExportError


def write_atomic(out: Path, data: bytes) -> Path:
    """`data` to a temp file in `out`'s folder, renamed over `out`: nobody ever sees half a file."""
    temp = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temp, out)
        temp = None
    except OSError as exc:
        raise ExportError(f"cannot write {out} ({exc.strerror}); choose a place you can write to") from None
    finally:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
    return out
