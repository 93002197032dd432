"""The answer stage's settings, in one object.

Defaults are the values chosen on the dev split (``benchmarks/tune_answers.py``); the refusal
threshold comes with the selector model it was calibrated for (``selector.json``).
``AnswerSettings.from_config`` applies the user's ``ASSISTANT_*`` overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

DEFAULT_THRESHOLD = 0.5  # used only when the model file carries no calibrated threshold


@dataclass(frozen=True)
class AnswerSettings:
    passages: int = 5  # top hits whose sentences are candidates
    max_quotes: int = 3  # sentences quoted at most (each with all its duplicate passages)
    threshold: float | None = None  # refuse when no sentence is this probable; None: the model's own
    extra_ratio: float = 0.3  # a further quote needs at least this share of the lead's probability
    # ... and must cover this share of question-term weight no quote covers yet (0.3 until
    # 2026-12-05; 0.05 loses no row of dev or the public training parts and adds a second quote
    # holding evidence to one English dev question: benchmarks/decisions_2026-12-05c.md)
    min_gain: float = 0.05
    max_quote_chars: int = 200  # longer sentences are quoted by their relevant clauses
    clause_quote_chars: int = 90  # the same for number, date, name and place questions
    neighbour_ratio: float = 0.2  # quote the lead with its neighbour when that is this likely relative to it
    max_window_chars: int = 160  # ... and both together are no longer than this
    # A quote that opens with a pronoun (他, 该公司, 这些, 其中; jieba's tag "r") is quoted with the
    # sentence before it, within ``max_window_chars`` and the paragraph: "他也以39岁..." alone does
    # not say who (benchmarks/pronoun_context.md).
    pronoun_context: bool = True
    # A list question's lead that is one piece of a sentence the chunker cut at a comma for length
    # is quoted with the adjacent piece of that sentence when it holds an enumeration: the pieces
    # are one statement and the list asked for may sit in either ("依托金川集团、酒钢…," then
    # "…启动组建第一批企业创新联合体5家"; rule 1 of benchmarks/decisions_2026-12-30.md).
    split_statement_lists: bool = True
    # Refuse inputs the small-talk model (smalltalk_model.py, trained on public data) takes for
    # talk with the assistant, as the pattern checks refuse the wordings they know.
    smalltalk_check: bool = True
    # A question about the article itself (who wrote it, when and where it ran, who edited it, the
    # author's post) is answered from the article's record and author note, and one about the
    # collection's articles ("哪篇文章最新？") from their records (``record.py``; rules 1-5 of
    # benchmarks/decisions_2027-01-01.md). Off: every question goes to sentence selection.
    record_answers: bool = True
    # Reorder the selector's most probable sentences with the cross-encoder (reader.py): better
    # leads, 0.25-0.35 s more per answer on one core. The refusal threshold reads the same best
    # probability either way.
    reader: bool = True
    # English questions reordered by the reader of their own (``reader_en.npz``, trained on the
    # questions with their Chinese renderings), Chinese ones by ``reader.npz`` (rule 1 of
    # benchmarks/decisions_2026-12-14.md); off: ``reader.npz`` for every question.
    language_readers: bool = True
    # The selector's most probable sentences the reader reorders; None: as many as it was trained
    # on (its model's ``shortlist``, 5).
    reader_shortlist: int | None = None
    # Pair scores the reader remembers (least recently used dropped; 0: none): a question asked
    # again, or by an eval or bench run comparing retrievers, meets mostly the same sentences.
    # A pair's score does not depend on what it is asked with, so a remembered one is exact.
    reader_memory: int = 4096
    # Question languages in which a question is refused before any sentence is scored when every
    # term the collection knows is part of a name and another content word occurs in no article
    # (张贞祥是哪一年出生的: 出生; "North Heavy Industries' revenue": revenue): the collection names
    # the thing but never says what is asked of it (``refusal.unknown_attribute``). Chosen by
    # rules 4-4d of benchmarks/decisions_2026-12-08.md: Chinese +2 dev unanswerable refused, no
    # answerable one, at most 0.2% of a public training set; English, where only a word that can
    # only be a noun counts (4d), +2 dev and 1 of XQuAD train's 681 English questions; also a noun
    # mostly used as one (chairman, number): rule 3 of decisions_2026-12-29.md, +2 dev, +1 XQuAD.
    attribute_gate_langs: tuple[str, ...] = ("zh", "en")
    # The refusal checks on the lead sentence (``refusal.BEST_SENTENCE_CHECKS``): the question
    # languages each is on for. All twelve were chosen together on 2026-12-05 (twentieth session,
    # rule 1 of benchmarks/decisions_2026-12-08.md, `python benchmarks/choose_refusal_checks.py`,
    # report benchmarks/refusal_checks_chosen.md): starting from none, per language, the check
    # that most raises "dev unanswerable refused minus dev answerable refused" joins while it
    # raises it by at least two questions, keeps dev false refusals within 5% and the checks
    # together add at most one point to each public training set's refusals. (Until then each
    # check was judged alone with the others on, and one question sufficed.) Chosen again by the
    # same rule with a fourth dev split (dev4, twenty-first session, rule 2 of
    # benchmarks/decisions_2026-12-09.md): English gained the counted-figure and share checks.
    # Their public cost is read on every public training question answered out of sample (the
    # trees not fitted on its fold, the reader not trained on its half) since rule 2 of
    # benchmarks/decisions_2026-12-11.md, which chose the same set.
    #
    # "How many X" refused when the best sentence and its neighbours never name X (English
    # questions name X through dictionary translations; an X Chinese counts with a measure word,
    # "how many times / points", is not checked).
    counted_noun_langs: tuple[str, ...] = ()
    # ... and when no clause of the best sentence and its neighbours names X together with a
    # figure the question lacks.
    counted_figure_langs: tuple[str, ...] = ("en",)
    # A question naming a year the best sentence's article never mentions (while naming other years).
    year_gate_langs: tuple[str, ...] = ("zh", "en")
    # A question asking for a number when the best sentence and its neighbours hold none the
    # question does not already name.
    type_gate_langs: tuple[str, ...] = ()
    # A question naming an organisation in Chinese (富美达公司, 兰石集团) when the best sentence's
    # paragraph and its article's title never name it.
    organisation_gate_langs: tuple[str, ...] = ()
    # A question asking for a date, a share or rate (占比, 增速, what percentage), or each one's
    # figure (各自多少, how much did each) when the best sentence and its neighbours give no date
    # or temporal clause, no percentage, or fewer than two figures the question lacks.
    date_gate_langs: tuple[str, ...] = ()
    share_gate_langs: tuple[str, ...] = ("en",)
    # A question asking a rate of change (比上年增长了百分之几, growth rate) when no sentence of the
    # best sentence and its neighbours names its subject with a change and a figure (增长33.21%):
    # chosen for Chinese with the others (rule 2 of benchmarks/decisions_2026-12-20.md; English
    # questions of the kind are refused by the share check already).
    change_gate_langs: tuple[str, ...] = ("zh",)
    each_gate_langs: tuple[str, ...] = ()
    # A question asking for an amount of money (经费多少, how much funding) when the best sentence
    # and its neighbours give no amount the question lacks.
    money_gate_langs: tuple[str, ...] = ("zh", "en")
    # A question asking 多少/几 + a measure word (多少家, 几项) when the best sentence and its
    # neighbours give no count in that measure word the question lacks.
    measure_gate_langs: tuple[str, ...] = ("zh",)
    # A question asking 多少个 / 几个 (个, the generic measure word) when the best sentence and its
    # neighbours give no count in any measure word the question lacks (chosen for Chinese on dev:
    # benchmarks/refusal_checks_chosen.md, rule 3 of benchmarks/decisions_2026-12-13.md).
    generic_measure_gate_langs: tuple[str, ...] = ("zh",)
    # A question asking how many of a stated total are of one part (24个创新联合体里，种业方向的有几个;
    # "of the 49 units, how many are universities") when no clause of the best sentence and its
    # neighbours names the part with a figure the question lacks (chosen for both languages with the
    # others, rule 2 of benchmarks/decisions_2026-12-19.md).
    part_gate_langs: tuple[str, ...] = ("zh", "en")
    # A "who" question naming an office (董事长是谁, who heads) when the best sentence and its
    # neighbours name no such office (English off since the same choice: with dev5 it refuses one
    # answerable dev question for two unanswerable ones, short of the two-question margin).
    office_gate_langs: tuple[str, ...] = ()
    # A question naming a person, place or organisation in Chinese (雷丙旺, 富美达) when the best
    # sentence's paragraph and its article's title name none of them.
    name_gate_langs: tuple[str, ...] = ("zh",)
    # An English question's words also read as the collection's nearest words by the cross-lingual
    # encoder, in its terms (``assistant.collection_renderings``): this many per word (0: off), at
    # this cosine or more. Off until judged with the English trees refitted on rows collected with
    # them: with the shipped trees they fail a judge, and refitted at 0.7 they pass the selector's
    # screen but not the reader's (rules 2-4 of benchmarks/decisions_2026-12-26.md), nor with a
    # reader that reads them too (rules 1-3 of benchmarks/decisions_2026-12-27.md).
    collection_rendering_threshold: float = 0.7
    collection_renderings_per_word: int = 0
    # Question languages in which, when a check above refuses the most probable sentence, the
    # next most probable one that passes every check leads instead, if it is at least
    # ``check_fallback_ratio`` of the best probability (elsewhere the question is refused).
    # Sentences a check refuses are never quoted (benchmarks/check_fallback.md).
    check_fallback_langs: tuple[str, ...] = ("zh", "en")
    check_fallback_ratio: float = 0.25
    # ... and only sentences of the refused lead's article may lead instead (the lead was on the
    # question's subject and lacked only what is asked; another article may be about another
    # place or body: benchmarks/decisions_2026-12-03f.md).
    check_fallback_same_article: bool = True
    # Question types (number, date, person, place; none by default: judged and left off,
    # benchmarks/decisions_2026-12-03g.md) for which a lead that does not itself hold the
    # asked kind of thing (beyond what the question names) gives its rank to the most probable
    # sentence that does, if that is at least ``type_first_ratio`` of the lead's probability.
    # Nothing is refused for it; the probabilities keep their values rank by rank, as under the
    # reader (benchmarks/type_first.md).
    type_first_kinds: tuple[str, ...] = ()
    type_first_ratio: float = 0.5
    # For a number question (not one asking for a length of time), a date is no figure: the
    # clause quoted of a long sentence is the one with a count or amount, not "截至2022年5月"
    # (judged: accepted, but no count moved, so left off: benchmarks/decisions_2026-12-03g.md;
    # judged again with the figure checks reading the quote: no row moved, off,
    # benchmarks/dates_are_no_figures_quote_public.md).
    dates_are_no_figures: bool = False
    # A sentence at a passage's edge reads its neighbours (the context the selector's features
    # and the checks see) from the adjacent passage of its article; quotes stay in their passage
    # (candidates.gather; judged in benchmarks/decisions_2026-12-04.md).
    article_context: bool = False
    # The shorter limit for number, date, name and place questions (``clause_quote_chars``) only
    # for a sentence that holds the asked kind of thing; one that does not is quoted by the
    # general limit (judged in benchmarks/decisions_2026-12-04.md).
    clause_needs_type: bool = False
    # A long sentence's quoted clauses that hold none of the question's terms (a bare "截至2022年5月",
    # chosen for its figure) grow towards the nearest clause that holds one, within the limit
    # (accepted on dev: no row of dev or the public training parts loses, benchmarks/quote_holds_terms.md,
    # benchmarks/decisions_2026-12-06.md).
    quote_holds_terms: bool = True
    # For a question asking for a year (哪一年, "what year"), a long sentence's clauses that hold
    # the asked type are those with a year, not those with a time word naming none (目前, 此前);
    # only the quoted span reads it (rules 1 and 5 of benchmarks/decisions_2026-12-28.md: no dev or
    # public row loses, three dev first quotes gain the year asked for; benchmarks/year_clauses.md).
    year_clauses: bool = True

    # Question languages in which the checks on a lead read its passage neighbours too (a figure, an
    # office or a counted noun in the sentence before or after it passes); elsewhere the lead
    # alone must hold what is asked, and the fallback above looks for the sentence that does
    # (lead alone judged and rejected: more answerable public questions refused,
    # benchmarks/check_neighbours.md).
    check_neighbour_langs: tuple[str, ...] = ("zh", "en")
    # Of those, the languages in which the checks read only the neighbour the lead's quote joins
    # (``neighbour_ratio``): a figure in a sentence the answer does not show passes nothing, and
    # the fallback looks for the sentence that holds it (accepted for Chinese on dev: benchmarks/quoted_neighbours.md).
    check_quoted_neighbour_langs: tuple[str, ...] = ("zh",)
    # Question languages in which the checks for an asked figure (number, date, share, each,
    # money, measure) read exactly what the answer quotes: of a long lead, only its quoted
    # clauses (a count in a clause the answer cuts away answers nothing), with a neighbour only if
    # the quote joins it. The checks on what the lead is about or counts (year, organisation,
    # name, counted noun, office) read it as the two settings above say (accepted for Chinese on
    # dev: benchmarks/figure_checks_quote_public.md; English lost answerable questions on dev).
    figure_checks_read_quote_langs: tuple[str, ...] = ("zh",)
    # An English question's figures with a magnitude word (1.24 billion, 70 million) count as
    # named in their Chinese form too (12.4亿, 7000万) when a check looks for a figure the
    # question does not already name (accepted on dev: benchmarks/check_neighbours.md).
    figures_in_chinese_units: bool = True

    @classmethod
    def from_config(cls, settings) -> "AnswerSettings":
        """From ``assistant.config.Settings`` (env vars and flags already applied)."""
        overrides = {"max_quotes": settings.max_citations, "threshold": settings.refusal_threshold,
                     "max_quote_chars": settings.max_quote_chars, "reader": settings.reader,
                     "reader_memory": settings.reader_memory,
                     "collection_rendering_threshold": settings.collection_rendering_threshold,
                     "collection_renderings_per_word": settings.collection_renderings_per_word}
        return replace(cls(), **{k: v for k, v in overrides.items() if v is not None})
