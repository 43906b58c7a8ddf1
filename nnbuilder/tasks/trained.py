"""`TrainedModel`: what every task's fit returns (the network, its data, fit result, metrics and details)."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from nnbuilder.data.pipeline import DataWarning, PreparedData
from nnbuilder.spec.network import NetworkSpec
from nnbuilder.train.trainer import FitResult


@dataclass
class TrainedModel:
    spec: NetworkSpec
    prepared: PreparedData
    fit: FitResult
    metrics: dict[str, dict]  # {"train": {...}, "val": {...}, "test": {...}}
    details: dict[str, dict]  # per split: confusion matrix, ROC, pairs ... for charts
    warnings: list[DataWarning] = field(default_factory=list)
    gan_layout: dict | None = None  # gan task: where each column lives in a generated row (nnbuilder.tasks.gan.networks)

    @property
    def model(self) -> torch.nn.Module:
        return self.fit.model

    @property
    def task(self) -> str:
        return self.prepared.task

    def summary(self) -> dict:
        """The JSON the CLI prints last: task, metrics per split, speed, device, warnings."""
        return {
            "task": self.task,
            "metrics": self.metrics,
            "epochs": len(self.fit.history),
            "best_epoch": self.fit.best_epoch,
            "stop_reason": self.fit.stop_reason,
            "train_seconds": round(self.fit.seconds, 3),
            "samples_per_second": round(self.fit.samples_per_second, 1),
            "device": self.fit.device,
            "warnings": [w.to_dict() for w in self.warnings],
        }
