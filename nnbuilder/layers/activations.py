"""Activation functions by name, with a line each for the help texts."""

from __future__ import annotations

from typing import Callable, Literal

from torch import nn

# name -> (module factory, plain-language one-liner). The one-liner is what the help tooltips list
# under every activation choice: what the function does and when a learner would pick it.
ACTIVATIONS: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "relu": (nn.ReLU, "max(0, x): fast, the usual default for hidden layers; a unit stuck below 0 outputs 0 "
             "for good (it 'dies')"),
    "leaky_relu": (lambda: nn.LeakyReLU(0.01), "like relu but lets a small slope (1%) through below 0, so units "
                   "cannot die; try it when many relu units are dead, and in GAN discriminators"),
    "elu": (nn.ELU, "a smooth relu whose negative side bends down to -1, keeping outputs centred near 0; often "
            "learns a little faster than relu"),
    "gelu": (nn.GELU, "a smooth relu that lets small negative values through softly; the default inside "
             "transformers"),
    "selu": (nn.SELU, "self-normalising: keeps outputs near mean 0 and spread 1 through deep plain dense stacks "
             "without batch normalisation; plain dropout upsets it"),
    "sigmoid": (nn.Sigmoid, "squashes to (0, 1); flat for large inputs (it saturates), so gradients vanish and deep "
                "stacks learn slowly"),
    "tanh": (nn.Tanh, "squashes to (-1, 1), centred on 0, so it learns better than sigmoid, but it still saturates "
             "for large inputs"),
    "softplus": (nn.Softplus, "log(1 + e^x): a smooth relu that never quite reaches 0, so units do not die; a "
                 "little slower"),
    "linear": (nn.Identity, "no non-linearity (output = input): stacked linear layers collapse into one "
               "straight-line model; fits a residual block's last layer"),
}

ActivationName = Literal[tuple(ACTIVATIONS)]  # the choices are the table above, so they cannot drift apart
assert set(ActivationName.__args__) == set(ACTIVATIONS), "keep ActivationName in step with ACTIVATIONS"


def make_activation(name: str) -> nn.Module:
    return ACTIVATIONS[name][0]()
