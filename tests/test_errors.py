"""The exception family: SpecError's (path, message) records and the lines front ends print from them."""

import pytest

from nnbuilder.errors import NNBuilderError, SpecError, SpecProblem, spec_path_text


@pytest.mark.parametrize("path, text", [
    ((), ""), (("layers",), "layers"), (("layers", 2, "rate"), "layers[2].rate"),
    (("layers", 0, "layers", 1), "layers[0].layers[1]"), (("training", "learning_rate"), "training.learning_rate"),
    (("gan", "discriminator", 1, "units"), "gan.discriminator[1].units"),
])
def test_paths_read_as_the_spec_file_spells_them(path, text):
    assert spec_path_text(path) == text


@pytest.mark.parametrize("problem, text", [
    (SpecProblem(("layers", 2, "rate"), "must be in [0, 1); got 1.5"), "layers[2].rate must be in [0, 1); got 1.5"),
    (SpecProblem(("layers", 3), "conv2d needs image input", "conv2d"), "layers[3] (conv2d): conv2d needs image input"),
    (SpecProblem(("layers",), "the network has too many parameters", sentence=True),
     "layers: the network has too many parameters"),
    (SpecProblem((), "has task gan with the image input"), "spec has task gan with the image input"),
    (SpecProblem((), "spec file x.json does not exist", sentence=True), "spec file x.json does not exist"),
])
def test_a_problem_renders_the_engines_one_line(problem, text):
    assert problem.text == text


def test_a_problem_inside_a_block_is_named_by_its_full_path_from_outside():
    inner = SpecProblem(("layers", 1), "needs images", "conv2d")
    assert inner.within(("gan", "discriminator", 0)).path == ("gan", "discriminator", 0, "layers", 1)
    assert inner.text_at("Layer 4.2") == "Layer 4.2 (conv2d): needs images"  # a front end's own name for the place


def test_spec_error_keeps_its_lines_and_accepts_plain_strings_about_the_whole_spec():
    error = SpecError([SpecProblem(("layers", 2, "rate"), "must be in [0, 1); got 1.5"), "the spec is empty"])
    assert isinstance(error, NNBuilderError)
    assert error.problems == ["layers[2].rate must be in [0, 1); got 1.5", "the spec is empty"]
    assert str(error) == "2 problems in the spec: layers[2].rate must be in [0, 1); got 1.5; the spec is empty"
    assert [p.path for p in error.spec_problems] == [("layers", 2, "rate"), ()]
    single = SpecError([SpecProblem(("training", "epochs"), "must be at least 1; got 0")])
    assert str(single) == "training.epochs must be at least 1; got 0" == single.problems[0]
    with pytest.raises(AttributeError):  # records: a problem cannot be moved after it is raised
        single.spec_problems[0].path = ()
