"""Per-epoch loss and headline metric, computed on the device in large chunks.

These feed the live curves and early stopping, so they avoid scikit-learn and
host copies; the full metric set for reports lives in `evaluate`.
"""

from __future__ import annotations

import torch

from nnbuilder.model.heads import TASK_KINDS

CHUNK_ROWS = 16_384  # bounded memory for big validation sets


def metric_name(task_kind: str) -> str:
    kind = TASK_KINDS[task_kind]
    return kind.metric or ("accuracy" if kind.is_classification else "r2")


@torch.no_grad()
def forward_chunks(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Raw outputs for every row of x, in eval mode, without building autograd graphs."""
    model.eval()
    if x.shape[0] <= CHUNK_ROWS:
        return model(x)
    return torch.cat([model(x[i:i + CHUNK_ROWS]) for i in range(0, x.shape[0], CHUNK_ROWS)])


@torch.no_grad()
def epoch_metric(model, x: torch.Tensor, y: torch.Tensor, loss_fn, task_kind: str) -> tuple[float, float]:
    """(mean loss, accuracy or R²) over all rows; y is already shaped for the loss."""
    outputs = forward_chunks(model, x)  # (rows, outputs)
    loss = float(loss_fn(outputs, y))
    if task_kind == "binary":
        metric = ((outputs[:, 0] > 0).float() == y[:, 0]).float().mean()
    elif task_kind == "multiclass":
        metric = (outputs.argmax(dim=1) == y).float().mean()
    else:  # R² per target (scale-free, so standardised targets give the original-unit value), averaged
        residual = ((y - outputs) ** 2).sum(dim=0)
        spread = ((y - y.mean(dim=0)) ** 2).sum(dim=0).clamp_min(1e-12)
        metric = (1 - residual / spread).mean()
    return loss, float(metric)
