"""The diagram review screen: upload or paste a design, see its graph, findings and coverage."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd
import streamlit as st

from agent import RISKS
from ui import state
from ui.render import STATUS_LABELS, escape_markdown, is_trusted_url, one_line, slugify
from ui.review_graph import architecture_section
from ui.wa_export import export_panel

if TYPE_CHECKING:
    from agent.api import LensAssistant
    from diagrams import Review
    from diagrams.contracts import CoverageJSON

UPLOAD_TYPES = (
    "drawio",
    "xml",
    "png",
    "svg",
    "mmd",
    "mermaid",
    "md",
    "yaml",
    "yml",
    "json",
    "template",
    "tf",
)
FORMATS_HELP = (
    "draw.io (.drawio, .xml, .drawio.png, .drawio.svg), Mermaid flowcharts and sequence "
    "diagrams (.mmd, .md), "
    "CloudFormation / SAM templates (.yaml, .json) and Terraform (.tf)."
)
STATUS_COLORS = {"Addressed": "#2e7d32", "Gap": "#c62828", "Unknown": "#9e9e9e"}
PASTE_EXAMPLE = """flowchart LR
  user[Users] --> api[Amazon API Gateway]
  api --> fn[AWS Lambda]
  fn --> br[Amazon Bedrock]
  fn --> kb[Bedrock Knowledge Bases]
"""


def _run_review(lens: LensAssistant, data: bytes, filename: str, limit: int) -> None:
    """Review ``data`` and keep the result in the session, or show why it failed."""
    if len(data) > limit:
        st.error(
            escape_markdown(
                f"{filename} is {len(data) / 2**20:.1f} MiB; the limit is "
                f"{limit / 2**20:.0f} MiB. Upload a smaller file."
            ),
            icon=":material/error:",
        )
        return
    if not data.strip():
        message = escape_markdown(f"{filename} is empty: nothing to review.")
        st.error(message, icon=":material/error:")
        return
    try:
        with st.spinner("Parsing the design and reviewing it against the lens…"):
            review = lens.review(data, filename=filename)
    except Exception as exc:  # noqa: BLE001 - input and parser errors become a message
        state.show_error(exc)
        return
    st.session_state[state.REVIEW] = state.ReviewState(
        filename=filename, data=data, review=review, fixes=_plan_fixes(lens, review, data, filename)
    )


def _plan_fixes(lens: LensAssistant, review: Review, data: bytes, filename: str) -> Any:
    """Plan and verify the fixes of an IaC file's gaps (None for drawings or on failure)."""
    from agent.fixes import attach_fixes, file_text

    if not review.architecture.is_iac or not review.by_status("gap"):
        return None
    try:
        with st.spinner("Checking a fix for each gap (re-review, cfn-lint, checkov)…"):
            return attach_fixes(lens, review, file_text(data), filename)
    except Exception as exc:  # noqa: BLE001 - the review stands without its fixes
        state.show_error(exc)
        return None


def _patched_name(filename: str) -> str:
    """Return the download name of a patched file: a slug of the name, its IaC suffix kept."""
    suffix = Path(filename).suffix.lower()
    suffix = suffix if suffix in (".yaml", ".yml", ".json", ".tf") else ".txt"
    return f"fixed-{slugify(Path(filename).stem)}{suffix}"


def _fixes(rs: state.ReviewState) -> None:
    """Show each gap's fix (copyable diff and download) and the whole patched file."""
    plan = rs.fixes
    if plan is None:
        return
    st.markdown("#### Fixes")
    for f in rs.review.by_risk("gap"):
        fix = f.fix
        if fix is None:
            continue
        kind = "verified patch" if fix.verified else "steps only"
        with st.expander(escape_markdown(f"{f.bp_id} · {kind}"), expanded=False):
            if not fix.verified:
                st.markdown(escape_markdown(fix.steps))
                continue
            if fix.params:
                st.caption(escape_markdown("New parameters: " + ", ".join(fix.params)))
            st.code(fix.diff, language="diff")  # the code block has a copy button
            st.download_button(
                "Download this fix (.diff)",
                data=fix.diff,
                file_name=f"{slugify(f.bp_id)}.diff",
                mime="text/x-diff",
                key=f"dl-fix-{f.bp_id}",
                on_click="ignore",
            )
            if fix.notes:
                st.caption(escape_markdown(fix.notes))
    if plan.patched != plan.original:
        st.download_button(
            "Download the patched file (all verified fixes)",
            data=plan.patched,
            file_name=_patched_name(rs.filename),
            icon=":material/download:",
            key="dl-patched",
            on_click="ignore",
        )


def _inputs(lens: LensAssistant, limit: int) -> None:
    upload_tab, paste_tab = st.tabs(["Upload a file", "Paste Mermaid"])
    with upload_tab:
        uploaded = st.file_uploader(
            "Diagram or IaC template",
            type=list(UPLOAD_TYPES),
            key="upload",
            help=FORMATS_HELP,
            max_upload_size=max(1, math.ceil(limit / 2**20)),
        )
        if uploaded is not None and st.session_state.get("review-file-id") != uploaded.file_id:
            st.session_state["review-file-id"] = uploaded.file_id
            _run_review(lens, uploaded.getvalue(), uploaded.name, limit)
        elif uploaded is None:
            # The uploader is also empty after a visit to another screen, so the review is
            # kept (until cleared or replaced); the same file uploaded again is reviewed again.
            st.session_state["review-file-id"] = None
    with paste_tab:
        text = st.text_area("Mermaid flowchart", key="paste", height=160, placeholder=PASTE_EXAMPLE)
        clicked = st.button(
            "Review pasted Mermaid", icon=":material/play_arrow:", disabled=not text.strip()
        )
        if clicked:
            _run_review(lens, text.encode("utf-8"), "pasted.mmd", limit)


def _clear() -> None:
    st.session_state.pop(state.REVIEW, None)
    st.session_state[state.ATTACHED] = False


def _ask_in_chat(question: str | None = None) -> None:
    st.session_state[state.ATTACHED] = True
    st.session_state[state.VIEW] = "Chat"
    if question:
        st.session_state[state.PENDING] = question


STATUS_ORDER = ("gap", "addressed", "unknown")
"""Findings table order: what to fix first, then what the design shows, then what to ask."""


def _table_order(finding: Any) -> tuple[int, int]:
    status = STATUS_ORDER.index(finding.status) if finding.status in STATUS_ORDER else 3
    risk = RISKS.index(finding.risk) if finding.risk in RISKS else len(RISKS)
    return status, risk


def findings_frame(review: Review) -> pd.DataFrame:
    """Return the findings as a table, gaps first, each status by risk (High first).

    Columns: status, risk, id, title, pillar, evidence, why, link.
    """
    arch = review.architecture
    rows = []
    for f in sorted(review.findings, key=_table_order):
        names = []
        for comp_id in f.evidence[:6]:
            comp = arch.component(comp_id)
            names.append(one_line(comp.name if comp else comp_id, 40))
        if len(f.evidence) > 6:
            names.append(f"+{len(f.evidence) - 6} more")
        rows.append(
            {
                "Status": STATUS_LABELS.get(f.status, f.status),
                "Risk": f.risk or "",
                "Best practice": f.bp_id,
                "Title": f.title,
                "Pillar": f.pillar,
                "Evidence": ", ".join(names),
                "Why": f.explanation,
                "Link": f.url,
            }
        )
    columns = ["Status", "Risk", "Best practice", "Title", "Pillar", "Evidence", "Why", "Link"]
    return pd.DataFrame(rows, columns=columns)


def coverage_frame(coverage: CoverageJSON) -> pd.DataFrame:
    """Return per-pillar counts in long form (pillar, status, count) for the chart."""
    rows = [
        {"Pillar": pillar, "Status": STATUS_LABELS[s], "Best practices": counts.get(s, 0)}
        for pillar, counts in coverage.get("by_pillar", {}).items()
        for s in ("addressed", "gap", "unknown")
    ]
    return pd.DataFrame(rows, columns=["Pillar", "Status", "Best practices"])


def coverage_chart(coverage: CoverageJSON) -> alt.Chart:
    """Return a stacked horizontal bar chart of the best practices per pillar by status."""
    frame = coverage_frame(coverage)
    order = list(STATUS_COLORS)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=alt.Y(
                "Pillar:N",
                sort=list(coverage.get("by_pillar", {})),
                title=None,
                axis=alt.Axis(labelLimit=220, labelOverlap=False),
            ),
            x=alt.X("sum(Best practices):Q", title="Best practices"),
            color=alt.Color(
                "Status:N",
                scale=alt.Scale(domain=order, range=[STATUS_COLORS[s] for s in order]),
                legend=alt.Legend(orient="bottom", title=None),
            ),
            order=alt.Order("status_rank:Q"),
            tooltip=["Pillar", "Status", "Best practices"],
        )
        .transform_calculate(status_rank="indexof(['Addressed', 'Gap', 'Unknown'], datum.Status)")
        .properties(height=46 * max(1, len(coverage.get("by_pillar", {}))))
    )


def _summary(rs: state.ReviewState) -> None:
    review = rs.review
    arch, cov = review.architecture, review.coverage
    st.subheader(escape_markdown(rs.filename))
    st.caption(
        escape_markdown(
            f"{arch.format} · services: {', '.join(arch.services) or 'none recognised'}"
        )
    )
    cols = st.columns(6)
    cols[0].metric("Components", len(arch.components))
    cols[1].metric("Connections", len(arch.edges))
    cols[2].metric("Services", len(arch.services))
    cols[3].metric("Addressed", cov["addressed"])
    cols[4].metric("Gaps", cov["gap"])
    cols[5].metric("Unknown", cov["unknown"])
    warnings = list(review.warnings)
    if warnings:
        with st.expander(
            f"Parser notes ({len(warnings)})",
            expanded=len(warnings) <= 3,
            icon=":material/warning:",
        ):
            for warning in warnings:
                st.warning(escape_markdown(warning))


def _findings_table(rs: state.ReviewState) -> None:
    frame = findings_frame(rs.review)
    st.markdown("#### Findings")
    c1, c2, c3 = st.columns(3)
    # Keyed by the reviewed file and cleared through the session, so a new file opens with
    # every filter off (see state.fresh).
    for name in ("pillar", "status", "risk"):
        state.fresh(f"f-{name}-{rs.key}", [])
    pillars = c1.multiselect(
        "Pillar",
        sorted(frame["Pillar"].unique()),
        key=f"f-pillar-{rs.key}",
        placeholder="All pillars",
    )
    statuses = c2.multiselect(
        "Status", list(STATUS_COLORS), key=f"f-status-{rs.key}", placeholder="All statuses"
    )
    risks = c3.multiselect("Risk", list(RISKS), key=f"f-risk-{rs.key}", placeholder="All risks")
    shown = frame
    if pillars:
        shown = shown.loc[lambda f: f["Pillar"].isin(pillars)]
    if statuses:
        shown = shown.loc[lambda f: f["Status"].isin(statuses)]
    if risks:
        shown = shown.loc[lambda f: f["Risk"].isin(risks)]
    st.caption(f"{len(shown)} of {len(frame)} best practices")
    if shown.empty:
        st.info("No finding matches these filters.")
        return
    st.dataframe(
        shown,
        hide_index=True,
        key="findings",
        column_config={
            "Status": st.column_config.TextColumn("Status", width="small"),
            "Risk": st.column_config.TextColumn("Risk", width="small"),
            "Best practice": st.column_config.TextColumn("Best practice", width=125),
            "Title": st.column_config.TextColumn("Title", width="large"),
            "Pillar": st.column_config.TextColumn("Pillar", width="medium"),
            "Evidence": st.column_config.TextColumn("Evidence", width="medium"),
            "Why": st.column_config.TextColumn("Why", width="large"),
            "Link": st.column_config.LinkColumn("Link", display_text="Open page", width="small"),
        },
    )


def _top_gaps(review: Review, limit: int = 5) -> None:
    gaps = review.by_risk("gap")
    st.markdown("#### Top gaps")
    if not gaps:
        st.success("No gaps found in what the design shows.", icon=":material/check_circle:")
        return
    for f in gaps[:limit]:
        title = escape_markdown(f"{f.bp_id} · {one_line(f.title, 60)}")
        link = f"[{title}]({f.url})" if is_trusted_url(f.url) else title
        st.markdown(f"**{link}** :red-badge[{escape_markdown(f.risk or 'Unrated')} risk]")
        st.caption(escape_markdown(one_line(f.explanation, 220)))
    if len(gaps) > limit:
        st.caption(f"… and {len(gaps) - limit} more in the findings table.")


def render_review(rs: state.ReviewState) -> None:
    """Show one review: summary, graph, coverage chart, findings table, export, follow-ups."""
    review = rs.review
    _summary(rs)
    architecture_section(rs)
    chart_col, gaps_col = st.columns([3, 2], gap="large")
    with chart_col:
        st.markdown("#### Coverage by pillar")
        st.altair_chart(coverage_chart(review.coverage), width="stretch")
        st.caption(
            "Addressed: the design shows the practice. Gap: it shows the opposite or lacks a "
            "control it needs. Unknown: the picture cannot tell; ask the team."
        )
    with gaps_col:
        _top_gaps(review)
    _findings_table(rs)
    _fixes(rs)
    from diagrams import render_markdown

    with st.container(horizontal=True, gap="small"):
        st.download_button(
            "Download review (Markdown)",
            data=render_markdown(review),
            file_name=f"lenswise-review-{slugify(rs.filename)}.md",
            mime="text/markdown",
            icon=":material/download:",
            key="dl-review",
            on_click="ignore",
        )
        st.button(
            "Ask about this design in chat",
            icon=":material/forum:",
            type="primary",
            on_click=_ask_in_chat,
            args=("What are the most important gaps in this design, and how do I close them?",),
        )
        st.button("Clear review", icon=":material/close:", type="tertiary", on_click=_clear)


def review_view(lens: LensAssistant, max_upload_bytes: int) -> None:
    """Draw the diagram review screen."""
    st.header("Diagram review")
    st.caption(escape_markdown(f"Supported: {FORMATS_HELP}"))
    _inputs(lens, max_upload_bytes)
    rs = state.current_review()
    if rs is None:
        st.info(
            "Upload a diagram or template, or paste a Mermaid flowchart, to see the parsed "
            "architecture, the findings for each of the lens's best practices, and coverage "
            "by pillar.",
            icon=":material/upload_file:",
        )
        return
    render_review(rs)
    export_panel(lens, rs)
