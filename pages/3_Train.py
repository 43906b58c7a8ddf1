"""Train: training settings, Train/Stop, live curves polled from the background job (with the previous run
dashed for comparison), warnings that explain themselves, and the active lesson's one-click steps."""

import pandas as pd
import streamlit as st

from nnbuilder.errors import NNBuilderError, SpecError
from nnbuilder.layers.core import DropoutSpec
from nnbuilder.runs.workflow import training_work
from nnbuilder.train.optim import USES_MOMENTUM
from nnbuilder.spec.network import TrainingSpec
from nnbuilder.train.trainer import resolve_device
from ui import advice, boundary_view, charts, compare, engine, internals_view, jobs, lesson_view, stack, state
from ui.page import header, show_error
from ui.training import applicable_settings, finished_line, job_rows, progress_text
from ui.widgets import LABELS, field_meta, field_widget
from ui.session import start as start_session

start_session()  # safe when Streamlit runs this page on its own (a deep link)

POLL_S = 0.5
SETTINGS = [  # three columns of settings, most used first
    ["optimizer", "learning_rate", "batch_size", "epochs"],
    ["weight_decay", "l1", "momentum"],
    ["early_stopping_patience", "lr_schedule", "seed"],
]


def _on_dropout(key: str) -> None:
    spec = state.spec_dict()
    spec["layers"] = stack.set_dropout(spec.get("layers", []), st.session_state[key])
    state.bump_rev()


def _start() -> None:
    spec = state.parsed_spec()  # SpecError lists every problem
    prepared = engine.prepared_for(spec)  # data problems show here, before queueing; the run trains on this
    df = state.data_frame()
    layers = len(spec.layers)
    name = state.data_name().removeprefix(state.BUILTIN_PREFIX).partition("?")[0]  # a lesson's options stay out
    label = (f"{name}: {layers} layer{'s' * (layers != 1)}, "
             f"{spec.training.optimizer} lr {spec.training.learning_rate:g}, {spec.training.epochs} epochs")
    jobs.submit(label, training_work(df, spec, device="auto", views=["all"], prepared=prepared), frame=df,
                spec=state.spec_dict(), data_name=state.data_name(), data_warnings=state.data_warnings())


def _on_stop() -> None:
    if jobs.cancel_current():
        st.toast("Stopping after the current batch…")


def _render(snap) -> None:
    st.caption(f"Run: {snap.label}")
    if snap.status == "queued":
        st.info(progress_text(snap), icon=":material/hourglass_top:")
    elif snap.status == "running":
        st.progress(snap.progress, text=progress_text(snap))
    elif snap.status == "failed":
        advice.render_failure(snap)
    elif snap.status == "cancelled":
        st.warning(f"Stopped by you at epoch {snap.epoch}/{snap.epochs}. The best weights so far are kept.",
                   icon=":material/pan_tool:")
    if snap.status in ("done", "cancelled") and snap.result is not None:
        jobs.adopt_result(snap)
        st.success(finished_line(snap.result), icon=":material/check_circle:")
        st.page_link("pages/4_Evaluate.py", label="Evaluate the model", icon=":material/insights:")
    history = list(snap.history)
    advice.render_history(snap)
    if history:
        previous, previous_label = compare.overlay(snap)
        loss_col, metric_col = st.columns(2)
        gan = "generator_loss" in history[-1]  # train_loss is the generator's, val_loss the discriminator's
        loss_col.plotly_chart(charts.curve_figure(history, "loss", charts.GAN_CURVE_NAMES if gan else
                                                  ("training", "validation"), previous, previous_label),
                              key="live_loss")
        if snap.metric:
            metric_col.plotly_chart(charts.curve_figure(history, snap.metric, previous=previous,
                                                        previous_label=previous_label), key="live_metric")
    if history and "generator_loss" not in history[-1]:  # views of the network as it learns (nnbuilder.train.probes)
        boundary_tab, neurons_tab, inside_tab = st.tabs(["Decision boundary", "Neurons", "Inside the training"])
        with boundary_tab:
            boundary_view.render_boundary(snap)
        with neurons_tab:
            boundary_view.render_neurons(snap)
        with inside_tab:
            internals_view.render(snap)


header(3, "Train", "Choose how the network learns, then press **Train**. The curves update while it trains; "
       "you can switch pages or even reload, and the run keeps going.")

lesson = lesson_view.active()
if lesson is not None:
    with st.expander(f"Lesson {lesson.order}: {lesson.title}", expanded=True, icon=":material/school:"):
        lesson_view.render_steps(lesson, "train")
        lesson_view.render_watch(lesson)
lesson_view.show_applied()
advice.show_applied()

spec_data = state.spec_dict()
training = spec_data.setdefault("training", {})
rev = state.rev()
st.caption(f"Training on: **{resolve_device('auto').type}**")

task_name = (spec_data.get("data") or {}).get("task")
shown, hidden = applicable_settings(SETTINGS, task_name)  # the task's record says which settings it ignores
if hidden:
    st.caption(f"The {task_name} task does not use {', '.join(LABELS.get(n, n) for n in hidden)}: "
               f"{'they are' if len(hidden) > 1 else 'it is'} hidden.")
columns = st.columns(3)
for column, names in zip(columns, shown):
    with column:
        for name in names:
            default = TrainingSpec.model_fields[name].default
            ignored = name == "momentum" and training.get("optimizer") not in USES_MOMENTUM
            training[name] = field_widget(TrainingSpec, name, training.get(name, default), key=f"train_{rev}_{name}",
                                          disabled=ignored)
with columns[2]:
    key = f"dropout_{rev}"
    rate = field_meta(DropoutSpec, "rate")  # the dropout layer's own limits and step
    lowest, highest = rate.slider_range
    st.slider("Dropout (every dropout layer)", lowest, highest,
              min(highest, stack.dropout_rate(spec_data.get("layers", []))),
              step=rate.step, key=key, on_change=_on_dropout, args=(key,),
              help="Sets the rate of every dropout layer on the Build page; with none, adds one after each dense "
                   "layer. Fights overfitting.")

snapshot = jobs.current_snapshot()
active = snapshot is not None and not snapshot.finished
train_col, stop_col, _ = st.columns([1, 1, 4])
stop_col.button("Stop", disabled=not active, icon=":material/stop:", on_click=_on_stop)
if train_col.button("Train", type="primary", disabled=active, icon=":material/play_arrow:"):
    try:  # handled here, after the settings above wrote this run's values into the spec
        _start()
        st.rerun()  # redraw with the run under way: Stop enabled, curves polling
    except NNBuilderError as exc:
        show_error(exc)
        where = {p.path[0] for p in exc.spec_problems if p.path} if isinstance(exc, SpecError) else set()
        if "layers" in where:
            st.page_link("pages/2_Build.py", label="Fix the layers on Build", icon=":material/account_tree:")
        if "data" in where or not where & {"layers", "training"}:
            st.page_link("pages/1_Data.py", label="Check the data on Data", icon=":material/table_chart:")


@st.fragment(run_every=POLL_S if active else None)
def live_panel() -> None:
    snap = jobs.current_snapshot()
    if snap is None:
        st.caption("No training yet. Press **Train** to start.")
        return
    runs = jobs.my_jobs()
    compare.remember(runs)  # finished runs' curves, for the next run's dashed overlay
    _render(snap)
    if active and snap.finished:
        st.rerun()  # a full run stops the polling and re-enables the buttons
    if len(runs) > 1:
        with st.expander(f"Your runs ({len(runs)})"):
            st.dataframe(pd.DataFrame(job_rows(runs)), hide_index=True)


live_panel()
