"""Per-epoch loss and headline metric, computed on the device in large chunks.

These feed the live curves and early stopping, so they avoid scikit-learn and
host copies; the full metric set for reports lives in `evaluate`.
"""

from __future__ import annotations

import torch

from nnbuilder.model.heads import get_head

CHUNK_ROWS = 16_384  # bounded memory for big validation sets


def metric_name(task_kind: str) -> str:
    return get_head(task_kind).headline_metric


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
    head = get_head(task_kind)
    if head.is_classification:  # y is (rows,) class indices, or (rows, 1) 0/1 for a binary head
        metric = (head.predicted_class(outputs) == y.reshape(-1).long()).float().mean()
    else:  # R² per target (scale-free, so standardised targets give the original-unit value), averaged
        residual = ((y - outputs) ** 2).sum(dim=0)
        spread = ((y - y.mean(dim=0)) ** 2).sum(dim=0).clamp_min(1e-12)
        metric = (1 - residual / spread).mean()
    return loss, float(metric)
