"""Pages a question names by their title: "the data architecture section", "agentic AI intro".

When a question names a page by the words of its title, that page is what it asks about,
however the calibrated relevance model ranks it: the model learned from questions that
describe a need, and a question that names a page outright ("what does the responsible AI
part of the lens list?") looks like the needs of many pages at once. Titles are matched on
their distinctive words, the words left once stop words and the lens's own name
("generative", "AI" of ``generative-ai``) are set aside: all of them must occur in the
question. A title with a single distinctive word ("The generative AI lifecycle", "Agentic
AI") counts only when the question writes it next to a word of the lens's name ("the gen AI
lifecycle", "agentic AI"), as titles do; alone, "lifecycle" or "agentic" is as likely a
practice's topic (a model lifecycle pipeline, an agentic workflow's recovery).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from corpus.models import Chunk
from index.sparse import STOPWORDS

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(STOPWORDS)


def _words(text: str) -> list[str]:
    """Lower-case content words, a plural's ``s`` dropped ("principles" names "principle")."""
    return [
        w[:-1] if w.endswith("s") and len(w) > 3 else w
        for w in _WORD.findall(text.lower())
        if w not in _STOP
    ]


class TitleNames:
    """The distinctive title words of every page, and which pages a question names."""

    def __init__(self, titles: Iterable[tuple[str, str]], lens_words: Iterable[str]) -> None:
        """Index ``(page id, title)`` pairs; ``lens_words`` spell the lens's own name."""
        self.lens_words = frozenset(_words(" ".join(lens_words)))
        self.distinctive: dict[str, frozenset[str]] = {}
        for page, title in titles:
            words = frozenset(w for w in _words(title) if w not in self.lens_words)
            if words:
                self.distinctive[page] = words

    def named(self, question: str) -> list[str]:
        """Return the pages whose title ``question`` names, in index order."""
        words = _words(question)
        present = set(words)
        near_name = {
            w
            for i, w in enumerate(words)
            if any(n in self.lens_words for n in words[max(i - 1, 0) : i] + words[i + 1 : i + 2])
        }
        return [
            page
            for page, title in self.distinctive.items()
            if title <= present and (len(title) > 1 or title <= near_name)
        ]


def title_names(pages: Sequence[str], chunks: Sequence[Chunk]) -> TitleNames:
    """Build the title table of the router's ``pages`` from the index's chunks."""
    wanted = set(pages)
    titles = {c.page_id: c.title for c in chunks if c.page_id in wanted}
    lenses = {c.lens.replace("-", " ") for c in chunks}
    return TitleNames(((p, titles[p]) for p in pages if p in titles), lenses)
