"""Adversarial training for the GAN task: a `FitStep` on the shared trainer (nnbuilder.train.trainer), so the
GAN gets the same loop (data on the device, a permutation per epoch, no sync per batch), the same events,
cancel, and the spec's optimizer, learning-rate schedule, weight decay, L1 and early-stopping patience.

Each batch: one discriminator step (real rows labelled 0.9, one-sided label smoothing, generated rows 0),
then one generator step with the non-saturating loss (generated rows labelled 1). The discriminator's
learning rate is the spec's times `gan.discriminator_lr_factor`. History rows keep the trainer's keys so
the live curves work: `train_loss` is the generator's loss and `val_loss` the discriminator's (both also
under their own names, `generator_loss` and `discriminator_loss`); the metric is the discriminator's
accuracy on real versus generated rows (training batches, and the validation rows against as many fresh
generated rows).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from nnbuilder.tasks.gan.networks import (build_discriminator, build_generator, comparable_rows, decode_rows,
                                         generate_encoded, output_layout, with_ranges)
from nnbuilder.tasks.gan.quality import quality_report
from nnbuilder.train.optim import make_optimizer
from nnbuilder.train.step import Split, diverged, with_l1
from nnbuilder.train.trainer import Trainer

METRIC = "discriminator_accuracy"
REAL_LABEL = 0.9  # one-sided label smoothing: a discriminator that is never fully sure keeps gradients alive
# Adam with less momentum (beta1 0.5 instead of 0.9), the usual GAN setting since DCGAN: each player's
# target moves with the other's updates, and long momentum overshoots it. Other optimizers keep their own.
ADAM_BETAS = (0.5, 0.999)
ADAM_FAMILY = ("adam", "adamw")


class GanPair(nn.Module):
    """The generator and the discriminator as one module, so the trainer moves, counts and switches both."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator


def gan_optimizer(training, params, learning_rate: float) -> torch.optim.Optimizer:
    """The spec's optimizer (weight decay and momentum included) at `learning_rate`, Adam with GAN betas."""
    optimizer = make_optimizer(training.optimizer, params, learning_rate, training.weight_decay, training.momentum)
    if training.optimizer in ADAM_FAMILY:
        optimizer.defaults["betas"] = ADAM_BETAS
        for group in optimizer.param_groups:
            group["betas"] = ADAM_BETAS
    return optimizer


class AdversarialStep:
    """The trainer's step for a `GanPair`: trains on rows alone (the targets are the rows themselves).

    Early stopping and plateau schedules watch how far the discriminator's validation accuracy (real rows
    against as many fresh generated ones; the training batches' accuracy without a validation split) is from
    0.5, the chance level: a generator whose rows the discriminator cannot tell from real ones is the goal, and
    the losses cannot say that (each player's loss rises when the other improves). Patience then counts
    epochs in which the discriminator was never more fooled than before: the game has stalled. It is a rough
    signal (the rows' quality swings from epoch to epoch long after it settles), so the GAN preset trains all
    its epochs (patience 0).
    Best weights are not restored: that distance is measured against a discriminator that changes too, so an
    epoch that scored best may have had a weak discriminator rather than a good generator; it is good enough
    to tell that progress stopped, not to pick an earlier generator. The last weights are kept.
    """

    metric = METRIC
    restores_best_weights = False

    def __init__(self, training, gan):
        self.training, self.gan = training, gan
        self.bce = nn.BCEWithLogitsLoss(reduction="sum")

    def targets(self, y: torch.Tensor) -> torch.Tensor:
        return y.float()

    def start(self, pair: GanPair, train: Split, val: Split | None) -> list[torch.optim.Optimizer]:
        lr = self.training.learning_rate
        self.opt_g = gan_optimizer(self.training, pair.generator.parameters(), lr)
        self.opt_d = gan_optimizer(self.training, pair.discriminator.parameters(), lr * self.gan.discriminator_lr_factor)
        self.train_rows = train.rows
        return [self.opt_g, self.opt_d]  # the generator's learning rate is the history's `lr`

    def train_batch(self, pair: GanPair, real: torch.Tensor, _targets) -> torch.Tensor:
        """(generator loss sum, discriminator loss sum, correct calls) for this batch of real rows (batch, features)."""
        generator, discriminator, bce, l1 = pair.generator, pair.discriminator, self.bce, self.training.l1
        rows = real.shape[0]
        fake = generator(torch.randn(rows, generator.noise_dim, device=real.device))  # (batch, features)
        # Discriminator step: real rows -> REAL_LABEL, generated rows -> 0 (the generator is not updated).
        self.opt_d.zero_grad(set_to_none=True)
        real_logits, fake_logits = discriminator(real), discriminator(fake.detach())
        loss_d = (bce(real_logits, torch.full_like(real_logits, REAL_LABEL))
                  + bce(fake_logits, torch.zeros_like(fake_logits))) / 2
        with_l1(loss_d / rows, discriminator, l1).backward()
        self.opt_d.step()
        # Generator step: make the discriminator call its rows real (non-saturating loss).
        self.opt_g.zero_grad(set_to_none=True)
        fooled = discriminator(fake)
        loss_g = bce(fooled, torch.ones_like(fooled))
        with_l1(loss_g / rows, generator, l1).backward()
        self.opt_g.step()
        correct = (real_logits > 0).sum() + (fake_logits <= 0).sum()
        return torch.stack([loss_g.detach(), loss_d.detach(), correct.float()])

    @torch.no_grad()
    def epoch_record(self, pair: GanPair, batches, sizes, val: Split | None, epoch: int) -> dict:
        g_sum, d_sum, correct = torch.stack(batches).sum(dim=0).tolist()  # (batches, 3) summed, read once
        if not (math.isfinite(g_sum) and math.isfinite(d_sum)):
            raise diverged(epoch, "a loss became not a number", self.training.learning_rate)
        rows = self.train_rows
        g_loss, d_loss = g_sum / rows, d_sum / rows
        record = {"epoch": epoch, "train_loss": g_loss, "val_loss": d_loss, "generator_loss": g_loss,
                  "discriminator_loss": d_loss, f"train_{METRIC}": correct / (2 * rows), f"val_{METRIC}": None}
        if val is not None:
            pair.eval()
            generator, discriminator = pair.generator, pair.discriminator
            fake = generator(torch.randn(val.rows, generator.noise_dim, device=val.x.device))
            calls = (discriminator(val.x) > 0).sum() + (discriminator(fake) <= 0).sum()
            record[f"val_{METRIC}"] = float(calls) / (2 * val.rows)
        return record

    def monitored(self, record: dict) -> float:
        accuracy = record[f"val_{METRIC}"]
        return abs((record[f"train_{METRIC}"] if accuracy is None else accuracy) - 0.5)


def fit_gan(spec, prepared, *, device: str = "auto", observers=None, cancel=None, real=None, callbacks=()):
    """Builds and trains the generator and discriminator for `prepared` (a `gan` task), then scores the
    generated rows against `real` (the raw table; default: the test rows) with the quality report.

    Returns (FitResult whose model is the generator, metrics, layout): metrics are {"train": the last epoch's
    losses and discriminator accuracy, "quality": `synthetic_quality.quality_report`}.
    """
    layout = with_ranges(output_layout(prepared), prepared.X_train)
    torch.manual_seed(spec.training.seed)  # same initial weights for the same seed
    generator = build_generator(spec, layout)
    discriminator = build_discriminator(spec, len(prepared.feature_names))
    trainer = Trainer(spec.training, "gan", device=device, observers=list(observers or []), cancel=cancel,
                      step=AdversarialStep(spec.training, spec.gan_settings), callbacks=list(callbacks))
    # The rows are their own targets (`y is X`): one copy on the device.
    fit = trainer.fit(GanPair(generator, discriminator), prepared.X_train, prepared.X_train,
                      prepared.X_val, prepared.X_val)
    fit.model = generator  # what the bundle keeps and generates with
    last = fit.history[-1] if fit.history else {}
    metrics = {"train": {"generator_loss": last.get("generator_loss"),
                         "discriminator_loss": last.get("discriminator_loss"),
                         METRIC: last.get(f"train_{METRIC}"), f"val_{METRIC}": last.get(f"val_{METRIC}")}}
    real = comparable_rows(prepared.raw_test if real is None else real, prepared)
    synthetic = decode_rows(generate_encoded(fit.model, len(real), spec.training.seed), layout)
    metrics["quality"] = quality_report(real, synthetic, seed=spec.training.seed)
    return fit, metrics, layout
