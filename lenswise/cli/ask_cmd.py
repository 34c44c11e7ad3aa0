"""``lenswise ask``: a grounded, cited answer (extractive by default, or a Bedrock model)."""

from __future__ import annotations

import argparse
import json
import sys

from agent.config import Settings
from lenswise.cli import add_common, checked


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``ask`` command."""
    parser = sub.add_parser("ask", help="ask a question; get an answer cited to the lens")
    add_common(parser)
    parser.add_argument("question", help="your question (quote it)")
    parser.add_argument("--model", help="extractive (default) or bedrock_converse:<model-id>")
    parser.add_argument("--diagram", help="a diagram or IaC file the question is about")
    parser.add_argument(
        "--thread",
        type=checked(_thread),
        help="conversation id (letters, digits, . _ -; as MCP's thread_id): follow-ups see "
        "earlier turns",
    )
    parser.add_argument("--pillar", help="only use this pillar's practices")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    parser.add_argument("--stream", action="store_true", help="print tokens as they arrive")
    parser.set_defaults(handler=run)


def _thread(text: str) -> str:
    from agent.conversations import shared_thread_id  # only when --thread is given

    return shared_thread_id(text)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Answer the question and print it with its sources."""
    from agent import LensAssistant
    from agent.events import final_answer
    from agent.fixes import fix_for_question, render_fix

    lens = LensAssistant(
        settings, model=args.model, notify=lambda line: print(line, file=sys.stderr)
    )
    kwargs = {"thread_id": args.thread, "diagram": args.diagram, "pillar": args.pillar}
    fix = fix_for_question(lens, args.diagram, args.question)  # issue 24: "how do we fix X?"
    if args.json:
        out = lens.ask(args.question, **kwargs).to_dict()
        if fix:
            out["fix"] = fix
        print(json.dumps(out, ensure_ascii=False))
        return 0
    streamed: list[str] = []

    def echo(text: str) -> None:
        streamed.append(text)
        sys.stdout.write(text)
        sys.stdout.flush()

    answer = final_answer(lens.stream(args.question, **kwargs), echo if args.stream else None)
    if not args.stream:
        print(answer.text)
    elif "".join(streamed).strip() != answer.text.strip():
        print("\n\n--- verified answer ---\n" + answer.text)
    print()
    if fix:
        print(render_fix(fix))
    if answer.citations:
        print("Sources:")
        for c in answer.citations:
            label = c.bp_id or c.title
            risk = f" [{c.risk} risk]" if c.risk else ""
            print(f"  {label}{risk}: {c.url}")
    for warning in answer.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(
        f"(thread {answer.thread_id}; {answer.timings_ms.get('total', 0):.0f} ms)", file=sys.stderr
    )
    return 0
