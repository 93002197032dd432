"""Evaluation: the question-set loader and the pure metric functions the eval runner uses."""

from assistant.evaluation.questions import EvalQuestion, LoadReport, load_questions

__all__ = ["EvalQuestion", "LoadReport", "load_questions"]
