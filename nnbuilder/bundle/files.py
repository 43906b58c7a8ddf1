"""A bundle's files on disk: which files belong, their checksums, zipping and unzipping them safely.

The manifest (sha256 of every file) is an integrity check, not a signature: it catches a damaged or
edited file and anything dropped into the folder, but whoever rewrites the manifest too can swap in
files of the right kind. What makes loading safe is that nothing in a bundle is code: weights are
safetensors, preprocessing is skops with an allow-list, the rest is JSON and Markdown.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import numpy as np

from nnbuilder.errors import BundleError

FILES = ("spec.json", "weights.safetensors", "preprocessing.skops", "meta.json", "history.json", "metrics.json",
         "model_card.md")
# An image or sequence model's preprocessing is plain JSON in meta.json: it has no fitted scikit-learn object.
IMAGE_FILES = tuple(name for name in FILES if name != "preprocessing.skops")


def bundle_zip_bytes(path: str | Path) -> bytes:
    """The bundle folder as zip bytes, for a download button."""
    buffer = io.BytesIO()
    files = bundle_files(json.loads((Path(path) / "manifest.json").read_text(encoding="utf-8")))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in (*files, "manifest.json"):
            archive.write(Path(path) / name, name)
    return buffer.getvalue()


# Files added after the first bundles were written: a bundle whose manifest lacks them is older, not damaged.
LATER_FILES = ("model_card.md",)


def bundle_files(manifest: dict) -> tuple[str, ...]:
    # A tabular model's manifest names its skops file; whether it must have one is checked against meta.json.
    files = FILES if "preprocessing.skops" in manifest else IMAGE_FILES
    return tuple(name for name in files if name in manifest or name not in LATER_FILES)


def verify_manifest(folder: Path) -> tuple[str, ...]:
    """The bundle's files (manifest.json aside), once every one is present and unaltered."""
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise BundleError(f"{folder} is not an nnbuilder bundle: manifest.json is missing")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BundleError(f"model bundle {folder} has a damaged manifest.json") from None
    if not isinstance(manifest, dict):
        raise BundleError(f"model bundle {folder} has a damaged manifest.json")
    files = bundle_files(manifest)
    links = sorted(p.name for p in folder.iterdir() if p.is_symlink())
    if links:  # a link could point a checked name at a file outside the bundle
        raise BundleError(f"model bundle {folder} holds links ({', '.join(links)}); refusing to load it")
    present = {p.name for p in folder.iterdir()} - {"manifest.json"}
    extra = sorted(present - set(files))
    if extra:
        raise BundleError(f"model bundle {folder} holds unexpected files ({', '.join(extra)}); refusing to load it")
    for name in files:
        if name not in present:
            raise BundleError(f"model bundle {folder} is missing {name}")
        if manifest.get(name) != sha256(folder / name):
            raise BundleError(f"model bundle {folder}: {name} was altered after saving (checksum mismatch); refusing to load it")
    return files


def unzip(archive_path: Path, target: Path) -> Path:
    with zipfile.ZipFile(archive_path) as archive:
        for member in archive.infolist():
            name = Path(member.filename)
            if name.is_absolute() or ".." in name.parts or len(name.parts) != 1:
                raise BundleError(f"bundle zip {archive_path} holds an unexpected path {member.filename!r}; refusing it")
        archive.extractall(target)
    return target


def sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def write_json(file: Path, data) -> None:
    file.write_text(json.dumps(data, indent=2, default=plain), encoding="utf-8")


def plain(value):
    """numpy values -> JSON-able python values."""
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
