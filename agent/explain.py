"""Model-written explanations for review gaps, held to the same citation checks as answers."""

from __future__ import annotations

from agent.citations import verify
from agent.prompts import GAP_EXPLANATION_PROMPT, escape_untrusted, render_passages
from agent.tools import passage

MAX_EXPLAINED_GAPS = 8


def explain_gaps(review, index, chat_model, settings) -> None:
    """Replace the rule text of the top gaps with verified, cited explanations from the model.

    An explanation that fails the citation check (or a model error) keeps the rule's own
    text and adds a warning to the review, so a review never shows an unverified claim.
    """
    from agent.models import describe_model_error

    labels = {c.id: c.name for c in review.architecture.components}
    for finding in review.by_risk("gap")[:MAX_EXPLAINED_GAPS]:
        chunks = index.chunks_of(finding.bp_id)
        passages = {c.chunk_id: passage(c, 1.0, finding.bp_id) for c in chunks}
        evidence = "\n".join(escape_untrusted(labels.get(e, e)) for e in finding.evidence)
        prompt = GAP_EXPLANATION_PROMPT.format(
            bp_id=finding.bp_id,
            title=finding.title,
            risk=finding.risk,
            evidence=evidence or "(no component names this gap)",
            passages=render_passages(passages.values()),
        )
        try:
            reply = chat_model.invoke(prompt)
        except Exception as exc:
            review.warnings.append(f"gap explanations stopped: {describe_model_error(exc)}")
            return
        checked = verify(reply.text, passages, index.page_urls, index.embedder.encode)
        if checked.ok and checked.citations:
            finding.explanation = checked.text.strip()
        else:
            review.warnings.append(
                f"the model's explanation of {finding.bp_id} failed the citation check; "
                "the rule's explanation is shown instead"
            )
