"""Synthetic rows through the app: people -> gan task -> preset -> train -> evaluate (report, download) -> predict."""

from test_app_support import by_label, charts, goto, open_app, run_ok, train_in_app

from ui import state


def test_people_gan_from_data_page_to_generated_rows():
    at = open_app()
    by_label(at.selectbox, "Built-in dataset").select("people")
    run_ok(at)
    by_label(at.selectbox, "Task (auto-detected, or choose)").select("gan")
    run_ok(at)
    assert at.session_state[state.SPEC]["data"]["task"] == "gan"
    assert by_label(at.metric, "Detected task").value == "GAN (synthetic rows)"
    assert not at.error

    goto(at, "Build")
    by_label(at.selectbox, "Start from a preset").select("GAN (synthetic rows)")
    by_label(at.button, "Use preset").click()
    run_ok(at)
    table = at.dataframe[0].value
    assert list(table["layer"])[0] == "Noise" and "Generated row" in list(table["layer"])
    assert list(table["layer"])[-1] == "Disc output"
    assert not at.error

    snap = train_in_app(at, epochs=20)
    assert snap.history[-1]["generator_loss"] is not None
    spec_names = [c.proto.spec for c in charts(at)]
    assert any("generator" in spec and "discriminator" in spec for spec in spec_names)

    goto(at, "Evaluate")
    for label in ("Real-vs-generated AUC", "Real-vs-independent AUC", "Correlation difference"):
        assert 0 <= float(by_label(at.metric, label).value) <= 1
    names = [c.proto.spec for c in charts(at)]
    assert sum("real vs generated" in spec for spec in names) == 5  # one per column
    by_label(at.number_input, "Rows to generate").set_value(25)
    run_ok(at)
    button = at.get("download_button")
    assert button and "Download generated rows" in button[0].proto.label
    assert not at.error

    goto(at, "Predict")
    assert any("generate and download them on the Evaluate page" in i.value for i in at.info)
    goto(at, "Export")
    assert not at.error
