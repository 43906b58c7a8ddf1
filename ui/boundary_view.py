"""Train page tabs for the decision boundary and the neurons (being written)."""

import streamlit as st


def render_boundary(snapshot) -> None:
    st.caption("The decision boundary appears here while the model trains.")


def render_neurons(snapshot) -> None:
    st.caption("Each neuron's view appears here while the model trains.")
