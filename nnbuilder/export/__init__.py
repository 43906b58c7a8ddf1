"""Take a trained model out of nnbuilder: one registry entry per format (formats.py).

    onnx/         raw columns in, predictions out, the preprocessing inside; checked against the bundle
    torchscript.py  the network with its preprocessing parameters;  script/: a readable training script
"""

from nnbuilder.export.files import write_atomic
from nnbuilder.export.formats import EXPORT_FORMATS, ExportFormat, export_bundle

__all__ = ["EXPORT_FORMATS", "ExportFormat", "export_bundle", "write_atomic"]
