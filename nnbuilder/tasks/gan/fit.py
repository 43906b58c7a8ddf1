"""Adversarial training for the GAN task, with the trainer's conventions: data resident on the device,
index-sliced batches of a per-epoch permutation, losses summed on the device and read once per epoch,
the cancel flag checked every batch, and the same events out (FitStarted, BatchProgress, EpochEnded, FitEnded).

Each batch: one discriminator step (real rows labelled 0.9, one-sided label smoothing, generated rows 0),
then one generator step with the non-saturating loss (generated rows labelled 1). Both use Adam with
betas (0.5, 0.999), the usual GAN setting. History rows keep the trainer's keys so the live curves work:
`train_loss` is the generator's loss and `val_loss` the discriminator's (both also under their own names,
`generator_loss` and `discriminator_loss`); the metric is the discriminator's accuracy on real versus
generated rows (training batches, and the validation rows against as many fresh generated rows).
A GAN has no best epoch to go back to: the last weights are kept.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from nnbuilder.model.compile import count_parameters
from nnbuilder.errors import TrainingError
from nnbuilder.train.events import BatchProgress, EpochEnded, FitEnded, FitStarted, Observer
from nnbuilder.train.trainer import PROGRESS_EVERY_S, FitResult, failures_reported, resolve_device

METRIC = "discriminator_accuracy"
REAL_LABEL = 0.9  # one-sided label smoothing: a discriminator that is never fully sure keeps gradients alive


@dataclass
class GanTrainer:
    training: object  # TrainingSpec
    gan: object  # GanSpec
    device: str = "auto"
    observers: list[Observer] = field(default_factory=list)
    cancel: threading.Event | None = None

    def fit(self, generator: nn.Module, discriminator: nn.Module, X_train: np.ndarray,
            X_val: np.ndarray | None = None) -> FitResult:
        device = resolve_device(self.device)
        torch.manual_seed(self.training.seed)
        generator.to(device), discriminator.to(device)
        train = torch.as_tensor(np.ascontiguousarray(X_train, dtype=np.float32), device=device)
        val = None if X_val is None or not len(X_val) else torch.as_tensor(
            np.ascontiguousarray(X_val, dtype=np.float32), device=device)
        with failures_reported(self._emit):
            return self._fit_loop(generator, discriminator, train, val, device)

    def _fit_loop(self, generator, discriminator, train, val, device) -> FitResult:
        spec, lr = self.training, self.training.learning_rate
        opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr * self.gan.discriminator_lr_factor,
                                 betas=(0.5, 0.999))
        permutations = torch.Generator(device="cpu").manual_seed(spec.seed)
        self._emit(FitStarted(spec.epochs, train.shape[0], 0 if val is None else val.shape[0], str(device), METRIC,
                              count_parameters(generator) + count_parameters(discriminator)))
        history, reason, started = [], "completed", time.perf_counter()
        for epoch in range(1, spec.epochs + 1):
            epoch_start = time.perf_counter()
            sums = self._run_epoch(generator, discriminator, train, opt_g, opt_d, permutations, epoch)
            if sums is None:
                reason = "cancelled"
                break
            record = self._record(generator, discriminator, train.shape[0], val, sums, epoch, lr, epoch_start)
            history.append(record)
            self._emit(EpochEnded(epoch, spec.epochs, dict(record)))
        seconds = time.perf_counter() - started
        self._emit(FitEnded(reason, len(history), len(history), seconds))
        rate = train.shape[0] * len(history) / seconds if seconds > 0 else 0.0
        return FitResult(generator, history, len(history), reason, seconds, rate, str(device), METRIC)

    def _run_epoch(self, generator, discriminator, train, opt_g, opt_d, permutations, epoch):
        """(generator loss sum, discriminator loss sum, correct calls) over the epoch; None when cancelled."""
        generator.train(), discriminator.train()
        rows = train.shape[0]
        batch_size = min(self.training.batch_size, rows)
        order = torch.randperm(rows, generator=permutations).to(train.device)
        n_batches = math.ceil(rows / batch_size)
        bce = nn.BCEWithLogitsLoss(reduction="sum")
        totals = torch.zeros(3, device=train.device)  # summed on the device, read once per epoch
        last_report = time.perf_counter()
        for batch in range(n_batches):
            if self.cancel is not None and self.cancel.is_set():
                return None
            real = train[order[batch * batch_size:(batch + 1) * batch_size]]  # (batch, features)
            noise = torch.randn(real.shape[0], generator.noise_dim, device=train.device)
            fake = generator(noise)
            # Discriminator step: real rows -> REAL_LABEL, generated rows -> 0 (the generator is not updated).
            opt_d.zero_grad(set_to_none=True)
            real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
            loss_d = (bce(real_logits, torch.full_like(real_logits, REAL_LABEL))
                      + bce(fake_logits, torch.zeros_like(fake_logits))) / 2
            (loss_d / real.shape[0]).backward()
            opt_d.step()
            # Generator step: make the discriminator call its rows real (non-saturating loss).
            opt_g.zero_grad(set_to_none=True)
            fooled = discriminator(fake)
            loss_g = bce(fooled, torch.ones_like(fooled))
            (loss_g / real.shape[0]).backward()
            opt_g.step()
            correct = (real_logits > 0).sum() + (fake_logits <= 0).sum()
            totals += torch.stack([loss_g.detach(), loss_d.detach(), correct.float()])
            if self.observers and time.perf_counter() - last_report > PROGRESS_EVERY_S:
                last_report = time.perf_counter()
                self._emit(BatchProgress(epoch, batch + 1, n_batches))
        g_sum, d_sum, correct = totals.tolist()
        if not (math.isfinite(g_sum) and math.isfinite(d_sum)):
            raise TrainingError(f"training diverged at epoch {epoch}: a loss became not a number (learning rate "
                                f"{self.training.learning_rate:g}); lower the learning rate, e.g. to "
                                f"{self.training.learning_rate / 10:g}")
        return g_sum / rows, d_sum / rows, correct / (2 * rows)

    @torch.no_grad()
    def _record(self, generator, discriminator, rows, val, sums, epoch, lr, epoch_start) -> dict:
        g_loss, d_loss, accuracy = sums
        record = {"epoch": epoch, "train_loss": g_loss, "val_loss": d_loss, "generator_loss": g_loss,
                  "discriminator_loss": d_loss, f"train_{METRIC}": accuracy, f"val_{METRIC}": None}
        if val is not None:
            generator.eval(), discriminator.eval()
            fake = generator(torch.randn(val.shape[0], generator.noise_dim, device=val.device))
            correct = (discriminator(val) > 0).sum() + (discriminator(fake) <= 0).sum()
            record[f"val_{METRIC}"] = float(correct) / (2 * val.shape[0])
        record["lr"] = lr
        record["seconds"] = time.perf_counter() - epoch_start
        return record

    def _emit(self, event) -> None:
        for observer in self.observers:
            observer(event)


def fit_gan(spec, prepared, *, device: str = "auto", observers=None, cancel=None, real=None):
    """Builds and trains the generator and discriminator for `prepared` (a `gan` task), then scores the
    generated rows against `real` (the raw table; default: the test rows) with the quality report.

    Returns (FitResult whose model is the generator, metrics, layout): metrics are {"train": the last epoch's
    losses and discriminator accuracy, "quality": `synthetic_quality.quality_report`}.
    """
    from nnbuilder.tasks.gan.networks import (build_discriminator, build_generator, comparable_rows, decode_rows, generate_encoded,
                      output_layout, with_ranges)
    from nnbuilder.tasks.gan.quality import quality_report

    layout = with_ranges(output_layout(prepared), prepared.X_train)
    torch.manual_seed(spec.training.seed)  # same initial weights for the same seed
    generator = build_generator(spec, layout)
    discriminator = build_discriminator(spec, len(prepared.feature_names))
    trainer = GanTrainer(spec.training, spec.gan_settings, device=device, observers=list(observers or []),
                         cancel=cancel)
    fit = trainer.fit(generator, discriminator, prepared.X_train, prepared.X_val)
    last = fit.history[-1] if fit.history else {}
    metrics = {"train": {"generator_loss": last.get("generator_loss"),
                         "discriminator_loss": last.get("discriminator_loss"),
                         METRIC: last.get(f"train_{METRIC}"), f"val_{METRIC}": last.get(f"val_{METRIC}")}}
    real = comparable_rows(prepared.raw_test if real is None else real, prepared)
    synthetic = decode_rows(generate_encoded(fit.model, len(real), spec.training.seed), layout)
    metrics["quality"] = quality_report(real, synthetic, seed=spec.training.seed)
    return fit, metrics, layout
