"""Streamlit entry point (placeholder until the chat front-end lands)."""

import streamlit as st

st.set_page_config(page_title="lenswise", page_icon=":books:")
st.title("lenswise")
st.write("Well-Architected Generative AI Lens assistant. The chat interface is on its way.")
