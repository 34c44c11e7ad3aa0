"""The top surfaces of lenswise: the ``lenswise`` command line and the MCP server.

Both are thin shells over the Python API in :mod:`agent` (and :mod:`watool`, :mod:`evals`,
:mod:`ui` for the commands that drive them); nothing below this package imports it.
"""
