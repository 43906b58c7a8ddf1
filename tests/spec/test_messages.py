"""Spec problems carry the path the user wrote, as a tuple: pydantic's errors, the spec's own validators,
and every problem of one spec at once. (Shape problems found when compiling: tests/model/test_compile.py.)"""

import pytest

from nnbuilder.errors import SpecError, SpecProblem
from nnbuilder.spec.network import load_spec, parse_spec


def located(data) -> list[SpecProblem]:
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    assert info.value.problems == [problem.text for problem in info.value.spec_problems]  # the lines the CLI prints
    return info.value.spec_problems


def paths(data) -> list[tuple]:
    return [problem.path for problem in located(data)]


@pytest.mark.parametrize("data, path, text", [
    ({"layers": [{"type": "dense"}, {"type": "dense"}, {"type": "dropout", "rate": 1.5}]},
     ("layers", 2, "rate"), "layers[2].rate must be in [0, 1); got 1.5"),
    ({"training": {"learning_rate": 100}}, ("training", "learning_rate"), "training.learning_rate must be in (0, 10]; got 100"),
    ({"training": {"learnig_rate": 0.1}}, ("training", "learnig_rate"), None),  # an unknown key: where it was written
    ({"layers": [{"type": "dropuot"}]}, ("layers", 0, "type"), None),  # the union tag names the field `type`
    ({"layers": [{"type": "dense", "units": "many"}]}, ("layers", 0, "units"), "layers[0].units must be a whole number; got 'many'"),
    ({"data": {"target": 5}}, ("data", "target"), None),  # a plain union (text or list): one problem, no member names
    ({"gan": {"discriminator": [{"type": "dense"}, {"type": "dropout", "rate": 2}]}},
     ("gan", "discriminator", 1, "rate"), "gan.discriminator[1].rate must be in [0, 1); got 2"),
    ({"autoencoder": {"decoder": [{"type": "dense", "units": 0}]}}, ("autoencoder", "decoder", 0, "units"), None),
    ({"input": {"kind": "image", "channels": 0}}, ("input", "channels"), None),
])
def test_pydantic_errors_carry_the_path_the_user_wrote(data, path, text):
    (problem,) = located(data)
    assert problem.path == path
    if text is not None:
        assert problem.text == text


def test_union_tags_are_left_out_of_nested_paths():
    data = {"layers": [{"type": "residual", "layers": [
        {"type": "dense", "units": 4}, {"type": "residual", "layers": [{"type": "dropout", "rate": -1}]}]}]}
    (problem,) = located(data)
    assert problem.path == ("layers", 0, "layers", 1, "layers", 0, "rate")  # pydantic's loc has 'residual', 'dropout'
    assert problem.text == "layers[0].layers[1].layers[0].rate must be in [0, 1); got -1"
    (empty,) = located({"layers": [{"type": "residual", "layers": []}]})
    assert empty.path == ("layers", 0, "layers") and empty.message.endswith("add a layer to it, or delete the block")


@pytest.mark.parametrize("data, path, start", [
    ({"training": {"optimizer": "adamm"}}, ("training", "optimizer"), "training.optimizer must be one of"),
    ({"training": {"lr_schedule": "cosin"}}, ("training", "lr_schedule"), "training.lr_schedule must be one of"),
    ({"data": {"split": {"train": 0.5, "val": 0.1, "test": 0.1}}}, ("data", "split"), "data.split must add up to 1"),
    ({"layers": [{"type": "transformer_encoder", "model_dim": 30, "heads": 4}]}, ("layers", 0, "model_dim"),
     "layers[0].model_dim must be divisible by heads (4)"),
    ({"data": {"task": "autoencoder"}, "autoencoder": {"mirror_decoder": False}}, ("autoencoder",),
     "autoencoder has mirror_decoder off"),
    ({"data": {"task": "gan"}, "input": {"kind": "image"}}, (), "spec has task gan with the image input"),
])
def test_validator_errors_carry_the_path_of_what_they_check(data, path, start):
    (problem,) = located(data)
    assert problem.path == path and problem.text.startswith(start), problem.text


def test_every_problem_is_reported_at_once_each_with_its_path():
    data = {"layers": [{"type": "dense", "units": 0}, {"type": "dropout", "rate": 1.5},
                       {"type": "residual", "layers": [{"type": "conv2d", "filters": -1}]}],
            "training": {"epochs": 0, "optimizer": "sgdd"}, "data": {"split": {"train": 0.9, "val": 0.2, "test": 0.1}}}
    found = paths(data)
    assert sorted(found, key=str) == sorted([
        ("data", "split"), ("layers", 0, "units"), ("layers", 1, "rate"), ("layers", 2, "layers", 0, "filters"),
        ("training", "epochs"), ("training", "optimizer")], key=str)
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    assert str(info.value).startswith("6 problems in the spec: ")


def test_problems_about_the_whole_file_have_the_empty_path(tmp_path):
    assert paths([1, 2]) == [()]
    missing = tmp_path / "nope.json"
    with pytest.raises(SpecError) as info:
        load_spec(missing)
    assert [p.path for p in info.value.spec_problems] == [()] and "does not exist" in str(info.value)
