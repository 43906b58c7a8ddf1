"""Activation functions by name, with a line each for the help texts."""

from __future__ import annotations

from typing import Callable, Literal

from torch import nn

# name -> (module factory, plain-language description)
ACTIVATIONS: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "relu": (nn.ReLU, "max(0, x): fast, the usual default; units can 'die' and output 0 forever"),
    "leaky_relu": (lambda: nn.LeakyReLU(0.01), "like relu but lets a little through below 0, so units do not die"),
    "elu": (nn.ELU, "smooth relu with negative outputs that push the mean towards 0"),
    "gelu": (nn.GELU, "smooth relu used in transformers"),
    "selu": (nn.SELU, "self-normalising; pairs with deep plain stacks"),
    "sigmoid": (nn.Sigmoid, "squashes to (0, 1); saturates, so deep stacks learn slowly"),
    "tanh": (nn.Tanh, "squashes to (-1, 1); zero-centred sigmoid"),
    "softplus": (nn.Softplus, "smooth version of relu"),
    "linear": (nn.Identity, "no non-linearity: stacked linear layers collapse into one linear map"),
}

ActivationName = Literal["relu", "leaky_relu", "elu", "gelu", "selu", "sigmoid", "tanh", "softplus", "linear"]
assert set(ActivationName.__args__) == set(ACTIVATIONS), "keep ActivationName in step with ACTIVATIONS"


def make_activation(name: str) -> nn.Module:
    return ACTIVATIONS[name][0]()
