"""Answer stage: from retrieved passages to a cited answer, or a refusal.

- ``qtype``: what the question asks for (a number, a date, a person, ...), in Chinese or English
- ``terms``: the question's weighted terms and how much of them a text covers
- ``candidates``: the stored sentences of the top passages
- ``features`` + ``selector``: P(a sentence holds the answer), a model learned on public data
- ``refusal``: when not to answer
- ``compose``: which sentences to quote, how much of each, and the wording
- ``extractive``: the answerer that ties them together; ``settings``: its one settings object
"""

from assistant.answer.extractive import Answerer, ExtractiveAnswerer
from assistant.answer.settings import AnswerSettings

__all__ = ["Answerer", "AnswerSettings", "ExtractiveAnswerer"]
