"""The export format registry: each entry carries what a front end needs to offer it (no page edit per format)."""

import pytest

from nnbuilder.errors import ExportError
from nnbuilder.export.formats import EXPORT_FORMATS, export_bundle


@pytest.mark.parametrize("fmt", sorted(EXPORT_FORMATS))
def test_every_format_says_what_it_is_for_and_names_its_file(fmt):
    info = EXPORT_FORMATS[fmt]
    assert info.name == fmt
    assert len(info.help) > 40 and info.help[0].isupper()  # a sentence, not a placeholder
    assert info.file_name.endswith(info.suffix) and "/" not in info.file_name
    assert info.noun and info.label and info.mime


def test_an_unknown_format_is_refused_in_words(tmp_path):
    with pytest.raises(ExportError, match="unknown export format 'zip'; choose one of onnx"):
        export_bundle(None, "zip", tmp_path / "model.zip")
