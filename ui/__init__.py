"""Streamlit chat front-end: a thin shell over the Python API."""
