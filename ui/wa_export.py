"""The review screen's export to the AWS Well-Architected Tool: a dry-run preview, then the export.

A thin shell over :mod:`watool`: the preview is the plan's own text (it calls no AWS
API), and the export button only appears for a preview of the current settings, so what is
written is what was previewed. Plan and report are shown as plain text (``st.code``): they
quote labels from the reviewed file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import streamlit as st

from ui import state
from ui.render import escape_markdown, one_line

if TYPE_CHECKING:
    from agent.api import LensAssistant

PLAN = "wa-plan"
"""The last preview: ``(key, ExportPlan)``; the key ties it to the review and the inputs."""
RESULT = "wa-result"
"""The last export: ``(key, ExportResult, error or None)``."""


def _key(rs: state.ReviewState, workload: str, overwrite: bool) -> tuple:
    return (rs.key, id(rs.review), workload.strip(), overwrite)


def _preview(lens: LensAssistant, rs: state.ReviewState, workload: str, overwrite: bool) -> None:
    from watool import plan_export

    try:
        plan = plan_export(
            rs.review, lens.catalog().best_practices(), workload or None, overwrite=overwrite
        )
    except Exception as exc:  # noqa: BLE001 - a bad workload name becomes a message
        state.show_error(exc)
        return
    st.session_state[PLAN] = (_key(rs, workload, overwrite), plan)
    st.session_state.pop(RESULT, None)


def _export(lens: LensAssistant, key: tuple, plan: Any) -> None:
    from watool import WaExportError, export_review

    with st.spinner("Writing the review to the Well-Architected Tool…"):
        try:
            st.session_state[RESULT] = (key, export_review(plan, lens.settings), None)
        except WaExportError as exc:
            st.session_state[RESULT] = (key, exc.result, exc)
        except Exception as exc:  # noqa: BLE001 - e.g. an unknown workload id
            st.session_state[RESULT] = (key, None, exc)


def export_panel(lens: LensAssistant, rs: state.ReviewState) -> None:
    """Draw the "Export to Well-Architected Tool" action of a review."""
    from watool.plan import default_workload

    with st.expander("Export to Well-Architected Tool", icon=":material/cloud_upload:"):
        st.caption(
            "Writes this review into a Well-Architected Tool workload: the Generative AI Lens "
            "choices of the practices the design shows, and notes with the evidence, the gaps "
            "and the questions for the team. AWS credentials and Region come from the standard "
            "AWS chain. Preview first: the preview calls no AWS API."
        )
        # Every widget is keyed by the reviewed file, and its start value is put in the session
        # (the browser reuses the input box it shows and would keep the earlier file's text):
        # a new file starts from its own default workload, never from the previous file's.
        state.fresh(f"wa-workload-{rs.key}", default_workload(rs.review))
        state.fresh(f"wa-overwrite-{rs.key}", False)
        workload = st.text_input(
            "Workload name or id",
            key=f"wa-workload-{rs.key}",
            help="An existing workload is used as it is; a new name creates the workload.",
        )
        overwrite = st.checkbox(
            "Also add lenswise's answer to questions a person already answered",
            key=f"wa-overwrite-{rs.key}",
        )
        st.markdown(
            escape_markdown(f"Writes the review of {one_line(rs.filename, 80)}")
            + f" into workload **{escape_markdown(one_line(workload.strip() or '?', 100))}**",
        )
        if st.button(
            "Preview export (dry run)", icon=":material/preview:", key=f"wa-preview-{rs.key}"
        ):
            _preview(lens, rs, workload, overwrite)
        key = _key(rs, workload, overwrite)
        stored = st.session_state.get(PLAN)
        if not stored or stored[0] != key:
            return
        st.code(stored[1].render(), language=None, wrap_lines=True)
        if st.button(
            "Export to Well-Architected Tool",
            icon=":material/cloud_upload:",
            type="primary",
            key=f"wa-export-{rs.key}",
        ):
            _export(lens, key, stored[1])
        done = st.session_state.get(RESULT)
        if not done or done[0] != key:
            return
        _, result, error = done
        if error is not None:
            state.show_error(error)
        else:
            st.success("Exported to the Well-Architected Tool.", icon=":material/check_circle:")
        if result is not None:
            st.code(result.render(), language=None, wrap_lines=True)
