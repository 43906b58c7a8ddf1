"""Data page: built-in datasets, CSV upload (messy and broken), target, task, columns and split."""

from test_app_support import by_label, goto, open_app, run_ok, texts

from nnbuilder.spec.network import SplitSpec
from ui import state

MESSY = "\n".join(
    ["id,age,city,signup,notes,monthly,churned"]
    + [f"{i},{'' if i % 7 == 0 else 20 + i % 50},{['Oslo', 'Rome', 'Lima'][i % 3]},2021-0{1 + i % 9}-1{i % 10},"
       f"\"Called about bill number {i * 37} on a rainy day\",{10 + (i * 13) % 90}.5,{'yes' if i % 3 else 'no'}"
       for i in range(1, 41)]
).encode()


def upload(at, name, content, mime="text/csv"):
    by_label(at.file_uploader, "Upload a CSV").set_value((name, content, mime))
    return run_ok(at)


def test_messy_csv_upload_shows_preview_roles_and_sets_the_target():
    at = open_app()
    upload(at, "messy.csv", MESSY)
    assert at.session_state[state.DATA_NAME] == "messy.csv"
    assert at.session_state[state.SPEC]["data"]["target"] == "churned"  # the last column is guessed
    preview, roles = at.dataframe[0].value, at.dataframe[1].value
    assert list(preview.columns) == ["id", "age", "city", "signup", "notes", "monthly", "churned"]
    assert len(preview) == 20
    role = dict(zip(roles["column"], roles["role"]))
    assert role["age"] == "numeric" and role["city"] == "categorical" and role["churned"] == "target"
    assert role["notes"] == "excluded" and role["id"] == "excluded"
    assert roles.set_index("column").loc["age", "missing"] == 5
    assert any("notes" in text for text in texts(at.warning))  # the engine says why it left a column out
    assert "Binary classification" in [m.value for m in at.metric]

    by_label(at.selectbox, "Target column").select("monthly")
    run_ok(at)
    assert at.session_state[state.SPEC]["data"]["target"] == "monthly"
    assert "Regression" in [m.value for m in at.metric]


def test_task_override_and_excluded_columns_reach_the_spec():
    at = open_app()
    upload(at, "messy.csv", MESSY)
    by_label(at.multiselect, "Columns to leave out").select("city")
    run_ok(at)
    data = at.session_state[state.SPEC]["data"]
    assert data["drop_columns"] == ["city"]
    roles = at.dataframe[1].value
    assert roles.set_index("column").loc["city", "role"] == "excluded"
    by_label(at.selectbox, "Target column").select("age")
    run_ok(at)
    by_label(at.selectbox, "Task (auto-detected, or choose)").select("regression")
    run_ok(at)
    assert at.session_state[state.SPEC]["data"]["task"] == "regression"
    assert "Regression" in [m.value for m in at.metric]


def test_bad_files_show_the_engine_message_and_keep_the_data():
    at = open_app()
    by_label(at.selectbox, "Target column").select("x1")  # something the user made
    run_ok(at)
    for name, content in [("empty.csv", b""), ("picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)]:
        upload(at, name, content)
        errors = texts(at.error)
        assert len(errors) == 1 and name in errors[0] and "still using **moons (built-in)**" in errors[0]
        assert at.session_state[state.DATA_NAME] == "sample:moons"
        assert at.session_state[state.SPEC]["data"]["target"] == "x1"
    assert "binary file" in texts(at.error)[0]


def test_uploaded_data_survives_a_page_switch():
    at = open_app()
    upload(at, "messy.csv", MESSY)
    at.switch_page("pages/2_Build.py")
    run_ok(at)
    at.switch_page("pages/1_Data.py")
    run_ok(at)
    assert at.session_state[state.DATA_NAME] == "messy.csv" and not at.error
    assert by_label(at.selectbox, "Target column").value == "churned"


def test_builtin_dataset_switch_sets_its_target():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("iris")
    run_ok(at)
    assert at.session_state[state.DATA_NAME] == "sample:iris"
    assert at.session_state[state.SPEC]["data"]["target"] == "species"
    assert by_label(at.selectbox, "Target column").value == "species"
    assert "Multiclass classification" in [m.value for m in at.metric]


def test_split_slider_keeps_the_sum_at_one():
    at = open_app()
    slider = by_label(at.slider, "Split: training | validation | test (%)")
    default = SplitSpec()  # the slider starts at the spec's defaults, in the spec's steps
    assert slider.value == (round(default.train * 100), round((default.train + default.val) * 100))
    assert (slider.min, slider.max, slider.step) == (5, 100, 5)
    slider.set_value((60, 80))
    run_ok(at)
    split = at.session_state[state.SPEC]["data"]["split"]
    assert (split["train"], split["val"], split["test"]) == (0.6, 0.2, 0.2)
    assert abs(sum(split.values()) - 1) < 1e-9


def test_embeddings_keep_a_many_category_column_and_show_in_the_layer_table():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("rentals")
    run_ok(at)
    roles = at.dataframe[-1].value.set_index("column")["role"]
    assert roles["neighbourhood"] == "excluded"  # 150 categories: too many for one-hot
    by_label(at.selectbox, "Categorical columns").select("embedding")
    run_ok(at)
    assert at.session_state[state.SPEC]["input"] == {"kind": "tabular", "categorical": "embedding",
                                                     "embedding_min_levels": 10}
    assert at.dataframe[-1].value.set_index("column")["role"]["neighbourhood"] == "categorical"
    goto(at, "Build")
    table = next(df.value for df in at.dataframe if "output shape" in " ".join(map(str, df.value.columns)).lower())
    assert "Embeddings" in list(table.iloc[:, 0])
