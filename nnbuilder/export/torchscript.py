"""TorchScript export: the network alone, with the preprocessing parameters as JSON inside the file.

The `.pt` file's input is the PREPROCESSED feature matrix (what `bundle.preprocessing.transform(rows)`
returns): (N, features) for tables, (N, C, H, W) for images, (N, T, F) for sequences, or (N, noise)
for a GAN's generator. Its output is the raw network output: logits for classifiers (apply
softmax / sigmoid), standardised values for regression (multiply by target_std, add target_mean).
Everything needed to do that by hand, in any language, is in the file's extra file
`preprocessing.json` (and `model_card.md`), read with

    extra = {"preprocessing.json": ""}
    model = torch.jit.load("model.pt", _extra_files=extra)
    info = json.loads(extra["preprocessing.json"])

The export is traced (not scripted: tracing handles every layer type the same way) and checked:
the loaded file must reproduce the bundle's network outputs within 1e-5 or nothing is written.
"""

from __future__ import annotations

import io
import json
import warnings
from pathlib import Path

import numpy as np
import torch

from nnbuilder.data.features import fitted_parameters
from nnbuilder.errors import ExportError
from nnbuilder.export.files import write_atomic
from nnbuilder.model.device import to_model_device
from nnbuilder.evaluate.metrics import model_outputs
from nnbuilder.model.heads import get_head
from nnbuilder.tasks import get_task

TOLERANCE = 1e-5
PROBE_ROWS = 64


def export(bundle, out: Path, check_rows=None) -> Path:
    inputs = _inputs(bundle, check_rows)  # (rows, *input shape) float32
    model = bundle.model.eval()
    with warnings.catch_warnings():
        # torch marks torch.jit as deprecated in favour of torch.export, but TorchScript is still what
        # C++ (libtorch) and mobile runtimes load; the issue asks for it explicitly.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        with torch.no_grad():
            traced = torch.jit.trace(model, to_model_device(inputs[:2], model), check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer, _extra_files={"preprocessing.json": json.dumps(preprocessing_info(bundle),
                                                                                        indent=2),
                                                     "model_card.md": bundle.card})
        buffer.seek(0)
        loaded = torch.jit.load(buffer)
    _check(model, loaded, inputs)
    return write_atomic(Path(out), buffer.getvalue())


def preprocessing_info(bundle) -> dict:
    """How to turn raw rows into the network's input and its output into predictions, as plain JSON."""
    meta = bundle.meta
    info = {
        "format": "nnbuilder-torchscript-1",
        "task": meta["task"],
        "input": _input_contract(bundle),
        "output": get_head(meta["task"]).raw_output,
        "target": meta.get("target"),
        "classes": meta.get("classes"),
        "target_mean": meta.get("target_mean"),
        "target_std": meta.get("target_std"),
    }
    if _reads_noise(bundle):
        info["gan_layout"] = meta.get("gan_layout")
    elif meta.get("input_kind", "tabular") == "tabular":
        info["tabular"] = fitted_parameters(bundle.preprocessing.preprocessor)
    else:  # image pixels or sequence windows: their preprocessing is plain JSON state already
        info[meta["input_kind"]] = bundle.preprocessing.state()
    if "anomaly_threshold" in meta:  # a task that flags rows above a saved score (the autoencoder)
        info["anomaly_threshold"] = meta.get("anomaly_threshold")
    return info


def _reads_noise(bundle) -> bool:
    """A task that generates rows exports its generator, which reads noise instead of encoded rows."""
    return get_task(bundle.task).generate is not None


def _input_contract(bundle) -> dict:
    meta = bundle.meta
    kind, shape = meta.get("input_kind", "tabular"), list(meta.get("input_shape", []))
    if _reads_noise(bundle):
        return {"name": "noise", "shape": ["N", bundle.spec.gan_settings.noise_dim],
                "meaning": "standard normal noise, one row per generated row"}
    meaning = {"tabular": "numeric columns imputed (median) and standardised, then one 0/1 column per category, "
                          "then one integer code per embedded column (-1 = unknown)",
               "image": "pixels divided by pixel_max, shaped (channels, height, width)",
               "sequence": "windows of consecutive steps, features scaled with the training period's mean and scale"}
    return {"shape": ["N", *shape], "meaning": meaning.get(kind, kind), "feature_names": meta.get("feature_names")}


def _inputs(bundle, check_rows) -> np.ndarray:
    shape = tuple(bundle.meta["input_shape"])
    if _reads_noise(bundle):
        return np.random.default_rng(0).standard_normal((PROBE_ROWS, bundle.spec.gan_settings.noise_dim)).astype(np.float32)
    if check_rows is not None and len(check_rows) >= 2:
        try:
            if hasattr(bundle.preprocessing, "windows"):  # a time series: rows are history
                return bundle.preprocessing.windows(check_rows)[0]
            return bundle.preprocessing.transform(check_rows)
        except Exception as exc:  # the rows are only a check; a mismatch is the caller's data, say so
            raise ExportError(f"the rows given to check the export cannot be encoded: {exc}") from None
    probe = np.random.default_rng(0).standard_normal((PROBE_ROWS, *shape)).astype(np.float32)
    levels = bundle.meta.get("embedding_levels") or []
    for k, n in enumerate(levels):  # embedded code columns must hold valid codes
        probe[:, shape[0] - len(levels) + k] = np.arange(PROBE_ROWS) % (n - 1)
    return probe


def _check(model, loaded, inputs: np.ndarray) -> None:
    expected, got = (_seeded_outputs(m, inputs) for m in (model, loaded))
    worst = float(np.max(np.abs(expected - got))) if expected.size else 0.0
    if not np.isfinite(worst) or worst > TOLERANCE:
        raise ExportError(f"the TorchScript file does not reproduce the model (largest difference {worst:.2g} > "
                          f"{TOLERANCE:g}); nothing was written. Please report this with the spec")


def _seeded_outputs(model, inputs: np.ndarray) -> np.ndarray:
    """Raw outputs (no softmax); seeded because a GAN generator samples its categories inside forward."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return model_outputs(model, inputs, "regression")
