"""Words, folding and snippets for `_search`, by the same rules as the database's index.

A word is a run of letters and digits (with the combining marks that belong to them); words are
compared after folding: canonical decomposition, combining marks removed, lower case (`Café` ->
`cafe`). That is what SQLite's `unicode61 remove_diacritics 2` does, so the two agree; compatibility
forms (`ﬁ`, `ª`) and full case folding (`ß` -> `ss`) are left out because FTS5 does not apply them
either. The index narrows the candidates down; these rules decide, so both databases give the same
answers, and the offsets point into the original text.
"""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypedDict

SNIPPET_LENGTH = 200
# How much text the snippet keeps before the first hit, when it has to cut.
LEAD_IN = 60
ELLIPSIS = "…"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).lower()


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


def word_spans(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, folded word) for each word of `text`, offsets into `text` itself."""
    start = None
    for index, char in enumerate(text + " "):
        if index < len(text) and _is_word_char(char):
            if start is None:
                start = index
        elif start is not None:
            folded = fold(text[start:index])
            if _WORD.fullmatch(folded):
                yield start, index, folded
            else:
                # Folding may split a word (a letter whose lower case is not a letter): keep its pieces.
                for piece in _WORD.findall(folded):
                    yield start, index, piece
            start = None


def query_words(text: str | None) -> list[str]:
    """The folded words of a search, in order, without repeats; [] means no filter."""
    words = []
    for word in _WORD.findall(fold(text or "")):
        if word not in words:
            words.append(word)
    return words


@dataclass(frozen=True)
class Query:
    """Every word must occur; the last one may also be the start of a longer word."""

    words: tuple[str, ...]

    @property
    def exact(self) -> tuple[str, ...]:
        return self.words[:-1]

    @property
    def prefix(self) -> str:
        return self.words[-1]

    def is_hit(self, word: str) -> bool:
        return word in self.exact or word.startswith(self.prefix)

    def matches(self, text: str) -> bool:
        words = {folded for _, _, folded in word_spans(text)}
        return all(word in words for word in self.exact) and any(word.startswith(self.prefix) for word in words)

    def hits(self, text: str) -> list[tuple[int, int]]:
        return [(start, end) for start, end, folded in word_spans(text) if self.is_hit(folded)]


class Snippet(TypedDict):
    snippet: str
    # [start, end) offsets into `snippet` of each word that matched
    highlights: list[list[int]]


def snippet(text: str, query: Query) -> Snippet:
    """{"snippet", "highlights"}: at most SNIPPET_LENGTH characters around the first hit."""
    hits = query.hits(text)
    if len(text) <= SNIPPET_LENGTH:
        return {"snippet": text, "highlights": [list(hit) for hit in hits]}
    first = hits[0][0] if hits else 0
    start = max(0, first - LEAD_IN)
    # Begin at a word's start when one is near, rather than in the middle of one.
    if start > 0:
        space = text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    if len(text) - start <= SNIPPET_LENGTH - 1:
        start = len(text) - (SNIPPET_LENGTH - 1)
        end = len(text)
    else:
        end = start + SNIPPET_LENGTH - (2 if start > 0 else 1)
    lead = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < len(text) else ""
    shift = len(lead) - start
    return {
        "snippet": lead + text[start:end] + tail,
        "highlights": [[hit_start + shift, hit_end + shift] for hit_start, hit_end in hits
                       if hit_start >= start and hit_end <= end],
    }
