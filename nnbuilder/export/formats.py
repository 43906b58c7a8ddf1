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
    """Everything a front end needs to offer a format, so a new format is one entry here and no page edit."""
    name: str
    label: str  # the heading the Export page shows above the format
    suffix: str  # the file name's ending
    mime: str
    module: str  # <module>.export does the work (imported when used: onnx is slow to import)
    help: str  # what the format is for, in the words of someone deciding which to take
    file_name: str  # the downloaded file's default name
    noun: str  # what the Export page prepares: "Prepare <noun>"


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "onnx": ExportFormat(
        "onnx", "ONNX (raw columns in, predictions out)", ".onnx", "application/octet-stream",
        "nnbuilder.export.onnx.graph",
        help="One file that takes the raw columns (numbers as float, text as string, one input per column) and "
             "returns the prediction and the probabilities, with the imputing, scaling and one-hot encoding inside. "
             "Runs in ONNX Runtime from Python, C#, Java, JavaScript, C++ ... with nothing else.",
        file_name="model.onnx", noun="ONNX file"),
    "torchscript": ExportFormat(
        "torchscript", "TorchScript (network; preprocessing JSON inside)", ".pt", "application/octet-stream",
        "nnbuilder.export.torchscript",
        help="The network for PyTorch / libtorch (C++) without Python code. It reads the already encoded "
             "feature matrix; the recipe (medians, means, categories, output scaling) is inside the file as "
             "preprocessing.json.",
        file_name="model.pt", noun="TorchScript file"),
    "python": ExportFormat(
        "python", "PyTorch training script (.py)", ".py", "text/x-python", "nnbuilder.export.script.writer",
        help="A readable script that trains this same network from your CSV with only pandas, scikit-learn and "
             "PyTorch: the bridge from clicking to coding. Run it as `python train_model.py data.csv`.",
        file_name="train_model.py", noun="Python script"),
}


def export_bundle(bundle, fmt: str, out: str | Path, *, check_rows=None) -> Path:
    """Write `bundle` in format `fmt` to `out`; ExportError (one readable line) when that cannot be done."""
    if fmt not in EXPORT_FORMATS:
        raise ExportError(f"unknown export format '{fmt}'; choose one of {', '.join(EXPORT_FORMATS)}")
    exporter = import_module(EXPORT_FORMATS[fmt].module)
    return exporter.export(bundle, Path(out), check_rows)
