"""A Well-Architected Tool endpoint on 127.0.0.1 speaking the service's REST-JSON protocol.

moto does not implement ``wellarchitected``, so this server reads botocore's own service
model (``botocore/data/wellarchitected/*/service-2.json``): request routes (method and URI
template), where each input member travels (path label, query string, JSON body), the input
shapes' limits (required members, string and list lengths, enums, integer ranges) and each
error's HTTP status. Requests are validated like the service does (botocore itself checks
minimums only), answers are serialised in the output shapes, errors carry
``x-amzn-ErrorType``. Workloads, lens reviews, answers and milestones live in memory;
faults (throttling, access denied...) are scripted per operation. Point boto3 at it with
``AWS_ENDPOINT_URL_WELLARCHITECTED`` (the :func:`fake_wa` fixture does).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from botocore.loaders import Loader

from corpus.vocabulary import PILLARS
from evals.loopback import LoopbackServer, owner_of
from tests.fake_bedrock import use_fake_aws_env

MODEL = Loader().load_service_model("wellarchitected", "service-2")
SHAPES = MODEL["shapes"]
NONE_TITLE = "None of these"
GENAI_ARN = "arn:aws:wellarchitected::aws:lens/genai"


class ServiceError(Exception):
    """An error answer: the error shape's name, its message and extra members."""

    def __init__(self, code: str, message: str, **members: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.members = code, message, members

    @property
    def status(self) -> int:
        return SHAPES[self.code]["error"]["httpStatusCode"]


@dataclass
class RawReply:
    """A scripted reply sent as is: ``body`` bytes with HTTP ``status``."""

    def __init__(self, body: bytes, status: int = 200) -> None:
        self.body, self.status = body, status


@dataclass
class Recorded:
    """One request as the service understood it: operation name and its input members."""

    operation: str
    params: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LensQuestion:
    """A question of a test lens: id, pillar, title and its choices (API ``Choice`` dicts)."""

    question_id: str
    pillar_id: str
    title: str
    choices: list[dict[str, Any]]


@dataclass
class FakeLens:
    """A lens the fake serves: its ARN, short alias, name, version and questions."""

    arn: str
    alias: str
    name: str
    version: str
    questions: list[LensQuestion]

    def question(self, question_id: str) -> LensQuestion:
        for q in self.questions:
            if q.question_id == question_id:
                return q
        raise ServiceError(
            "ResourceNotFoundException",
            f"Question {question_id} not found in lens {self.alias}",
            ResourceId=question_id,
            ResourceType="QUESTION",
        )


def choice(choice_id: str, title: str, url: str | None = None) -> dict[str, Any]:
    """Build an API ``Choice``: improvement plan pointing at ``url`` when given."""
    raw: dict[str, Any] = {"ChoiceId": choice_id, "Title": title, "Description": title}
    raw["HelpfulResource"] = {"DisplayText": title}
    if url:
        raw["ImprovementPlan"] = {"DisplayText": title, "Url": url}
    return raw


def none_choice(question_id: str) -> dict[str, Any]:
    """Build the "None of these" choice every question of an AWS lens ends with."""
    return choice(f"{question_id}_no", NONE_TITLE)


# --- test lenses ------------------------------------------------------------------------------

DROPPED = "GENPERF04-BP01"
"""A practice this lens version has no choice for."""
BY_TITLE = "GENOPS02-BP01"
"""A practice whose choice has no URL and a differently written title."""
RESPELLED = "GENSEC04-BP02"
"""A practice whose choice URL is spelled differently (scheme, case, fragment)."""
PILLAR_IDS = {p: p[0].lower() + p.title().replace(" ", "")[1:] for p in PILLARS}


def build_genai_lens(corpus) -> tuple[FakeLens, dict[str, tuple[str, str]]]:
    """Build a Generative AI Lens for tests from a corpus's facts (ids, titles, URLs).

    Like a real lens version it has ids of its own (``gensec4``, ``gensec4_2``), choices in
    another order than the practices, :data:`RESPELLED`'s URL spelled differently,
    :data:`BY_TITLE` known only by a retitled choice, :data:`DROPPED` missing, an extra choice
    on GENSEC01 and "None of these" on every question.

    Returns:
        The lens, and where each practice's choice is: bp id -> (question id, choice id).
    """
    practices = corpus.best_practices()
    where: dict[str, tuple[str, str]] = {}
    questions = []
    for qdoc in (d for d in corpus.documents if d.question_id and not d.bp_id):
        qid = re.sub(r"0(\d)$", r"\1", qdoc.doc_id.lower())  # GENSEC04 -> gensec4
        own = sorted((p for p in practices.values() if p.question_id == qdoc.doc_id), key=str)
        choices = []
        for number, bp in enumerate(reversed(own), 1):  # choice numbers do not follow BP numbers
            if bp.bp_id == DROPPED:
                continue
            title, url = bp.title, bp.url
            if bp.bp_id == BY_TITLE:
                title, url = bp.title.upper() + ".", None
            if bp.bp_id == RESPELLED:
                url = url.replace("https://docs", "HTTP://www.DOCS") + "#implementation-guidance"
            choices.append(choice(f"{qid}_{number}", title, url))
            where[bp.bp_id] = (qid, f"{qid}_{number}")
        if qdoc.doc_id == "GENSEC01":
            choices.append(choice(f"{qid}_new", "Rotate model credentials", qdoc.url + "#new"))
        choices.append(none_choice(qid))
        questions.append(
            LensQuestion(qid, PILLAR_IDS[qdoc.pillar], f"How do you handle {qdoc.title}?", choices)
        )
    return FakeLens(GENAI_ARN, "genai", "Generative AI Lens", "2025-11", questions), where


FRAMEWORK = FakeLens(
    "arn:aws:wellarchitected::aws:lens/wellarchitected",
    "wellarchitected",
    "AWS Well-Architected Framework",
    "2024-06",
    [LensQuestion("ops1", "operationalExcellence", "How do you determine priorities?", [])],
)


# --- the REST-JSON protocol, driven by the service model ---------------------------------------


def _route(operation: str) -> tuple[str, re.Pattern[str]]:
    http = MODEL["operations"][operation]["http"]
    path = re.sub(r"\{(\w+)\+?\}", r"(?P<\1>[^/]+)", http["requestUri"].split("?")[0])
    return http["method"], re.compile(f"^{path}$")


def _validate(shape_name: str, value: Any, where: str) -> None:
    """Check ``value`` against a shape's limits the way the service does (sender fault 400)."""
    shape = SHAPES[shape_name]
    kind = shape["type"]

    def bad(message: str) -> ServiceError:
        return ServiceError(
            "ValidationException",
            f"1 validation error detected: Value at '{where}' failed to satisfy constraint: "
            f"{message}",
            Reason="FIELD_VALIDATION_FAILED",
        )

    if kind == "structure":
        if not isinstance(value, dict):
            raise bad("Member must be a structure")
        for name in shape.get("required", []):
            if value.get(name) is None:
                raise bad(f"Member {name} must not be null")
        for name, member in shape["members"].items():
            if value.get(name) is not None:
                _validate(member["shape"], value[name], f"{where}.{name}" if where else name)
    elif kind == "list":
        if len(value) < shape.get("min", 0) or len(value) > shape.get("max", 10**9):
            raise bad(
                f"Member must have length between {shape.get('min', 0)} and {shape.get('max')}"
            )
        for index, item in enumerate(value):
            _validate(shape["member"]["shape"], item, f"{where}.{index + 1}")
    elif kind == "map":
        for key, item in value.items():
            _validate(shape["key"]["shape"], key, f"{where}.key")
            _validate(shape["value"]["shape"], item, f"{where}.{key}")
    elif kind == "string":
        if len(value) < shape.get("min", 0) or len(value) > shape.get("max", 10**9):
            raise bad(
                f"Member must have length between {shape.get('min', 0)} and {shape.get('max')}"
            )
        if "enum" in shape and value not in shape["enum"]:
            raise bad(f"Member must satisfy enum value set: {shape['enum']}")
    elif kind == "integer":
        if value < shape.get("min", -(10**9)) or value > shape.get("max", 10**9):
            raise bad(f"Member must be between {shape.get('min')} and {shape.get('max')}")


def _coerce(shape_name: str, raw: str) -> Any:
    return int(raw) if SHAPES[shape_name]["type"] == "integer" else raw


def parse_request(
    operation: str, labels: dict[str, str], query: dict[str, list[str]], body: dict
) -> dict:
    """Collect an operation's input members from the path, query string and JSON body."""
    shape = SHAPES[MODEL["operations"][operation]["input"]["shape"]]
    params: dict[str, Any] = {}
    for name, member in shape["members"].items():
        location, wire = member.get("location"), member.get("locationName", name)
        if location == "uri":
            params[name] = unquote(labels[wire])
        elif location == "querystring":
            if wire in query:
                params[name] = _coerce(member["shape"], query[wire][0])
        elif location is None and name in body:
            params[name] = body[name]
    _validate(MODEL["operations"][operation]["input"]["shape"], params, "")
    return params


# --- the service's behaviour -------------------------------------------------------------------


@dataclass
class Workload:
    """A workload and its lens reviews (answers by lens ARN and question id)."""

    workload_id: str
    name: str
    lenses: list[str]
    params: dict[str, Any]
    answers: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    milestones: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _serve(self) -> None:
        split = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        for operation, (method, pattern) in ROUTES.items():
            found = pattern.match(split.path)
            if (
                method == self.command
                and found
                and hasattr(owner_of(self, FakeWellArchitected), f"op_{operation}")
            ):
                break
        else:
            self._error(
                ServiceError("ValidationException", f"no route {self.command} {split.path}")
            )
            return
        try:
            params = parse_request(
                operation, found.groupdict(), parse_qs(split.query), json.loads(raw or b"{}")
            )
            body = owner_of(self, FakeWellArchitected).handle(operation, params, headers)
        except ServiceError as exc:
            self._error(exc)
            return
        if isinstance(body, RawReply):
            self._send(body.status, body.body)
            return
        self._send(200, json.dumps(body).encode())

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def _error(self, exc: ServiceError) -> None:
        body = json.dumps({"Message": exc.message, **exc.members}).encode()
        self._send(exc.status, body, {"x-amzn-ErrorType": exc.code})

    def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", uuid.uuid4().hex)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class FakeWellArchitected(LoopbackServer):
    """The in-memory service behind the HTTP handler.

    ``lenses`` are the lenses it knows; ``add_workload`` seeds an existing workload (with
    answers a person gave); ``fail(operation, code, times)`` scripts faults; ``requests``
    records what arrived, in order.
    """

    handler = _Handler

    def __init__(self, lenses: list[FakeLens], page_size: int = 50) -> None:
        self.lenses = lenses
        self.page_size = page_size
        self.workloads: dict[str, Workload] = {}
        self.requests: list[Recorded] = []
        self.region = "us-east-1"
        self._faults: dict[str, list[ServiceError | None]] = defaultdict(list)
        self._replies: dict[str, list[tuple[RawReply, bool]]] = defaultdict(list)
        self._lock = threading.Lock()

    # -- test controls
    def fail(
        self, operation: str, code: str, times: int = 1, message: str = "", after: int = 0
    ) -> None:
        """Answer ``times`` calls of ``operation`` with error ``code``, after ``after`` succeed."""
        text = message or {
            "ThrottlingException": "Rate exceeded",
            "AccessDeniedException": f"User is not authorized to perform: wellarchitected:"
            f"{operation}",
        }.get(code, code)
        self._faults[operation] += [None] * after + [ServiceError(code, text)] * times

    def misreply(
        self, operation: str, body: bytes, status: int = 200, *, apply: bool = True, times: int = 1
    ) -> None:
        """Answer ``times`` calls of ``operation`` with ``body`` and ``status``, not its reply.

        With ``apply`` the call still takes effect first (a write applied, then a 500 or junk).
        """
        self._replies[operation] += [(RawReply(body, status), apply)] * times

    def add_workload(self, name: str, lenses: list[str], answers: dict | None = None) -> str:
        """Seed an existing workload; ``answers`` maps lens ARN -> question id -> answer."""
        workload = Workload(uuid.uuid4().hex, name, list(lenses), {"WorkloadName": name})
        for lens in lenses:
            workload.answers[self.lens(lens).arn] = {}
        for lens, by_question in (answers or {}).items():
            workload.answers[self.lens(lens).arn].update(by_question)
        self.workloads[workload.workload_id] = workload
        return workload.workload_id

    def calls(self, operation: str) -> list[Recorded]:
        """Return the recorded requests of one operation."""
        return [r for r in self.requests if r.operation == operation]

    def answer(self, workload_id: str, lens: str, question_id: str) -> dict[str, Any]:
        """Return the stored answer of a question (empty when never answered)."""
        return self.workloads[workload_id].answers[self.lens(lens).arn].get(question_id, {})

    # -- lookups
    def lens(self, alias: str) -> FakeLens:
        for lens in self.lenses:
            if alias in (lens.arn, lens.alias):
                return lens
        raise ServiceError(
            "ResourceNotFoundException",
            f"Lens {alias} not found",
            ResourceId=alias,
            ResourceType="LENS",
        )

    def workload(self, workload_id: str) -> Workload:
        if workload_id not in self.workloads:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Workload {workload_id} not found",
                ResourceId=workload_id,
                ResourceType="WORKLOAD",
            )
        return self.workloads[workload_id]

    def review(self, params: dict[str, Any]) -> tuple[Workload, FakeLens]:
        workload = self.workload(params["WorkloadId"])
        lens = self.lens(params["LensAlias"])
        if lens.arn not in workload.answers:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Lens review {params['LensAlias']} not found for workload",
                ResourceId=params["LensAlias"],
                ResourceType="LENS_REVIEW",
            )
        return workload, lens

    def handle(
        self, operation: str, params: dict[str, Any], headers: dict[str, str]
    ) -> dict | RawReply:
        """Serve one validated request (or raise :class:`ServiceError`)."""
        with self._lock:
            self.requests.append(Recorded(operation, params, headers))
            fault = self._faults[operation].pop(0) if self._faults[operation] else None
            if fault is not None:
                raise fault
            if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
                raise ServiceError("AccessDeniedException", "Missing Authentication Token")
            scripted = self._replies[operation].pop(0) if self._replies[operation] else None
            if scripted is None or scripted[1]:
                reply = getattr(self, f"op_{operation}")(params)
            return scripted[0] if scripted else reply

    # -- operations (names as in the service model)
    def op_CreateWorkload(self, p: dict) -> dict:
        if not (p.get("AwsRegions") or p.get("NonAwsRegions")):
            raise ServiceError("ValidationException", "Either AwsRegions or NonAwsRegions required")
        if not p.get("ReviewOwner"):
            raise ServiceError("ValidationException", "ReviewOwner is required")
        if any(w.name.casefold() == p["WorkloadName"].casefold() for w in self.workloads.values()):
            raise ServiceError(
                "ConflictException",
                "Workload name already exists",
                ResourceId=p["WorkloadName"],
                ResourceType="WORKLOAD",
            )
        lenses = [self.lens(alias) for alias in p["Lenses"]]
        workload = Workload(uuid.uuid4().hex, p["WorkloadName"], [], p)
        for lens in lenses:
            workload.lenses.append(lens.alias)
            workload.answers[lens.arn] = {}
        self.workloads[workload.workload_id] = workload
        return {"WorkloadId": workload.workload_id, "WorkloadArn": self._arn(workload)}

    def op_GetWorkload(self, p: dict) -> dict:
        w = self.workload(p["WorkloadId"])
        return {"Workload": {**self._summary(w), "Description": w.params.get("Description", "")}}

    def op_ListWorkloads(self, p: dict) -> dict:
        prefix = p.get("WorkloadNamePrefix", "").casefold()
        found = [
            self._summary(w)
            for w in self.workloads.values()
            if w.name.casefold().startswith(prefix)
        ]
        return self._page(found, p, "WorkloadSummaries")

    def op_AssociateLenses(self, p: dict) -> dict:
        w = self.workload(p["WorkloadId"])
        for alias in p["LensAliases"]:
            lens = self.lens(alias)
            if lens.arn not in w.answers:
                w.lenses.append(lens.alias)
                w.answers[lens.arn] = {}
        return {}

    def op_GetLensReview(self, p: dict) -> dict:
        _, lens = self.review(p)
        return {
            "WorkloadId": p["WorkloadId"],
            "LensReview": {
                "LensAlias": lens.alias,
                "LensArn": lens.arn,
                "LensVersion": lens.version,
                "LensName": lens.name,
                "LensStatus": "CURRENT",
            },
        }

    def op_ListAnswers(self, p: dict) -> dict:
        w, lens = self.review(p)
        summaries = [
            {**self._answer(w, lens, q, notes=False), "QuestionType": "NON_PRIORITIZED"}
            for q in lens.questions
        ]
        out = self._page(summaries, p, "AnswerSummaries")
        return {**out, "WorkloadId": w.workload_id, "LensAlias": lens.alias, "LensArn": lens.arn}

    def op_GetAnswer(self, p: dict) -> dict:
        w, lens = self.review(p)
        return {
            "WorkloadId": w.workload_id,
            "LensAlias": lens.alias,
            "LensArn": lens.arn,
            "Answer": self._answer(w, lens, lens.question(p["QuestionId"])),
        }

    def op_UpdateAnswer(self, p: dict) -> dict:
        w, lens = self.review(p)
        q = lens.question(p["QuestionId"])
        ids = {c["ChoiceId"] for c in q.choices}
        unknown = [c for c in p.get("SelectedChoices", []) if c not in ids]
        if unknown:
            raise ServiceError("ValidationException", f"Invalid choice ids {unknown}")
        none = f"{q.question_id}_no"
        if none in p.get("SelectedChoices", []) and len(p["SelectedChoices"]) > 1:
            raise ServiceError("ValidationException", "None of these cannot be combined")
        stored = w.answers[lens.arn].setdefault(q.question_id, {})
        for key in ("SelectedChoices", "Notes", "IsApplicable", "Reason"):
            if key in p:
                stored[key] = p[key]
        return {
            "WorkloadId": w.workload_id,
            "LensAlias": lens.alias,
            "LensArn": lens.arn,
            "Answer": self._answer(w, lens, q),
        }

    def op_CreateMilestone(self, p: dict) -> dict:
        w = self.workload(p["WorkloadId"])
        if any(m["MilestoneName"] == p["MilestoneName"] for m in w.milestones):
            raise ServiceError(
                "ConflictException",
                "Milestone name exists",
                ResourceId=p["MilestoneName"],
                ResourceType="MILESTONE",
            )
        snapshot = json.loads(json.dumps(w.answers))
        w.milestones.append({"MilestoneName": p["MilestoneName"], "answers": snapshot})
        return {"WorkloadId": w.workload_id, "MilestoneNumber": len(w.milestones)}

    # -- helpers
    def _arn(self, w: Workload) -> str:
        return f"arn:aws:wellarchitected:{self.region}:123456789012:workload/{w.workload_id}"

    def _summary(self, w: Workload) -> dict:
        return {
            "WorkloadId": w.workload_id,
            "WorkloadArn": self._arn(w),
            "WorkloadName": w.name,
            "Owner": "123456789012",
            "UpdatedAt": 1_700_000_000,
            "Lenses": list(w.lenses),
        }

    def _page(self, items: list, p: dict, key: str) -> dict:
        size = min(p.get("MaxResults") or 50, self.page_size)
        start = int(p.get("NextToken") or 0)
        out: dict[str, Any] = {key: items[start : start + size]}
        if start + size < len(items):
            out["NextToken"] = str(start + size)
        return out

    def _risk(self, q: LensQuestion, stored: dict) -> str:
        selected = set(stored.get("SelectedChoices", []))
        if not selected:
            return "UNANSWERED"
        return "NONE" if selected >= {c["ChoiceId"] for c in q.choices[:-1]} else "MEDIUM"

    def _answer(self, w: Workload, lens: FakeLens, q: LensQuestion, notes: bool = True) -> dict:
        """Return a question's ``Answer`` (``AnswerSummary`` without notes: ListAnswers)."""
        stored = w.answers[lens.arn].get(q.question_id, {})
        answer = {
            "QuestionId": q.question_id,
            "PillarId": q.pillar_id,
            "QuestionTitle": q.title,
            "Choices": q.choices,
            "SelectedChoices": stored.get("SelectedChoices", []),
            "IsApplicable": stored.get("IsApplicable", True),
            "Risk": self._risk(q, stored),
        }
        if notes and stored.get("Notes"):
            answer["Notes"] = stored["Notes"]
        return answer


ROUTES = {name: _route(name) for name in MODEL["operations"]}


def use_fake_wa_env(monkeypatch: pytest.MonkeyPatch, endpoint: str) -> None:
    """Point the AWS chain at ``endpoint`` for ``wellarchitected``, with fake credentials."""
    use_fake_aws_env(monkeypatch, "http://127.0.0.1:9")  # no Bedrock in these tests
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # boto3 reads this one, not AWS_REGION
    monkeypatch.setenv("AWS_ENDPOINT_URL_WELLARCHITECTED", endpoint)


def serve(lenses: list[FakeLens], monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Iterator:
    """Run a :class:`FakeWellArchitected` with the environment pointed at it."""
    with FakeWellArchitected(lenses, **kwargs) as server:
        use_fake_wa_env(monkeypatch, server.url)
        yield server
