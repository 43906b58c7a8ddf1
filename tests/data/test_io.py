"""read_csv: every CSV oddity we promise to handle, and a one-line DataError for every bad input."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from nnbuilder.data.pipeline import load_table, read_csv
from nnbuilder.data.io import SAMPLE_BYTES, sniff_delimiter
from nnbuilder.errors import DataError


def codes(warnings) -> list[str]:
    return [w.code for w in warnings]


@pytest.mark.parametrize("content, delimiter", [
    ("a,b,c\n1,2,x\n3,4,y\n", ","),
    ("a;b;c\n1;2;x\n3;4;y\n", ";"),
    ("a\tb\tc\n1\t2\tx\n3\t4\ty\n", "\t"),
    ("a|b|c\n1|2|x\n3|4|y\n", "|"),
])
def test_delimiters_are_sniffed(write_csv, content, delimiter):
    assert sniff_delimiter(content) == delimiter
    df, warnings = read_csv(write_csv(content))
    assert list(df.columns) == ["a", "b", "c"]
    assert df["a"].tolist() == [1, 3] and df["c"].tolist() == ["x", "y"]
    assert warnings == []


def test_single_column_falls_back_to_comma():
    assert sniff_delimiter("value\n1\n2\n") == ","


def test_semicolon_files_with_decimal_commas_read_as_numbers(write_csv):
    df, _ = read_csv(write_csv("price;name\n2,5;a\n10;b\n"))
    assert df["price"].tolist() == [2.5, 10.0]


def test_utf8_bom_is_removed(write_csv):
    df, warnings = read_csv(write_csv(b"\xef\xbb\xbfname,age\nAnna,3\n"))
    assert list(df.columns) == ["name", "age"]
    assert warnings == []


def test_latin1_falls_back_with_a_warning(write_csv):
    df, warnings = read_csv(write_csv("stad,n\nZürich,1\nMálaga,2\n".encode("latin-1")))
    assert df["stad"].tolist() == ["Zürich", "Málaga"]
    assert codes(warnings) == ["encoding_fallback"]
    assert "Latin-1" in warnings[0].message


def test_windows_1252_keeps_euro_signs_and_curly_quotes(write_csv):
    df, warnings = read_csv(write_csv("price,note\n€5,\u201cnew\u201d\n".encode("cp1252")))
    assert df.iloc[0].tolist() == ["€5", "\u201cnew\u201d"]
    assert codes(warnings) == ["encoding_fallback"]


def test_bytes_undefined_in_windows_1252_fall_back_to_latin1(write_csv):
    df, warnings = read_csv(write_csv(b"a\nx\x81y\n"))
    assert df["a"].tolist() == ["x\x81y"] and codes(warnings) == ["encoding_fallback"]


def test_excel_sep_hint_line_is_honoured(write_csv):
    df, _ = read_csv(write_csv("sep=;\r\na;b\r\n1;2\r\n"))
    assert df.to_dict("list") == {"a": [1], "b": [2]}


def test_latin1_after_the_sample_is_still_caught(write_csv):
    rows = "".join(f"plain{i},{i}\n" for i in range(SAMPLE_BYTES // 8))
    content = ("city,n\n" + rows).encode("utf-8") + "Zürich,1\n".encode("latin-1")
    df, warnings = read_csv(write_csv(content))
    assert df["city"].iloc[-1] == "Zürich"
    assert "encoding_fallback" in codes(warnings)


def test_utf16_from_excel_is_read(write_csv):
    df, _ = read_csv(write_csv("a\tb\n1\t2\n".encode("utf-16")))
    assert df.to_dict("list") == {"a": [1], "b": [2]}


def test_quoted_fields_keep_delimiters_and_newlines(write_csv):
    df, _ = read_csv(write_csv('note,n\n"one, two",1\n"line one\nline two",2\n"say ""hi""",3\n'))
    assert df["note"].tolist() == ["one, two", "line one\nline two", 'say "hi"']
    assert df["n"].tolist() == [1, 2, 3]


def test_newlines_in_quotes_after_the_sample_fall_back_cleanly(write_csv):
    rows = "".join(f"r{i},{i}\n" for i in range(SAMPLE_BYTES // 6))
    df, _ = read_csv(write_csv("note,n\n" + rows + '"late\nnewline",7\n'))
    assert df["note"].iloc[-1] == "late\nnewline"


def test_duplicate_headers_are_renamed_with_a_warning(write_csv):
    df, warnings = read_csv(write_csv("a,a,b,a\n1,2,3,4\n"))
    assert list(df.columns) == ["a", "a.1", "b", "a.2"]
    assert codes(warnings) == ["duplicate_columns"]
    assert warnings[0].column == "a" and "a.1" in warnings[0].message


def test_infinite_values_become_missing_with_a_warning(write_csv):
    df, warnings = read_csv(write_csv("x,y\ninf,1\n-inf,2\n1.5,3\n"))
    assert df["x"].isna().tolist() == [True, True, False]
    assert codes(warnings) == ["inf_values"] and warnings[0].column == "x"


def test_empty_columns_are_left_out_with_a_warning(write_csv):
    df, warnings = read_csv(write_csv("a,blank,b\n1,,x\n2,,y\n"))
    assert list(df.columns) == ["a", "b"]
    assert codes(warnings) == ["empty_column"] and warnings[0].column == "blank"


def test_missing_markers_and_types(write_csv):
    df, _ = read_csv(write_csv("i,f,s,d\n1,1.5,x,2021-03-04\nNA,,NULL,2021-03-05\n3,2.25,z,\n"))
    assert df["i"].isna().tolist() == [False, True, False]
    assert df["s"].isna().tolist() == [False, True, False]
    assert df["f"].dtype == np.float32  # decimals are float32: the network's precision, half the memory
    assert pd.api.types.is_datetime64_any_dtype(df["d"])
    assert pd.api.types.is_string_dtype(df["s"])


def test_big_whole_numbers_stay_exact(write_csv):
    df, _ = read_csv(write_csv("id,x\n123456789,1\n,2\n987654321,3\n"))
    assert df["id"].iloc[2] == 987654321  # float64 for a gappy int column, never float32


def test_a_type_change_after_the_sample_is_handled(write_csv):
    rows = "".join(f"{i},{i}\n" for i in range(SAMPLE_BYTES // 4))
    df, _ = read_csv(write_csv("a,b\n" + rows + "oops,1\n"))
    assert df["a"].iloc[-1] == "oops" and len(df) == SAMPLE_BYTES // 4 + 1


def test_bytes_and_file_objects_are_accepted():
    df, _ = read_csv(b"a,b\n1,2\n", name="upload.csv")
    assert df.shape == (1, 2)
    df, _ = read_csv(io.BytesIO(b"a,b\n1,2\n3,4\n"))
    assert df.shape == (2, 2)


def test_short_rows_are_padded_with_missing_values(write_csv):
    df, _ = read_csv(write_csv("a,b,c\n1,2\n3,4,5\n"))
    assert df["c"].isna().tolist() == [True, False]


# ---- bad input: one readable line each ---------------------------------------------------
@pytest.mark.parametrize("content, words", [
    (b"", ["empty", "no data rows"]),
    (b"   \n\n", ["empty", "no data rows"]),
    (b"a,b,c\n", ["no data rows"]),
    (b"\x00\x01\x02\x03binary\x00stuff", ["binary file, not a CSV"]),
    (b"PK\x03\x04\x14\x00\x06\x00", ["binary file, not a CSV", "Excel"]),
    (b"a,b\n1,2\n3,4,5\n6,7\n", ["line 3", "3 fields", "header has 2"]),
    (b"a,b\n1,2,3\n4,5\n", ["line 2", "3 fields", "header has 2"]),
    (b"a;b\n1;2\n3;4;5\n", ["line 3", "semicolon"]),
])
def test_bad_input_raises_one_readable_line(write_csv, content, words):
    with pytest.raises(DataError) as info:
        read_csv(write_csv(content, "bad.csv"))
    message = str(info.value)
    assert "\n" not in message and "bad.csv" in message
    for word in words:
        assert word in message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_csv(tmp_path)


def test_load_table_reads_paths_and_samples(write_csv):
    df, warnings = load_table(str(write_csv("a,b\n1,2\n")))
    assert df.shape == (1, 2) and warnings == []
    df, _ = load_table("sample:moons?n_samples=50")
    assert df.shape == (50, 3)
