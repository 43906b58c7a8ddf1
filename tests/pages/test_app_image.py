"""Images through the app: digits -> image input (auto-detected) -> CNN preset -> train -> evaluate -> predict."""

from test_app_support import by_label, charts, goto, open_app, run_ok, texts, train_in_app

from nnbuilder.data.pipeline import load_table
from ui import state


def test_digits_cnn_from_data_page_to_predictions():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("digits")
    run_ok(at)
    assert at.session_state[state.SPEC]["input"] == {"kind": "image"}  # detected from pixel0..pixel63
    assert by_label(at.radio, "How each row becomes the network's input").value == "image"
    assert {"Channels", "Height", "Width", "Pixel max"} <= {w.label for w in at.number_input}
    grid = [c for c in charts(at) if len(c.proto.spec) and '"type":"image"' in c.proto.spec.replace(" ", "")]
    assert grid, "the sample images are shown"
    assert any("8×8 images with 1 channel" in text for text in [m.value for m in at.markdown] + texts(at.info)
               + texts(at.success) + texts(at.caption))

    goto(at, "Build")
    by_label(at.selectbox, "Start from a preset").select("CNN (images)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    table = at.dataframe[0].value
    assert list(table["layer"]) == ["Input", "1. conv2d", "2. maxpool2d", "3. conv2d", "4. flatten", "5. dense",
                                    "Output"]
    assert list(table["output shape"])[:4] == ["(1, 8, 8)", "(16, 8, 8)", "(16, 4, 4)", "(32, 4, 4)"]
    assert not at.error
    assert by_label(at.selectbox, "Padding").value == "same"  # the literal setting renders as a choice

    train_in_app(at, epochs=3)

    goto(at, "Evaluate")
    assert by_label(at.metric, "Test accuracy").value.endswith("%")

    goto(at, "Predict")
    assert not at.form  # no 64-box form for an image model
    assert by_label(at.number_input, "Test image number").value == 1
    assert by_label(at.metric, "Prediction").value in [str(d) for d in range(10)]
    df, _ = load_table("sample:digits")
    pixels = df.drop(columns=["digit"]).head(30).to_csv(index=False).encode()
    by_label(at.file_uploader, "Upload rows to predict (CSV)").set_value(("pixels.csv", pixels, "text/csv"))
    run_ok(at)
    predictions = at.dataframe[0].value
    assert len(predictions) == 20 and (predictions["prediction"] == df["digit"].head(20)).mean() > 0.5

    goto(at, "Export")
    assert not at.error


def test_convolution_on_a_table_is_explained_on_the_build_page():
    at = open_app("Build")  # moons: a table
    by_label(at.selectbox, "Layer type").select("Convolution 2D (images)")
    by_label(at.button, "Add layer").click()
    run_ok(at)
    errors = " ".join(texts(at.error))
    assert "conv2d needs image input" in errors and "choose the image input on the Data page" in errors


def test_image_input_settings_reach_the_spec_and_bad_sizes_are_explained():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("digits")
    run_ok(at)
    roles = at.dataframe[1].value.set_index("column")
    assert roles.loc["pixel0", "role"] == "numeric"  # an always-black corner is still part of the image
    by_label(at.number_input, "Height").set_value(4)
    by_label(at.number_input, "Width").set_value(4)
    run_ok(at)
    assert at.session_state[state.SPEC]["input"] == {"kind": "image", "height": 4, "width": 4}
    assert any("64 pixel columns are 4 channels of 4x4" in text for text in texts(at.error))
    by_label(at.radio, "How each row becomes the network's input").set_value("tabular")
    run_ok(at)
    assert at.session_state[state.SPEC]["input"] == {"kind": "tabular"}
    assert not at.error
