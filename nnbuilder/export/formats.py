"""Take a trained model out of nnbuilder: one entry per format, all from a loaded bundle.

    onnx          one .onnx file: raw columns in, predictions out, preprocessing inside (export_onnx)
    torchscript   the network alone as TorchScript; the preprocessing parameters as JSON in its extra files (export_torchscript)
    python        a readable, standalone PyTorch training script generated from the spec (export_script)

Each exporter is `export(bundle, out: Path, check_rows: pandas.DataFrame | None) -> Path`: it writes `out`
(atomically) and returns the path of what it wrote; `check_rows` are raw rows (e.g. the test split) an exporter
may run through both the bundle and its output to refuse a file that disagrees. The model card
(nnbuilder.bundle.card) is in every bundle already.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path

from nnbuilder.errors import ExportError


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str  # what the Export page's button says
    suffix: str  # the file name's ending
    mime: str
    module: str  # <module>.export does the work (imported when used: onnx is slow to import)


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "onnx": ExportFormat("onnx", "ONNX (raw columns in, predictions out)", ".onnx", "application/octet-stream",
                         "nnbuilder.export.onnx.graph"),
    "torchscript": ExportFormat("torchscript", "TorchScript (network; preprocessing JSON inside)", ".pt",
                                "application/octet-stream", "nnbuilder.export.torchscript"),
    "python": ExportFormat("python", "PyTorch training script (.py)", ".py", "text/x-python", "nnbuilder.export.script.writer"),
}


def export_bundle(bundle, fmt: str, out: str | Path, *, check_rows=None) -> Path:
    """Write `bundle` in format `fmt` to `out`; ExportError (one readable line) when that cannot be done."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format '{fmt}'; choose one of {', '.join(EXPORT_FORMATS)}")
    exporter = import_module(EXPORT_FORMATS[fmt].module)
    return exporter.export(bundle, Path(out), check_rows)
