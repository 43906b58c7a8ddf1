"""One self-contained .onnx file: raw columns in, predictions out, the preprocessing inside.

The graph is four parts joined with `onnx.compose.merge_models` (each part but the first prefixed, so no
name can clash with a column's):
    inputs         a few hand-written nodes for what no converter does: numbers inf -> NaN (the app reads
                   inf as missing) and yes/no spellings -> 'true'/'false' (the app's yes/no normalisation)
    preprocessing  skl2onnx's conversion of the fitted ColumnTransformer (impute, scale, one-hot ...)
    network        torch.onnx.export (dynamo) of `bundle.model` inside a wrapper that adds what predict adds:
                   probabilities (softmax/sigmoid), target un-standardising, anomaly scores, pixel scaling
    labels         a Gather of the class labels by the argmax index (classifiers only)
An image model has no first two parts: its one input `pixels` goes straight to the wrapped network.

The input contract (names, types, what missing looks like) is in the model's metadata_props as JSON
(`nnbuilder_inputs`, see export_onnx_check.input_contract), next to the task, classes and targets. Before
writing, the file is run with ONNX Runtime on the caller's check rows and on synthetic probe rows and
compared with `Bundle.predict`; a file that disagrees is refused and nothing is written.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import onnx.version_converter
import torch
from onnx import TensorProto, compose, helper, numpy_helper
from torch import nn

from nnbuilder import __version__
from nnbuilder.data.features import input_names
from nnbuilder.errors import ExportError
from nnbuilder.export.files import write_atomic
from nnbuilder.export.onnx.check import (UNKNOWN_SPELLING, boolean_table, check_export, input_contract, label_array,
                                metadata_props, output_contract, require_columns)
from nnbuilder.model.heads import get_head, probabilities
from nnbuilder.tasks import get_task

OPSET = 18  # the default ONNX domain for every part, so merge_models accepts them (ORT >= 1.14 runs it)
IR_VERSION = 10  # what torch's exporter writes; the other parts are raised to it so they can merge


def export(bundle, out: Path, check_rows=None) -> Path:
    """Write `bundle` as one .onnx file at `out` after checking it against `bundle.predict`; returns `out`."""
    kind = bundle.meta.get("input_kind", "tabular")
    refusal = get_task(bundle.task).export_refusal("onnx")  # the task's record says which exports it supports
    if refusal:
        raise ExportError(refusal)
    if kind == "sequence":
        raise ExportError(f"this bundle is a {kind} {bundle.task} model; ONNX export covers tabular and image models "
                          "only: use '--format torchscript' (the network alone) or '--format python' (a training "
                          "script)")
    out = Path(out)
    require_columns(bundle, check_rows)  # before the slow build: bad rows or a bad path fail at once
    _prepare_folder(out)
    model = build_onnx(bundle)
    check_export(bundle, model, check_rows)  # ExportError when ONNX Runtime disagrees with Bundle.predict
    return write_atomic(out, model.SerializeToString())


def build_onnx(bundle) -> onnx.ModelProto:
    """The whole graph for `bundle`, with its contract in metadata_props (not yet checked)."""
    contract = input_contract(bundle)
    image = bundle.meta.get("input_kind") == "image"
    preprocessing = None if image else _preprocessing_part(bundle, contract)  # fast: fails before the slow part
    network = _network_part(bundle)
    if image:
        model = network
    else:
        model = _merge(_inputs_part(bundle, contract), preprocessing,
                       [(f"nnb_in_{i}", item["feeds"]) for i, item in enumerate(contract)], "pre/")
        model = _merge(model, network, [("pre/" + preprocessing.graph.output[0].name, "features")], "net/")
    if get_head(bundle.task).is_classification:
        index = next(o.name for o in model.graph.output if o.name.endswith("label_index"))
        model = _merge(model, _labels_part(bundle.classes), [(index, "label_index")], "lab/")
    _publish_outputs(model, bundle)
    model.producer_name, model.producer_version = "nnbuilder", __version__
    model.doc_string = f"nnbuilder {bundle.task} model: raw columns in, predictions out; see metadata_props"
    helper.set_model_props(model, metadata_props(bundle, contract))
    onnx.checker.check_model(model)
    return model


# ---- the network: torch wrappers that add what Bundle.predict adds to the raw network outputs ----

class _Classifier(nn.Module):
    def __init__(self, network: nn.Module, kind: str):
        super().__init__()
        self.network, self.kind = network, kind

    def forward(self, features):  # (batch, features) -> (batch,) index, (batch, classes)
        proba = probabilities(self.kind, self.network(features))
        return proba.argmax(dim=1), proba


class _Regressor(nn.Module):
    def __init__(self, network: nn.Module, mean, std):
        super().__init__()
        self.network = network
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))  # (targets,)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32))

    def forward(self, features):  # (batch, features) -> (batch,) or (batch, targets) in original units
        values = self.network(features) * self.std + self.mean
        return values[:, 0] if values.shape[1] == 1 and self.mean.numel() == 1 else values


class _Anomaly(nn.Module):
    """Same score as anomaly.reconstruction_errors: mean squared error of the rebuilt standardised features."""

    def __init__(self, network: nn.Module, threshold: float):
        super().__init__()
        self.network, self.threshold = network, float(threshold)

    def forward(self, features):  # (batch, features) -> (batch,) score, (batch,) flag
        score = ((self.network(features) - features) ** 2).mean(dim=1)
        return score, score > self.threshold


class _Pixels(nn.Module):
    """Image input as the table stores it: (batch, pixels) in column order -> scaled (batch, C, H, W)."""

    def __init__(self, inner: nn.Module, pixel_max: float, shape):
        super().__init__()
        self.inner, self.pixel_max, self.shape = inner, float(pixel_max), tuple(int(d) for d in shape)

    def forward(self, pixels):
        return self.inner((pixels / self.pixel_max).reshape(-1, *self.shape))


def _wrapper(bundle) -> tuple[nn.Module, list[str]]:
    meta, task = bundle.meta, bundle.task
    head = get_head(task)
    if head.is_classification:
        module, names = _Classifier(bundle.model, task), ["label_index", "probabilities"]
    elif head.rebuilds_input:  # the reconstruction error is the answer: an anomaly score and its flag
        if meta.get("anomaly_threshold") is None:
            raise ExportError("this autoencoder bundle has no anomaly threshold in meta.json; retrain and save it "
                              "with this version of nnbuilder before exporting to ONNX")
        module, names = _Anomaly(bundle.model, meta["anomaly_threshold"]), ["anomaly_score", "anomaly"]
    else:
        module, names = _Regressor(bundle.model, meta["target_mean"], meta["target_std"]), ["prediction"]
    if meta.get("input_kind") == "image":
        module = _Pixels(module, bundle.preprocessing.pixel_max, bundle.preprocessing.image_shape)
    return module.eval(), names


def _network_part(bundle) -> onnx.ModelProto:
    module, names = _wrapper(bundle)
    image = bundle.meta.get("input_kind") == "image"
    width = len(bundle.preprocessing.pixel_columns) if image else int(np.prod(bundle.meta["input_shape"]))
    example = torch.zeros(3, width)  # 3 rows: a batch of 1 could be specialised into the graph
    batch = torch.export.Dim("N")  # the batch dimension, named as in the other parts
    try:
        with _quiet():
            program = torch.onnx.export(module, (example,), dynamo=True, opset_version=OPSET,
                                        input_names=["pixels" if image else "features"], output_names=names,
                                        dynamic_shapes=({0: batch},), verbose=False)
    except Exception as exc:  # a layer the exporter cannot trace is not the user's mistake, but they must hear it
        raise ExportError(f"torch's ONNX exporter cannot export this network ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}); use '--format torchscript' instead") from None
    return program.model_proto


@contextmanager
def _quiet():
    """The exporter logs missing optional packages (torchvision) and deprecations that say nothing to users."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


# ---- the preprocessing: skl2onnx, plus the input nodes no converter provides ----

def _preprocessing_part(bundle, contract: list[dict]) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    transformer = _with_text_missing_as_blank(bundle.preprocessing.preprocessor, contract)
    types = {item["feeds"]: item["type"] for item in contract}
    initial = [(name, StringTensorType([None, 1]) if types[name] == "string" else FloatTensorType([None, 1]))
               for name in input_names(transformer)]
    try:
        return convert_sklearn(transformer, initial_types=initial, target_opset={"": OPSET, "ai.onnx.ml": 2})
    except Exception as exc:  # a preprocessing step skl2onnx has no converter for
        raise ExportError(f"skl2onnx cannot convert this model's preprocessing ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}); use '--format torchscript' instead") from None


def _with_text_missing_as_blank(transformer, contract: list[dict]):
    """A copy whose text imputers treat "" as missing: a string tensor has no NaN, and skl2onnx's string
    imputer needs a string marker. Fitted statistics are untouched, so the encoding is the same."""
    from copy import deepcopy

    from sklearn.impute import SimpleImputer

    text = {item["feeds"] for item in contract if item["type"] == "string"}
    copy = deepcopy(transformer)
    for _, step, columns in copy.transformers_:
        if isinstance(columns, (list, tuple)) and columns and set(columns) <= text:
            for part in getattr(step, "named_steps", {"step": step}).values():
                if isinstance(part, SimpleImputer):
                    part.missing_values = ""
    return copy


def _inputs_part(bundle, contract: list[dict]) -> onnx.ModelProto:
    """Graph inputs named as the contract says; output nnb_in_<i> for the i-th input, ready for skl2onnx."""
    nodes, inputs, outputs = [], [], []
    nan = numpy_helper.from_array(np.array(np.nan, dtype=np.float32), "nnb_nan")
    for i, item in enumerate(contract):
        name, out = item["name"], f"nnb_in_{i}"
        elem = TensorProto.STRING if item["type"] == "string" else TensorProto.FLOAT
        inputs.append(helper.make_tensor_value_info(name, elem, ["N", 1]))
        outputs.append(helper.make_tensor_value_info(out, elem, ["N", 1]))
        if item["role"] == "boolean":  # the app's spellings (any letter case) -> 'true'/'false', "" stays missing
            keys, values = boolean_table(item.get("categories", []))
            nodes.append(helper.make_node("LabelEncoder", [name], [out], domain="ai.onnx.ml", keys_strings=keys,
                                          values_strings=values, default_string=UNKNOWN_SPELLING))
        elif item["type"] == "string":
            nodes.append(helper.make_node("Identity", [name], [out]))
        else:  # build_frame reads inf as missing; the imputer only replaces NaN
            nodes.append(helper.make_node("IsInf", [name], [f"nnb_inf_{i}"]))
            nodes.append(helper.make_node("Where", [f"nnb_inf_{i}", "nnb_nan", name], [out]))
    graph = helper.make_graph(nodes, "nnbuilder_inputs", inputs, outputs, initializer=[nan])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                   helper.make_opsetid("ai.onnx.ml", 2)])


def _labels_part(classes: list) -> onnx.ModelProto:
    """label_index (N,) -> prediction (N,): a Gather on the class labels, as no converter maps an index to
    a label. Labels keep their type: text -> string, whole numbers -> int64, true/false -> bool."""
    labels = label_array(classes)
    table = numpy_helper.from_array(labels, "classes")
    elem = helper.np_dtype_to_tensor_dtype(labels.dtype) if labels.dtype != object else TensorProto.STRING
    graph = helper.make_graph(
        [helper.make_node("Gather", ["classes", "label_index"], ["prediction"], axis=0)], "nnbuilder_labels",
        [helper.make_tensor_value_info("label_index", TensorProto.INT64, ["N"])],
        [helper.make_tensor_value_info("prediction", elem, ["N"])], initializer=[table])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


# ---- joining and naming ----

def _merge(first: onnx.ModelProto, second: onnx.ModelProto, io_map, prefix: str) -> onnx.ModelProto:
    """merge_models once both parts speak the same IR and opset versions; `prefix` goes on the second part."""
    ml = max((o.version for m in (first, second) for o in m.opset_import if o.domain == "ai.onnx.ml"), default=0)
    first, second = _at_versions(first, ml), compose.add_prefix(_at_versions(second, ml), prefix)
    merged = compose.merge_models(first, second, [(a, prefix + b) for a, b in io_map])
    versions = {o.domain: o.version for o in merged.opset_import}  # merge_models lists each part's imports
    del merged.opset_import[:]
    merged.opset_import.extend(helper.make_opsetid(domain, v) for domain, v in versions.items())
    return merged


def _at_versions(part: onnx.ModelProto, ml: int) -> onnx.ModelProto:
    """skl2onnx picks the lowest opset its nodes need; the version converter lifts it to OPSET (adapting any
    node whose definition changed). The ai.onnx.ml version is only raised: the LabelEncoder, Imputer, Scaler
    and encoders it holds keep their attributes in later versions."""
    if any(o.domain in ("", "ai.onnx") and o.version != OPSET for o in part.opset_import):
        try:
            part = onnx.version_converter.convert_version(part, OPSET)
        except Exception as exc:  # an op without an adapter: the file cannot be made, say so in one line
            raise ExportError(f"cannot bring the preprocessing graph to ONNX opset {OPSET} ({type(exc).__name__}: "
                              f"{str(exc).splitlines()[0][:200]}); use '--format torchscript' instead") from None
    for entry in part.opset_import:
        if entry.domain == "ai.onnx.ml":
            entry.version = ml
    part.ir_version = IR_VERSION
    return part


def _publish_outputs(model: onnx.ModelProto, bundle) -> None:
    """Keep only the documented outputs, under their documented names (without the part prefixes)."""
    wanted = [item["name"] for item in output_contract(bundle)]
    renames = {o.name: o.name.rsplit("/", 1)[-1] for o in model.graph.output if o.name.rsplit("/", 1)[-1] in wanted}
    keep = [o for o in model.graph.output if o.name in renames]
    del model.graph.output[:]
    for out in sorted(keep, key=lambda o: wanted.index(renames[o.name])):
        out.name = renames[out.name]
        del out.metadata_props[:]  # torch's notes on its own graph
        for dim in out.type.tensor_type.shape.dim:
            if dim.HasField("dim_param"):
                dim.dim_param = "N"  # one name for the batch dimension everywhere
        model.graph.output.append(out)
    for node in model.graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]


def _prepare_folder(out: Path) -> None:
    if out.is_dir():
        raise ExportError(f"{out} is a folder; give the path of the .onnx file to write, e.g. {out / 'model.onnx'}")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {out.parent} ({exc.strerror}); choose another place for "
                          "the .onnx file") from None
