"""Cited question answering over Chinese news and policy articles.

Pipeline: ingest -> chunk -> embed -> index -> retrieve -> answer.
Front-ends (CLI, Gradio, eval) only call into :mod:`assistant.pipeline`.
"""

__version__ = "0.1.0"
