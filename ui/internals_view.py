"""Train page tab: inside the training (being written)."""

import streamlit as st


def render(snapshot) -> None:
    st.caption("Weights, gradients and dead units appear here while the model trains.")
