"""Plain meanings of the few technical words the help texts cannot avoid.

The field descriptions stay short by using words like "overfits" or "gradient"; a learner who has
never met them gets the meaning right under the text. `glossed_terms` finds which entries a text
uses (by word stem, so "overfits" and "overfitting" both count) and the widgets append those lines
to the tooltip. Keep each meaning to one line a newcomer understands without another term.
"""

from __future__ import annotations

import re

# term -> (pattern of its word forms, meaning), most important first: a tooltip shows the first
# MAX_TERMS entries its text uses. The pattern starts at a word boundary.
GLOSSARY: dict[str, tuple[str, str]] = {
    "overfitting": (r"overfit", "the network memorises the training rows, noise included: the training loss keeps "
                                "falling while the validation loss rises"),
    "underfitting": (r"underfit", "the network is too small or too held back to learn the pattern: training and "
                                  "validation loss both stay high"),
    "gradient": (r"gradients?\b", "for each weight, which way and how strongly to change it to lower the loss"),
    "saturation": (r"saturat", "a squashing function is flat for large inputs, so its gradient is near zero and "
                               "learning stalls"),
    "validation loss": (r"validation loss", "the error on the validation rows, which the network watches but never "
                                            "learns from"),
    "latent": (r"latent\b", "the compressed middle of the network: a few numbers that summarise each row"),
    "epoch": (r"epochs?\b", "one pass over all the training rows"),
    "neuron": (r"neurons?\b", "one unit of a layer: it weighs its inputs, adds them up and applies the activation"),
    "parameters": (r"parameters\b", "the weights and biases the network learns; more need more data"),
    "channel": (r"channels?\b", "one sheet of values per position: red, green and blue are 3; each conv filter "
                                "makes one more"),
}

MAX_TERMS = 3  # a tooltip, not a dictionary: only the most important terms a text uses


def glossed_terms(text: str, limit: int = MAX_TERMS) -> list[tuple[str, str]]:
    """(term, meaning) for the most important glossary entries `text` uses, in the order they appear."""
    found = []
    for term, (pattern, meaning) in GLOSSARY.items():
        match = re.search(rf"\b{pattern}", text, re.IGNORECASE)
        if match:
            found.append((match.start(), term, meaning))
    return [(term, meaning) for _, term, meaning in sorted(found[:limit])]
