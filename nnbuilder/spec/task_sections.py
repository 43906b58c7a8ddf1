"""The spec's sections for the tasks with networks of their own: the autoencoder's latent layer and decoder,
the GAN's noise and discriminator. Kept apart from `spec.py` so each reads in one place."""

from __future__ import annotations

from pydantic import Field, model_validator

from nnbuilder.spec.inputs import StrictSpec as _Strict
from nnbuilder.spec.layers import LayerSpec

class AutoencoderSpec(_Strict):
    """The autoencoder task's network: `layers` is the encoder, then a linear latent layer, then the decoder.

    The decoder mirrors the encoder unless `mirror_decoder` is off; the output rebuilds every input feature.
    """

    latent_dim: int = Field(
        2, ge=1, le=1024,
        description="Neurons in the narrow middle (latent) layer every row is squeezed through; 2 can be plotted "
        "directly. Too few loses detail, so even normal rows rebuild badly; too many lets the network copy its "
        "input and rebuild anomalies well too.",
    )
    mirror_decoder: bool = Field(
        True,
        description="Build the decoder as the encoder's mirror image (its dense layers in reverse order, same units "
        "and activations): the usual choice. Turn it off to stack your own decoder layers.",
    )
    decoder: list[LayerSpec] = Field(
        default_factory=list,
        description="The decoder's hidden layers, first to last, when mirror_decoder is off (ignored otherwise): they "
        "widen the latent vector back towards the input's size.",
    )
    threshold_quantile: float = Field(
        0.95, gt=0.0, lt=1.0,
        description="Rows rebuilt worse than this share of the training rows are flagged as anomalies (0.95: worse "
        "than 95%). Higher flags fewer rows and misses more anomalies; lower catches more but raises false alarms. "
        "The Evaluate page can change it later.",
        json_schema_extra={"ui": {"step": 0.01}},
    )

    @model_validator(mode="after")
    def _has_decoder(self):
        if not self.mirror_decoder and not self.decoder:
            raise ValueError("has mirror_decoder off but no decoder layers; add at least one decoder layer "
                             "(e.g. a dense layer), or turn mirror_decoder on")
        return self


class GanSpec(_Strict):
    """The GAN task's networks: `layers` is the generator (noise -> row), `discriminator` the critic (row -> logit)."""

    noise_dim: int = Field(
        16, ge=1, le=1024,
        description="Random numbers fed to the generator for each row it makes: its source of variety. Too few and "
        "the rows look alike; more gives room for variety but makes training slower and harder. 8-64 is typical.",
    )
    discriminator: list[LayerSpec] = Field(
        default_factory=lambda: [{"type": "dense", "units": 64, "activation": "leaky_relu"},
                                 {"type": "dropout", "rate": 0.1},
                                 {"type": "dense", "units": 32, "activation": "leaky_relu"}],
        validate_default=True, description="The discriminator's hidden layers, first to last: it learns to tell real rows from generated "
        "ones, and the generator learns to fool it.",
    )
    discriminator_lr_factor: float = Field(
        1.0, gt=0.0, le=100.0,
        description="The discriminator's learning rate as a multiple of training.learning_rate. Lower it (e.g. 0.5) "
        "when the discriminator wins too easily and the generator stops improving; raise it when the generator "
        "fools it from the start.",
    )
