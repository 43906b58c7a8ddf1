"""The optimizer and learning-rate schedule names a spec may choose, each with its one-line help.

The names live in the spec because the spec validates them and the front ends show them as choices; the
training code (nnbuilder.train.optim) builds one optimizer or schedule per name here and fails at import
when the two disagree. The help lines are tooltips, and the generated script also uses the optimizer's
as a docstring, so they stay short (that script's lines must fit 110 characters).
"""

from __future__ import annotations

OPTIMIZER_HELP = {
    "sgd": "plain gradient descent with momentum; simple, but needs a well-tuned learning rate (0.01-0.1)",
    "adam": "adapts each weight's step to its recent gradients; the robust default (learning rate ~0.001)",
    "adamw": "Adam with weight decay applied straight to the weights; regularises better than adam",
    "rmsprop": "scales each step by its gradients' recent size; steady on noisy or recurrent problems",
}

# What the schedule does and why a learner would pick it.
SCHEDULE_HELP = {
    "none": "keep the learning rate constant; simplest, and fine with adam and early stopping",
    "step": "divide the learning rate by 10 every third of the epochs: big steps first, then fine-tuning",
    "cosine": "glide the learning rate smoothly down to zero by the last epoch along a cosine curve; often "
              "ends at a lower loss",
    "reduce_on_plateau": "divide the learning rate by 10 when the validation loss stops improving (for half "
                         "the early-stopping patience); adapts to the run",
}
