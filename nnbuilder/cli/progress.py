"""The CLI's training observer: a one-line progress bar on a terminal, sparse lines otherwise."""

from __future__ import annotations

import sys
import time

from nnbuilder.train.events import BatchProgress, EpochEnded, FitEnded, FitFailed, FitStarted


class ProgressPrinter:
    def __init__(self, stream=None, width: int = 28):
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.width = width
        self.metric = "metric"
        self.started = time.perf_counter()
        self.last_line = 0.0

    def __call__(self, event) -> None:
        if isinstance(event, FitStarted):
            self.metric, self.started = event.metric, time.perf_counter()
            self._line(f"training on {event.device}: {event.n_train} rows, {event.parameters:,} parameters, "
                       f"up to {event.epochs} epochs", end="\n")
        elif isinstance(event, EpochEnded):
            self._epoch(event)
        elif isinstance(event, BatchProgress) and self.tty:
            pass  # epochs are short enough that the epoch bar is the useful one
        elif isinstance(event, FitEnded):
            self._line(f"{event.reason.replace('_', ' ')} after {event.epochs_run} epochs "
                       f"(best epoch {event.best_epoch}) in {event.seconds:.1f}s", end="\n", newline_first=self.tty)
        elif isinstance(event, FitFailed):
            self._line(f"training failed: {event.message}", end="\n", newline_first=self.tty)

    def _epoch(self, event: EpochEnded) -> None:
        record = event.record
        val = record.get(f"val_{self.metric}")
        shown = val if val is not None else record.get(f"train_{self.metric}")
        text = (f"epoch {event.epoch}/{event.epochs} loss {record['train_loss']:.4f}"
                + (f" val_loss {record['val_loss']:.4f}" if record.get("val_loss") is not None else "")
                + (f" {self.metric} {shown:.3f}" if shown is not None else ""))
        if self.tty:
            done = int(self.width * event.epoch / event.epochs)
            elapsed = time.perf_counter() - self.started
            left = elapsed / event.epoch * (event.epochs - event.epoch)
            self._line(f"\r[{'#' * done}{'.' * (self.width - done)}] {text} ~{left:.0f}s left ", end="")
        elif time.perf_counter() - self.last_line > 2.0 or event.epoch in (1, event.epochs):
            self.last_line = time.perf_counter()
            self._line(text, end="\n")

    def _line(self, text: str, end: str, newline_first: bool = False) -> None:
        self.stream.write(("\n" if newline_first else "") + text + end)
        self.stream.flush()
