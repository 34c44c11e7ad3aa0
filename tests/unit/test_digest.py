import copy
import json
import re

import pytest

from corpus.loaders.builtin import BUILTIN_DIR, check, read_digest
from corpus.services import SERVICES
from corpus.sources import load_source

DIGEST = BUILTIN_DIR / "generative-ai"
OFFICIAL = re.compile(
    r"^https://docs\.aws\.amazon\.com/wellarchitected/latest/generative-ai-lens/[a-z0-9-]+\.html$"
)


@pytest.fixture(scope="module")
def digest(tmp_path_factory):
    return load_source("builtin", home=tmp_path_factory.mktemp("h"))


def test_every_best_practice_matches_the_lens_facts(digest, shared_lens):
    facts = json.loads((shared_lens / "genai_lens_index.json").read_text())
    practices = digest.best_practices()
    expected = {bp["id"]: q for q in facts["questions"] for bp in q["best_practices"]}
    assert set(practices) == set(expected)
    for q in facts["questions"]:
        for bp in q["best_practices"]:
            doc = practices[bp["id"]]
            assert (doc.title, doc.risk, doc.url) == (bp["title"], bp["risk"], bp["url"])
            assert (doc.pillar, doc.question_id, doc.question_title) == (
                q["pillar"],
                q["question_id"],
                q["question_short_title"],
            )


def test_digest_is_complete_and_consistent(digest):
    practices = digest.best_practices()
    assert len(practices) == 51
    assert len({d.question_id for d in practices.values()}) == 29
    assert digest.edition == "2025-11"
    for doc in digest.documents:
        assert OFFICIAL.match(doc.url), doc.url
    for bp_id, doc in practices.items():
        assert set(doc.related) <= set(practices), bp_id
        assert doc.services and set(doc.services) <= set(SERVICES), bp_id
        steps = next(s.text for s in doc.sections if s.heading == "Implementation steps")
        assert 4 <= steps.count("\n- ") + 1 <= 8, bp_id
        summary = doc.sections[0].text
        assert 2 <= len(re.findall(r"[.!?](\s|$)", summary)) <= 5, bp_id
    pages = {d.doc_id for d in digest.documents if not d.bp_id and not d.question_id}
    assert {
        "design-principles",
        "lifecycle",
        "responsible-ai",
        "data-architecture",
        "agentic-ai",
    } <= pages
    assert len([p for p in pages if p.startswith("scenario-")]) == 8
    rai = next(d for d in digest.documents if d.doc_id == "responsible-ai")
    for dimension in (
        "fairness",
        "explainability",
        "privacy",
        "safety",
        "controllability",
        "veracity",
        "governance",
        "transparency",
    ):
        assert dimension in rai.text.lower()


def test_schema_check_catches_broken_entries():
    front, pillars = read_digest(DIGEST)
    assert check(front, pillars) == []
    broken = copy.deepcopy(pillars)
    bp = broken[0]["questions"][0]["best_practices"][0]
    bp["risk"] = "Severe"
    bp["services"] = ["not-a-service"]
    bp["related"] = ["GENXXX99-BP99"]
    bp["steps"] = []
    problems = " ".join(check(front, broken))
    for needle in ("risk must be", "unknown service slug", "unknown related id", "missing steps"):
        assert needle in problems


def _words(text: str, titles: list[str]) -> list[str]:
    flat = " ".join(re.findall(r"[a-z0-9]+", text.lower()))
    for title in titles:
        flat = flat.replace(title, " ")
    return flat.split()


def test_no_run_of_twelve_words_is_copied_from_the_lens(shared_lens):
    facts = json.loads((shared_lens / "genai_lens_index.json").read_text())
    titles = []
    for q in facts["questions"]:
        titles += [q["question_short_title"], q.get("question_text") or ""]
        titles += [
            t for bp in q["best_practices"] for t in (bp["title"], bp.get("title_older_copy"))
        ]
    titles = sorted(
        {" ".join(re.findall(r"[a-z0-9]+", t.lower())) for t in titles if t}, key=len, reverse=True
    )
    titles = [t for t in titles if len(t.split()) >= 4]
    runs = set()
    for path in shared_lens.rglob("*"):
        if path.suffix in (".md", ".json") and path.is_file():
            words = _words(path.read_text(errors="ignore"), titles)
            runs.update(" ".join(words[i : i + 12]) for i in range(len(words) - 11))
    for path in sorted(DIGEST.glob("*.yaml")):
        words = _words(path.read_text(), titles)
        copied = [
            " ".join(words[i : i + 12])
            for i in range(len(words) - 11)
            if " ".join(words[i : i + 12]) in runs
        ]
        assert not copied, f"{path.name} repeats lens text: {copied[:2]}"
