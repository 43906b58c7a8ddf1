"""Loading a bundle or a spec never executes code from it.

What tests/test_bundle.py covers already (not repeated here): a pickle dropped into a bundle is refused by
name, weights altered with the manifest left alone are refused (checksum), missing files are refused and a zip
member named `../escape.json` is refused.

The manifest is an INTEGRITY check, not a signature: it catches a damaged or half-edited bundle, but whoever
can write the folder can rewrite manifest.json to match (the "attacker" tests below do just that). What keeps
such a bundle harmless is that nothing in it is code: weights are safetensors (tensors only, loaded into an
architecture built from the validated spec), the preprocessing is skops restricted to scikit-learn types,
and everything else is JSON read as data. So an attacker's bundle is refused or, at worst, predicts badly.
"""

import ast
import hashlib
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio
import torch
from safetensors.torch import load_file
from sklearn.preprocessing import FunctionTransformer

import nnbuilder
from nnbuilder.bundle.bundle import bundle_zip_bytes, load_bundle, save_bundle
from nnbuilder.data.pipeline import load_table
from nnbuilder.errors import BundleError, SpecError
from nnbuilder.evaluate.metrics import model_outputs
from nnbuilder.spec.network import load_spec, parse_spec
from nnbuilder.runs.workflow import train_from_spec

PACKAGE = Path(nnbuilder.__file__).resolve().parent


def _train(folder, units: int, seed: int):
    df, _ = load_table("sample:customers")
    spec = parse_spec({"data": {"target": "churned"}, "layers": [{"type": "dense", "units": units}],
                       "training": {"epochs": 2, "learning_rate": 0.01, "seed": seed}})
    trained = train_from_spec(df, spec, device="cpu")
    return df, trained, save_bundle(trained, folder)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Three customer models: the victim (8 units), same shapes other seed, other shapes (12 units)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        root = tmp_path_factory.mktemp("safety")
        return {name: _train(root / name, units, seed)
                for name, units, seed in [("victim", 8, 0), ("twin", 8, 1), ("wider", 12, 0)]}
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def victim(bundles, tmp_path):
    return Path(shutil.copytree(bundles["victim"][2], tmp_path / "victim"))


def _rewrite_manifest(folder: Path) -> None:
    """What an attacker does after editing a file: make the checksums match again."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in manifest}
    (folder / "manifest.json").write_text(json.dumps(manifest))


class _Payload:
    """Unpickling this creates `marker` (open(marker, 'w')): proof that something was unpickled."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def test_the_payload_would_run_if_unpickled(tmp_path):
    probe = tmp_path / "probe"
    pickle.loads(pickle.dumps(_Payload(probe))).close()  # the oracle for the tests below: it does fire
    assert probe.exists()


@pytest.mark.parametrize("name", ["evil.pkl", "weights.pt", "model.joblib"])
def test_a_dropped_in_pickle_is_refused_and_never_unpickled(victim, tmp_path, name):
    marker = tmp_path / "unpickled"
    (victim / name).write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(BundleError, match=rf"unexpected files \({name}\)"):
        load_bundle(victim)
    _rewrite_manifest(victim)  # listing it in the manifest does not help either
    with pytest.raises(BundleError, match=name):
        load_bundle(victim)
    assert not marker.exists()


@pytest.mark.parametrize("victim_file", ["preprocessing.skops", "weights.safetensors"])
def test_a_pickle_in_place_of_a_bundle_file_is_refused_and_never_unpickled(victim, tmp_path, victim_file):
    marker = tmp_path / "unpickled"
    (victim / victim_file).write_bytes(pickle.dumps(_Payload(marker)))
    _rewrite_manifest(victim)
    try:
        with pytest.raises(BundleError, match="damaged|not usable"):
            load_bundle(victim)
    finally:
        assert not marker.exists()


def test_weights_of_another_shape_are_refused_even_with_a_matching_manifest(bundles, victim):
    shutil.copy(bundles["wider"][2] / "weights.safetensors", victim / "weights.safetensors")
    with pytest.raises(BundleError, match="weights.safetensors was altered"):  # manifest left alone: checksum
        load_bundle(victim)
    _rewrite_manifest(victim)
    with pytest.raises(BundleError, match=r"weights.safetensors does not fit the network spec.json describes \(size "
                                          r"mismatch for 0.0.weight"):
        load_bundle(victim)


def test_weights_of_another_shape_get_one_readable_line(bundles, victim):
    shutil.copy(bundles["wider"][2] / "weights.safetensors", victim / "weights.safetensors")
    _rewrite_manifest(victim)
    with pytest.raises(BundleError) as refused:
        load_bundle(victim)
    assert "\n" not in str(refused.value)


def test_weights_of_the_same_architecture_load_the_manifest_is_no_signature(bundles, victim):
    df, twin, twin_folder = bundles["twin"]
    shutil.copy(twin_folder / "weights.safetensors", victim / "weights.safetensors")
    _rewrite_manifest(victim)
    swapped = load_bundle(victim)  # valid tensors for this architecture: loaded, as documented above
    state = swapped.model.state_dict()
    for name, tensor in load_file(str(twin_folder / "weights.safetensors")).items():
        torch.testing.assert_close(state[name], tensor, rtol=0, atol=0)
    victim_preprocessing = bundles["victim"][1].prepared.preprocessing
    expected = model_outputs(twin.model, victim_preprocessing.transform(df.head(20)), "binary")
    np.testing.assert_array_equal(swapped.predict(df.head(20))[["probability_no", "probability_yes"]], expected)


def test_preprocessing_naming_an_untrusted_type_is_refused(victim):
    (victim / "preprocessing.skops").write_bytes(sio.dumps(FunctionTransformer(func=print)))
    _rewrite_manifest(victim)
    with pytest.raises(BundleError, match=r"preprocessing.skops names types nnbuilder does not trust \(.*print"):
        load_bundle(victim)


def _edit_json(folder: Path, name: str, change) -> None:
    data = json.loads((folder / name).read_text())
    change(data)
    (folder / name).write_text(json.dumps(data))
    _rewrite_manifest(folder)


CODE = "__import__('os').system('touch {marker}')"


@pytest.mark.parametrize("change, message", [
    (lambda s, code: s.update({"__class__": code}), "__class__ is not a known setting"),
    (lambda s, code: s["training"].update({"callback": code}), "callback is not a known setting"),
    (lambda s, code: s["layers"][0].update({"activation": code}), "layers[0].activation must be one of"),
    (lambda s, code: s["layers"][0].update({"type": code}), "layers[0]"),
    (lambda s, code: s["training"].update({"epochs": code}), "training.epochs"),
])
def test_a_spec_with_extra_keys_or_code_is_refused(victim, tmp_path, change, message):
    marker = tmp_path / "ran"
    _edit_json(victim, "spec.json", lambda spec: change(spec, CODE.format(marker=marker)))
    with pytest.raises(BundleError, match="not usable") as refused:
        load_bundle(victim)
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not marker.exists()


def test_code_in_a_free_text_field_is_only_data(victim, tmp_path):
    marker = tmp_path / "ran"
    code = CODE.format(marker=marker)
    _edit_json(victim, "spec.json", lambda spec: spec["data"].update({"target": code, "drop_columns": [code]}))
    assert load_bundle(victim).spec.data.target == code  # a column name like any other, never evaluated
    assert not marker.exists()


def test_a_spec_file_is_data_too(tmp_path):
    marker = tmp_path / "ran"
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"layers": [{"type": "dense", "units": 4}],
                                "training": {"learning_rate": CODE.format(marker=marker)}}))
    with pytest.raises(SpecError, match="training.learning_rate"):
        load_spec(path)
    assert not marker.exists()


def test_code_in_meta_json_is_refused(victim, tmp_path):
    marker = tmp_path / "ran"
    _edit_json(victim, "meta.json", lambda meta: meta.update({"task": CODE.format(marker=marker)}))
    with pytest.raises(BundleError, match="is damaged"):
        load_bundle(victim)
    assert not marker.exists()


def test_meta_json_that_is_not_an_object_is_refused(victim):
    (victim / "meta.json").write_text("[1, 2]")
    _rewrite_manifest(victim)
    with pytest.raises(BundleError, match="meta.json"):
        load_bundle(victim)


@pytest.mark.parametrize("member", ["/tmp/absolute.json", "sub/nested.json", "..\\escape.json", "evil.pkl"])
def test_a_zip_with_odd_or_extra_members_is_refused(bundles, tmp_path, member):
    archive = tmp_path / "model.zip"
    archive.write_bytes(bundle_zip_bytes(bundles["victim"][2]))
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr(member, pickle.dumps(_Payload(tmp_path / "unpickled")))
    with pytest.raises(BundleError, match="unexpected path|unexpected files"):
        load_bundle(archive)
    assert not (tmp_path / "unpickled").exists() and not Path("/tmp/absolute.json").exists()


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _true_keyword(call: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in call.keywords)


UNPICKLERS = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "marshal", "shelve"}


def _problems_in(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """Real imports and calls only (ast), so generated-script templates held in strings do not count."""
    tree, where = ast.parse(path.read_text(encoding="utf-8")), path.relative_to(root)
    problems = []
    for node in ast.walk(tree):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        problems += [f"{where}:{node.lineno} imports {n}" for n in names if n.split(".")[0] in UNPICKLERS]
    for call in _calls(tree):
        name, line = _dotted(call.func), f"{where}:{call.lineno}"
        if name in ("eval", "exec", "__import__", "builtins.eval", "builtins.exec"):  # compile() only parses
            problems.append(f"{line} calls {name}()")
        if name.endswith("torch.load") and not _true_keyword(call, "weights_only"):
            problems.append(f"{line} calls torch.load without weights_only=True")
        if name.endswith("read_pickle") or _true_keyword(call, "allow_pickle"):
            problems.append(f"{line} calls {name} that can run code from a file")
        if name.split(".")[-1] in ("load", "loads") and _true_keyword(call, "trusted"):
            problems.append(f"{line} trusts every type in a skops file (trusted=True)")
    return problems


def test_no_module_can_run_code_from_a_file():
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 20
    problems = [p for source in sources for p in _problems_in(source)]
    assert not problems, ("nnbuilder must never unpickle or evaluate what it reads (DESIGN rule 8): "
                          + "; ".join(problems))


def test_the_source_check_catches_what_it_looks_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import pickle\nfrom dill import loads\nimport torch\nx = eval('1')\nm.eval()\n"
                   "torch.load('w.pt')\ntorch.load('w.pt', weights_only=True)\nnp.load('a', allow_pickle=True)\n"
                   "sio.loads(b, trusted=True)\ntext = 'import joblib; joblib.load(f)'\n")
    assert _problems_in(bad, tmp_path) == [
        "bad.py:1 imports pickle", "bad.py:2 imports dill", "bad.py:4 calls eval()",
        "bad.py:6 calls torch.load without weights_only=True", "bad.py:8 calls np.load that can run code from a file",
        "bad.py:9 trusts every type in a skops file (trusted=True)"]


def test_a_damaged_file_is_one_readable_line(victim):
    (victim / "history.json").write_text("{not json")
    _rewrite_manifest(victim)
    with pytest.raises(BundleError) as refused:
        load_bundle(victim)
    assert "is damaged (JSONDecodeError" in str(refused.value) and "\n" not in str(refused.value)


def test_a_link_inside_the_bundle_folder_is_refused(victim, tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text((victim / "meta.json").read_text())
    (victim / "meta.json").unlink()
    (victim / "meta.json").symlink_to(outside)
    with pytest.raises(BundleError, match=r"holds links \(meta.json\); refusing to load it"):
        load_bundle(victim)
