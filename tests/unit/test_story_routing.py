"""Workload stories and multi-part questions: concerns, open requests, and a page per part.

The router is a stub that answers fixed page probabilities per text, so these tests check
the planning logic (which clause is routed, which page is kept), not the model's ranking.
"""

from types import SimpleNamespace

from agent.graph import _with_pages
from agent.routing import Story, is_open_ask, split_story
from agent.state import Routing
from index.relevance import PageScore

AGENT = "we're building an agent that cancels subscriptions for customers through our billing API"
STAY_UP = "customers in five countries need it to stay up"
STORY = f"{AGENT}, and {STAY_UP}. what should we have in place?"


class StubIndex:
    """Page probabilities per text; pages named ``GEN...`` are practices, others overviews.

    Each page is one chunk (its id is the page's); ``steps`` holds a text's chunk similarities.
    """

    def __init__(
        self,
        ranks: dict[str, dict[str, float]],
        intents: dict[str, str] | None = None,
        steps: dict[str, dict[str, float]] | None = None,
    ):
        self.ranks = ranks
        self.intents = intents or {}
        self.steps = steps or {}
        self.router = SimpleNamespace(select=lambda ranked: ranked[:1])

    def rank_pages(self, text: str, pillar: str | None = None) -> list[PageScore]:
        scores = self.ranks.get(text, {})
        return [PageScore(p, v) for p, v in sorted(scores.items(), key=lambda kv: -kv[1])]

    def chunk_similarity(self, text: str) -> dict[str, float]:
        return self.steps.get(text, {})

    def scope(self, text: str):
        return SimpleNamespace(intent=self.intents.get(text))

    def chunks_of(self, page: str):
        practice = page.startswith("GEN")
        return [
            SimpleNamespace(
                chunk_id=page,
                page_id=page,
                bp_id=page if practice else None,
                question_id=page.split("-BP")[0] if practice else None,
                title="Scenario: autonomous call center" if not practice else page,
            )
        ]


def _routing(query: str) -> Routing:
    return Routing(
        kind="lens",
        answer="howto",
        intent=None,
        pages=[],
        support=[],
        parts=[],
        explanation="",
        query=query,
        pillar=None,
        ids=[],
        unknown_ids=[],
    )


def test_a_story_is_split_into_the_workload_and_its_constraints():
    story = split_story(STORY)
    assert story is not None
    assert story.ask == "what should we have in place?"
    assert story.concerns == [AGENT, STAY_UP]
    short = split_story("marketing wants descriptions for 50k products, overnight is fine. why?")
    assert short is not None  # a clause too short to stand alone stays with its neighbour
    assert short.concerns == ["marketing wants descriptions for 50k products, overnight is fine"]


def test_questions_that_are_not_stories_are_left_alone():
    for question in (
        "how do we stop prompt injection?",  # one request, no description
        "we fine-tune monthly. how do we cut energy, and how do we filter the data?",  # parts
        "we have a chatbot. should we use guardrails or just filter in our lambda?",  # comparison
        "how do we log calls? we use bedrock.",  # the request does not come last
        "since the lens says agents need broad rights, what's a sensible set?",  # no statement
    ):
        assert split_story(question) is None, question


def test_an_open_request_is_decided_by_the_router():
    index = StubIndex(
        {
            "what should we have in place?": {"GENREL04-BP01": 0.7},
            "what should we think about?": {"GENOPS05-BP01": 0.2},
            "what does the lens say we need?": {"scenario-autonomous-call-center": 0.9},
            "what does the call center scenario say?": {"scenario-autonomous-call-center": 0.9},
            "how do we keep that affordable?": {"GENCOST01-BP01": 0.7},
        },
        intents={
            "what should we have in place?": "prioritize",
            "how should the subnets look so nothing is exposed?": "prioritize",
        },
    )
    # a request with enough words of its own is a question, whatever the router says
    assert not is_open_ask("how should the subnets look so nothing is exposed?", index)
    assert is_open_ask("what should we have in place?", index)  # reads as a design intent
    assert is_open_ask("what should we think about?", index)  # no page is likely
    assert is_open_ask("what does the lens say we need?", index)  # an overview it does not name
    assert not is_open_ask("what does the call center scenario say?", index)
    assert not is_open_ask("how do we keep that affordable?", index)  # it names cost


def test_a_story_gets_practices_from_more_than_one_question_and_no_overview_lead():
    story = split_story(STORY)
    assert story is not None
    scene = f"{AGENT}, and {STAY_UP}."
    index = StubIndex(
        {
            scene: {
                "scenario-autonomous-call-center": 0.95,
                "GENSEC05-BP01": 0.9,
                "GENREL05-BP01": 0.6,
            },
            AGENT: {"GENSEC05-BP01": 0.95, "GENSEC05-BP02": 0.9},
            STAY_UP: {"GENREL05-BP01": 0.8, "GENOPS02-BP01": 0.4},
            STORY: {"scenario-autonomous-call-center": 0.99},
        }
    )
    routing = _with_pages(SimpleNamespace(index=index), _routing(STORY), [], None, story)
    assert routing["pages"] == ["GENSEC05-BP01", "GENREL05-BP01"]
    assert [part["question"] for part in routing["parts"]] == [story.scene, STAY_UP]


def test_a_story_no_concern_of_which_names_a_practice_is_routed_as_a_whole():
    story = Story("we run a shop.", "what do we need?", ["we run a shop"])
    index = StubIndex({"we run a shop.": {"GENCOST01-BP01": 0.3}, "q": {"GENOPS01-BP01": 0.8}})
    routing = _with_pages(SimpleNamespace(index=index), _routing("q"), [], None, story)
    assert routing["pages"] == ["GENOPS01-BP01"]


def test_a_two_part_question_gets_a_page_per_part():
    first = "we want a dashboard of token counts per model"
    second = "a way to replay every step our agent took"
    vague = "should we change it?"
    question = f"{first}, and separately {second}. {vague}"
    index = StubIndex(
        {
            question: {"GENOPS02-BP02": 1.0, "GENOPS03-BP02": 0.2, "GENOPS05-BP01": 0.1},
            first: {"GENOPS02-BP02": 1.0},
            # the whole question does not back the second part's page; the part in its
            # question does, and it says enough on its own
            second: {"GENOPS03-BP02": 0.99},
            ", and separately a way to replay every step our agent took.": {"GENOPS03-BP02": 0.9},
            vague: {"GENOPS05-BP01": 0.9},
            ", and separately . should we change it?": {"GENOPS05-BP01": 0.9},
        }
    )
    parts = [first, second, vague]
    routing = _with_pages(SimpleNamespace(index=index), _routing(question), parts, None)
    assert routing["pages"] == ["GENOPS02-BP02", "GENOPS03-BP02"]
    assert [part["pages"] for part in routing["parts"]] == [
        ["GENOPS02-BP02"],
        ["GENOPS03-BP02"],
        [],  # a vague part does not back its own drift
    ]


def test_a_part_whose_question_adds_nothing_to_it_does_not_back_itself():
    first = "which bedrock numbers belong on our on-call dashboard"
    second = "what should we have prepared for when those alarms go off"
    question = f"{first}, and {second}?"
    index = StubIndex(
        {
            question: {"GENOPS02-BP02": 0.9, "GENSEC01-BP02": 0.1},
            first: {"GENSEC01-BP02": 0.7},
            f"{first}, and": {"GENSEC01-BP02": 0.7},  # the part with "and": nothing of its own
            second: {"GENOPS02-BP02": 0.9},
        }
    )
    routing = _with_pages(SimpleNamespace(index=index), _routing(question), [first, second], None)
    assert routing["pages"] == ["GENOPS02-BP02"]


def test_a_story_with_one_practice_has_it_scored_on_the_whole_question():
    story = Story("we run a shop.", "what do we need?", ["we run a shop"])
    index = StubIndex({"we run a shop.": {"GENCOST01-BP01": 0.8, "agentic-ai": 0.9}})
    routing = _with_pages(SimpleNamespace(index=index), _routing("q"), [], None, story)
    assert routing["pages"] == ["GENCOST01-BP01"] and routing["parts"] == []


FIRST = "how should we manage the prompt templates"
SHORTER = "how do we make them shorter without breaking things"
SPRAWL = f"our prompts keep growing. {FIRST}, and {SHORTER}?"
SPRAWL_RANKS = {
    SPRAWL: {"GENOPS03-BP01": 1.0, "GENCOST03-BP01": 0.6, "GENCOST03-BP02": 0.1},
    FIRST: {"GENOPS03-BP01": 0.99},
    # the part alone prefers output length, which the question does not back; prompt length,
    # just below it, both find likely
    SHORTER: {"GENCOST03-BP02": 0.98, "GENCOST03-BP01": 0.93},
}


def _part_pages_of(steps: dict[str, float]) -> list[list[str]]:
    index = StubIndex(SPRAWL_RANKS, steps={SHORTER: steps})
    routing = _with_pages(SimpleNamespace(index=index), _routing(SPRAWL), [FIRST, SHORTER], None)
    return [part["pages"] for part in routing["parts"]]


def test_a_part_takes_the_page_both_agree_on_when_its_closest_step_is_there():
    steps = {"GENCOST03-BP01": 0.18, "GENCOST03-BP02": 0.13}
    assert _part_pages_of(steps) == [["GENOPS03-BP01"], ["GENCOST03-BP01"]]


def test_the_agreed_page_is_not_taken_when_the_parts_closest_step_is_on_another_likely_page():
    steps = {"GENCOST03-BP01": 0.13, "GENCOST03-BP02": 0.18}
    assert _part_pages_of(steps) == [["GENOPS03-BP01"], []]


def test_a_page_only_one_side_finds_likely_is_not_taken():
    part = "how do we make them shorter without breaking things"
    question = f"our prompts keep growing. {part}?"
    index = StubIndex(
        {question: {"GENOPS03-BP01": 1.0, "GENCOST03-BP01": 0.4}, part: {"GENCOST03-BP01": 0.9}}
    )
    routing = _with_pages(SimpleNamespace(index=index), _routing(question), [part, "x"], None)
    assert routing["parts"][0]["pages"] == []


def test_a_part_keeps_its_own_page_when_the_page_agreed_more_on_lacks_its_closest_step():
    part = "putting a public chatbot on our website"
    question = f"we are {part}. what matters?"
    index = StubIndex(
        {
            question: {"GENSEC01-BP02": 0.9, "GENSEC04-BP02": 0.7},
            part: {"GENSEC04-BP02": 0.95, "GENSEC01-BP02": 0.9},
        },
        steps={part: {"GENSEC04-BP02": 0.4, "GENSEC01-BP02": 0.3}},
    )
    routing = _with_pages(SimpleNamespace(index=index), _routing(question), [part, "x"], None)
    assert routing["parts"][0]["pages"] == ["GENSEC04-BP02"]


def test_a_concern_whose_agreed_page_the_lead_covers_falls_back_to_its_own_page():
    concern = "putting a public chatbot on our website with bedrock"
    story = Story(f"tiny startup here, {concern}.", "what matters?", ["tiny startup", concern])
    index = StubIndex(
        {
            story.scene: {"GENSEC01-BP02": 0.9, "GENSEC04-BP02": 0.7},
            concern: {"GENSEC04-BP02": 0.95, "GENSEC01-BP02": 0.9},
        },
        steps={concern: {"GENSEC01-BP02": 0.4, "GENSEC04-BP02": 0.3}},
    )
    routing = _with_pages(SimpleNamespace(index=index), _routing("q"), [], None, story)
    assert routing["pages"] == ["GENSEC01-BP02", "GENSEC04-BP02"]
