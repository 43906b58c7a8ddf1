"""The contestants `bench.py` times: four training loops on one table, and CSV ingest.

Every training contestant sees the same rows, the same model (built by
`nnbuilder.model.compile.build_model` from the same seed), the same batch size and
the same number of timed epochs, after warm-up epochs that are not timed
(first calls allocate buffers and pick kernels). Each returns samples/s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nnbuilder.model.compile import build_model
from nnbuilder.train.events import EpochEnded
from nnbuilder.spec.network import NetworkSpec, parse_spec
from nnbuilder.train.trainer import Trainer

HIDDEN = (128, 64)
LEARNING_RATE = 1e-3
SEED = 0


@dataclass
class Table:
    X_train: np.ndarray  # (rows, features) float32
    y_train: np.ndarray  # (rows,) int64 class 0/1
    X_val: np.ndarray
    y_val: np.ndarray


def make_table(rows: int, features: int, val_rows: int) -> Table:
    """A two-class table an MLP learns but a linear model does not saturate."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=rows, n_features=features, n_informative=max(2, features * 2 // 5),
                               n_redundant=features // 5, n_clusters_per_class=3, random_state=SEED)
    X, y = X.astype(np.float32), y.astype(np.int64)
    cut = rows - val_rows
    return Table(X[:cut], y[:cut], X[cut:], y[cut:])


def mlp_spec(batch_size: int, epochs: int) -> NetworkSpec:
    return parse_spec({
        "layers": [{"type": "dense", "units": units, "activation": "relu"} for units in HIDDEN],
        "training": {"optimizer": "adam", "learning_rate": LEARNING_RATE, "batch_size": batch_size,
                     "epochs": epochs, "early_stopping_patience": 0, "seed": SEED},
    })


def new_model(spec: NetworkSpec, features: int) -> nn.Module:
    torch.manual_seed(SEED)  # identical initial weights for every torch contestant
    return build_model(spec, (features,), "binary", 2)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def run_trainer(table: Table, batch_size: int, epochs: int, warmup: int, device: str) -> float:
    """nnbuilder's Trainer as the app runs it: per-epoch train metric and validation included."""
    spec = mlp_spec(batch_size, warmup + epochs)
    stamps: list[float] = []

    def clock(event) -> None:  # an observer, so the timing costs the trainer nothing extra
        if isinstance(event, EpochEnded):
            stamps.append(time.perf_counter())  # EpochEnded is emitted after the epoch's sync point (.item)

    trainer = Trainer(spec.training, "binary", device=device, observers=[clock])
    trainer.fit(new_model(spec, table.X_train.shape[1]), table.X_train, table.y_train, table.X_val, table.y_val)
    return len(table.X_train) * epochs / (stamps[-1] - stamps[warmup - 1])


def run_hand_loop(table: Table, batch_size: int, epochs: int, warmup: int, device: str) -> float:
    """The ceiling: tensors resident on the device, a permutation per epoch, index slices, Adam. Nothing else."""
    dev = torch.device(device)
    spec = mlp_spec(batch_size, epochs)
    model = new_model(spec, table.X_train.shape[1]).to(dev).train()
    x = torch.as_tensor(table.X_train, device=dev)  # (rows, features)
    y = torch.as_tensor(table.y_train, device=dev).float().unsqueeze(1)  # (rows, 1) for BCEWithLogits
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)  # as the trainer
    loss_fn = nn.BCEWithLogitsLoss()
    generator = torch.Generator().manual_seed(SEED)
    rows = x.shape[0]

    def epoch() -> None:
        order = torch.randperm(rows, generator=generator).to(dev)
        for start in range(0, rows, batch_size):
            index = order[start:start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            optimizer.step()

    return _samples_per_second(epoch, rows, epochs, warmup, dev)


def run_dataloader(table: Table, batch_size: int, epochs: int, warmup: int, device: str) -> float:
    """The textbook loop: DataLoader(TensorDataset, shuffle=True), batches collated row by row."""
    from torch.utils.data import DataLoader, TensorDataset

    dev = torch.device(device)
    spec = mlp_spec(batch_size, epochs)
    model = new_model(spec, table.X_train.shape[1]).to(dev).train()
    dataset = TensorDataset(torch.as_tensor(table.X_train), torch.as_tensor(table.y_train).float().unsqueeze(1))
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True, num_workers=0,
                        generator=torch.Generator().manual_seed(SEED))
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)  # as the trainer
    loss_fn = nn.BCEWithLogitsLoss()

    def epoch() -> None:
        for xb, yb in loader:
            xb, yb = xb.to(dev, non_blocking=True), yb.to(dev, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()

    return _samples_per_second(epoch, len(dataset), epochs, warmup, dev)


def _samples_per_second(epoch, rows: int, epochs: int, warmup: int, dev: torch.device) -> float:
    """Run `epoch` warmup times untimed, then `epochs` times timed (device synchronised at both ends)."""
    for _ in range(warmup):
        epoch()
    _sync(dev)
    started = time.perf_counter()
    for _ in range(epochs):
        epoch()
    _sync(dev)
    return rows * epochs / (time.perf_counter() - started)


def run_sklearn(table: Table, batch_size: int, epochs: int, warmup: int, device: str) -> float:
    """scikit-learn's MLPClassifier (CPU only), its BLAS held to torch's thread count."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    def fit(X, y, iterations: int) -> float:
        model = MLPClassifier(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam", batch_size=batch_size,
                              learning_rate_init=LEARNING_RATE, max_iter=iterations, tol=0.0,
                              n_iter_no_change=iterations + 1, early_stopping=False, random_state=SEED)
        started = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - started
        assert model.n_iter_ == iterations, "MLPClassifier stopped early; the comparison would be unfair"
        return seconds

    with threadpool_limits(limits=torch.get_num_threads()), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # stopping at max_iter is the point here
        if warmup:
            fit(table.X_train[:10_000], table.y_train[:10_000], warmup)
        seconds = fit(table.X_train, table.y_train, epochs)
    return len(table.X_train) * epochs / seconds


CONTESTANTS = {
    "trainer": run_trainer,
    "hand_loop": run_hand_loop,
    "dataloader": run_dataloader,
    "sklearn": run_sklearn,
}


# ---- CSV ingest --------------------------------------------------------------------
def ensure_csv(rows: int, columns: int, folder: Path) -> Path:
    """A rows×columns CSV of floats, written once and reused (writing 1M rows takes a while)."""
    path = folder / f"floats_{rows}x{columns}.csv"
    if path.exists():
        return path
    import pyarrow as pa
    import pyarrow.csv as pacsv

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    partial = path.with_suffix(".partial")  # renamed at the end: an interrupted run leaves no half file to reuse
    names = [f"f{i}" for i in range(columns)]
    schema = pa.schema([(n, pa.float64()) for n in names])
    with open(partial, "wb") as out:
        out.write((",".join(names) + "\n").encode())  # pyarrow would quote every header name
        with pacsv.CSVWriter(out, schema, write_options=pacsv.WriteOptions(include_header=False)) as writer:
            for start in range(0, rows, 100_000):
                block = np.round(rng.standard_normal((min(100_000, rows - start), columns)), 5)  # ~8 chars a value
                writer.write_table(pa.table({n: block[:, i] for i, n in enumerate(names)}, schema=schema))
    os.replace(partial, path)
    return path


def time_ingest(path: Path, repeats: int) -> dict:
    """Best-of-`repeats` seconds for nnbuilder.data.pipeline.read_csv and for pandas' pyarrow reader."""
    import pandas as pd

    from nnbuilder.data.pipeline import read_csv

    def best(read) -> float:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            frame = read()
            times.append(time.perf_counter() - started)
            del frame
        return min(times)

    return {"nnbuilder_s": best(lambda: read_csv(path)[0]),
            "pyarrow_s": best(lambda: pd.read_csv(path, engine="pyarrow"))}


_PEAK_SCRIPT = """
import json, resource, sys
import numpy, pandas, pyarrow, pyarrow.csv
import nnbuilder.data.pipeline

def peak_bytes():
    # Linux: VmHWM is this process's own high-water mark. ru_maxrss is not: the kernel carries the
    # parent's RSS at fork over the exec, so a child of a big benchmark process would start "at" it.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

baseline = peak_bytes()  # after the imports: what the read adds is the question
if sys.argv[2] == "nnbuilder":
    frame, _ = nnbuilder.data.pipeline.read_csv(sys.argv[1])
else:
    frame = pandas.read_csv(sys.argv[1], engine="pyarrow")
print(json.dumps({"extra_bytes": peak_bytes() - baseline, "baseline_bytes": baseline, "shape": list(frame.shape)}))
"""


def peak_memory(path: Path, reader: str = "nnbuilder") -> dict:
    """Peak RSS a read adds (frame included), measured in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(path), reader],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"peak-memory subprocess failed: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
