"""Save a trained model as a folder (or zip) and load it back without unpickling anything.

Layout of a bundle:
    spec.json                the NetworkSpec it was trained from
    weights.safetensors      the network's weights (tensors only, no code); a GAN's generator only
    preprocessing.skops      the fitted scikit-learn preprocessing (skops: no pickle); tabular input only
    meta.json                task, input kind, columns and roles (or pixel columns, image shape and
                             pixel scale; or a sequence's columns, window, horizon and feature scaling),
                             classes, target scaling, shapes
    history.json             one dict per epoch
    metrics.json             metrics per split, chart details, warnings, timing
    model_card.md            what the model is, how it was made and where it stops (nnbuilder.bundle.card)
    manifest.json            sha256 of every file above; anything else in the folder is refused
Writes go to a temporary folder that is renamed into place, so a crash never leaves half a bundle.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import skops.io as sio
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from nnbuilder import __version__
from nnbuilder.bundle.files import (  # noqa: F401  (bundle_zip_bytes is part of this module's API)
    FILES, IMAGE_FILES, bundle_zip_bytes, plain, sha256, unzip, verify_manifest, write_json)
from nnbuilder.data.pipeline import ImagePreprocessing, Preprocessing, SequencePreprocessing
from nnbuilder.errors import BundleError, NNBuilderError
from nnbuilder.bundle.card import model_card
from nnbuilder.spec.network import NetworkSpec, parse_spec, spec_to_json
from nnbuilder.tasks import describe_network, get_task

# The only non-sklearn types the preprocessing file may name; skops refuses anything else.
TRUSTED_SKOPS_TYPES = ["numpy.dtype"]


@dataclass
class Bundle:
    spec: NetworkSpec
    model: torch.nn.Module
    preprocessing: Preprocessing | ImagePreprocessing | SequencePreprocessing
    meta: dict
    history: list[dict]
    metrics: dict
    card: str = ""  # model_card.md

    @property
    def task(self) -> str:
        return self.meta["task"]

    @property
    def classes(self) -> list | None:
        return self.meta.get("classes")

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        """Answers for raw rows, as the task's record writes them (nnbuilder.tasks): a `prediction` column plus
        `probability_<class>` for classifiers; an autoencoder's `anomaly_score`, `anomaly` and `latent_1..k`.

        A time-series model reads `df` as history (sorted by its time column here) and returns one row per
        complete window: the group, `window_end` (the time of the window's last row), `steps_ahead` and the
        forecast for that many steps later; the last row of each group is the forecast beyond the history.
        """
        return get_task(self.task).predict(self, df)

    def generate(self, n: int, seed: int = 0) -> pd.DataFrame:
        """A GAN's `n` new rows in the real columns; the same seed gives the same rows (see `nnbuilder.tasks.gan.networks`)."""
        task = get_task(self.task)
        if task.generate is None:
            raise BundleError(f"only a GAN bundle generates rows; this one is {self.task}: train with --task gan")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise BundleError(f"the number of rows to generate must be a whole number of at least 1; got {n!r}")
        return task.generate(self, n, seed)


def save_bundle(trained, path: str | Path) -> Path:
    """Write a `workflow.TrainedModel` as a bundle folder at `path` (replaced if it exists)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        files = _write_files(trained, staging)
        write_json(staging / "manifest.json", {name: sha256(staging / name) for name in files})
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            path.rename(old)
            staging.rename(path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _write_files(trained, folder: Path) -> tuple[str, ...]:
    """Writes the bundle's files (not the manifest) and returns their names."""
    prepared = trained.prepared
    image = prepared.preprocessor is None  # image and sequence preprocessing is JSON in meta.json
    (folder / "spec.json").write_text(spec_to_json(trained.spec), encoding="utf-8")
    state = {k: v.detach().cpu().contiguous() for k, v in trained.model.state_dict().items()}
    save_file(state, str(folder / "weights.safetensors"))
    if not image:
        (folder / "preprocessing.skops").write_bytes(sio.dumps(prepared.preprocessor))
    meta = {
        "nnbuilder_version": __version__,
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "torch_version": torch.__version__,
        "task": prepared.task,
        "target": list(prepared.target),
        "input_kind": prepared.input_kind,
        "feature_columns": list(prepared.feature_columns),
        "columns": [c.to_dict() for c in prepared.columns],
        **prepared.preprocessing.state(),  # column roles, or pixel columns + image shape + pixel scale
        "feature_names": list(prepared.feature_names),
        "classes": plain(prepared.classes),
        "target_mean": plain(prepared.target_mean),
        "target_std": plain(prepared.target_std),
        "input_shape": list(prepared.input_shape),
        "n_outputs": prepared.n_outputs,
        "embedding_levels": prepared.embedding_levels,  # table sizes of embedded category columns (codes end X)
    }
    meta.update(get_task(prepared.task).meta_extras(trained))
    write_json(folder / "meta.json", meta)
    write_json(folder / "history.json", trained.fit.history)
    metrics = {"metrics": trained.metrics, "details": trained.details, "summary": trained.summary()}
    write_json(folder / "metrics.json", metrics)
    card = model_card(trained.spec, json.loads(json.dumps(meta, default=plain)), json.loads(json.dumps(
        metrics, default=plain)), trained.fit.history, describe_network(trained.spec, prepared))
    (folder / "model_card.md").write_text(card, encoding="utf-8")
    return IMAGE_FILES if image else FILES


def load_bundle(path: str | Path) -> Bundle:
    """Load a bundle folder or zip; refuses missing, extra or altered files."""
    path = Path(path)
    if not path.exists():
        raise BundleError(f"model bundle {path} does not exist; pass the folder written by 'nnbuilder train --out'")
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise BundleError(f"{path} is neither a bundle folder nor a bundle zip")
        with tempfile.TemporaryDirectory() as tmp:
            return load_bundle(unzip(path, Path(tmp)))
    files = verify_manifest(path)
    try:
        spec = parse_spec(json.loads((path / "spec.json").read_text(encoding="utf-8")))
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise BundleError("meta.json must hold a JSON object")
        preprocessing = _load_preprocessing(path, meta, files)
        model = get_task(meta["task"]).rebuild(spec, meta)  # KeyError (damaged) for a task nobody registered
        _load_weights(model, path / "weights.safetensors")
        model.eval()
        history = json.loads((path / "history.json").read_text(encoding="utf-8"))
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        card = ((path / "model_card.md").read_text(encoding="utf-8") if "model_card.md" in files
                else model_card(spec, meta, metrics, history))  # a bundle saved before cards existed
    except NNBuilderError as exc:
        raise BundleError(f"model bundle {path} is not usable: {exc}") from None
    except (OSError, ValueError, KeyError, RuntimeError, TypeError, zipfile.BadZipFile, SafetensorError) as exc:
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        raise BundleError(f"model bundle {path} is damaged ({exc.__class__.__name__}: {first})") from None
    return Bundle(spec, model, preprocessing, meta, history, metrics, card)


# Input kinds whose preprocessing is plain JSON state in meta.json.
JSON_PREPROCESSING = {"image": ImagePreprocessing, "sequence": SequencePreprocessing}


def _load_weights(model: torch.nn.Module, file: Path) -> None:
    try:
        model.load_state_dict(load_file(str(file)))
    except RuntimeError as exc:  # torch lists every mismatch over many lines: keep the first that says what
        lines = [line.strip() for line in str(exc).splitlines()]
        what = next((line for line in lines if line.startswith(("size mismatch", "Missing key", "Unexpected key"))),
                    lines[0] if lines else "")
        raise BundleError(f"weights.safetensors does not fit the network spec.json describes ({what[:200]}); the "
                          "files come from different models") from None


def _load_preprocessing(folder: Path, meta: dict, files: tuple[str, ...]):
    kind = meta.get("input_kind", "tabular")
    if kind in JSON_PREPROCESSING:
        return JSON_PREPROCESSING[kind].from_state(meta)
    if "preprocessing.skops" not in files:
        raise BundleError(f"model bundle {folder} is missing preprocessing.skops")
    return Preprocessing.from_state(_load_preprocessor(folder / "preprocessing.skops"), meta)


def _load_preprocessor(file: Path):
    data = file.read_bytes()
    untrusted = sio.get_untrusted_types(data=data)
    unexpected = sorted(set(untrusted) - set(TRUSTED_SKOPS_TYPES))
    if unexpected:
        raise BundleError(f"preprocessing.skops names types nnbuilder does not trust ({', '.join(unexpected)}); refusing to load it")
    return sio.loads(data, trusted=untrusted)


