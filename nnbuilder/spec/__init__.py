"""The spec: `NetworkSpec`, the one contract between the app, the CLI and the engine (DESIGN rule 1).

    network.py       NetworkSpec and its sections (data, split, training); parse, load, save, defaults
    inputs.py        the `input` section: tabular, image, sequence
    layers.py        the layer union, read from the layer registry at validation time
    task_sections.py the autoencoder's and the GAN's own settings
    task_names.py    the task choices, filled by nnbuilder.tasks when a task registers
    optimizers.py    optimizer and schedule names with their help
    messages.py      pydantic's errors as one readable line each, with the path they belong to
"""

from nnbuilder.spec.messages import did_you_mean
from nnbuilder.spec.network import (INPUT_KINDS, AutoencoderSpec, DataSpec, GanSpec, ImageInputSpec, NetworkSpec,
                                    SequenceInputSpec, SplitSpec, TabularInputSpec, TrainingSpec, default_spec,
                                    load_spec, parse_spec, spec_to_json)
from nnbuilder.spec.optimizers import OPTIMIZER_HELP, SCHEDULE_HELP
from nnbuilder.spec.task_names import AUTO, TASK_CHOICES, TaskChoice, register_task_choice, unregister_task_choice

__all__ = ["AUTO", "INPUT_KINDS", "OPTIMIZER_HELP", "SCHEDULE_HELP", "TASK_CHOICES", "AutoencoderSpec", "DataSpec",
           "GanSpec", "ImageInputSpec", "NetworkSpec", "SequenceInputSpec", "SplitSpec", "TabularInputSpec",
           "TaskChoice", "TrainingSpec", "default_spec", "did_you_mean", "load_spec", "parse_spec",
           "register_task_choice", "spec_to_json", "unregister_task_choice"]
