"""The review screen's architecture section: the graph of each diagram, its tables and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from ui import state
from ui.graph import architecture_dot
from ui.graph_view import VIEW_HEIGHT, graphviz_available, render, viewer_html
from ui.render import slugify

if TYPE_CHECKING:
    from diagrams import Architecture, Review

ALL_DIAGRAMS = "All diagrams (combined)"


def diagrams_frame(review: Review) -> pd.DataFrame:
    """Return one row per diagram of a multi-diagram file: its size and its own coverage."""
    rows = [
        {
            "Diagram": d.name,
            "Components": len(d.components),
            "Services": ", ".join(d.services),
            "Addressed": d.coverage["addressed"],
            "Gaps": d.coverage["gap"],
            "Unknown": d.coverage["unknown"],
        }
        for d in review.diagrams
    ]
    columns = ["Diagram", "Components", "Services", "Addressed", "Gaps", "Unknown"]
    return pd.DataFrame(rows, columns=columns)


def annotations_frame(arch: Architecture) -> pd.DataFrame:
    """Return the diagram's legends, titles, step badges and notes as a table."""
    rows = [
        {"Kind": a.kind, "Step": a.step, "Text": a.text, "Diagram": a.page or ""}
        for a in arch.annotations
    ]
    return pd.DataFrame(rows, columns=["Kind", "Step", "Text", "Diagram"])


def _graph(arch: Architecture, name: str, stem: str) -> None:
    """Draw one view: a pan/zoom SVG with downloads when Graphviz is installed."""
    hide = st.toggle(
        "Hide unconnected components",
        key="graph-hide",
        help="Leave out the components that no arrow reaches.",
    )
    dot = architecture_dot(arch, hide_unconnected=hide)
    installed = graphviz_available()
    svg = render(dot, "svg") if installed else None
    if svg is None:
        st.graphviz_chart(dot, width="stretch")
        st.caption(
            "Graphviz could not lay this graph out, so it is drawn without zoom or export."
            if installed
            else "Install Graphviz (`dot`) for zoom, pan and SVG / PNG export."
        )
    else:
        st.iframe(viewer_html(svg, f"Architecture of {name}"), height=VIEW_HEIGHT + 8)
        st.caption("Scroll or use +/- to zoom, drag to pan, Fit to see the whole graph.")

    def png() -> bytes:  # laid out only when the button is clicked
        return render(dot, "png") or b""

    files = [("DOT", dot, "dot", "text/vnd.graphviz")]
    if svg is not None:
        files = [("SVG", svg, "svg", "image/svg+xml"), ("PNG", png, "png", "image/png"), *files]
    with st.container(horizontal=True, gap="small"):
        for kind, data, ext, mime in files:
            st.download_button(
                f"Graph ({kind})",
                data=data,
                file_name=f"{stem}.{ext}",
                mime=mime,
                icon=":material/download:",
                key=f"dl-graph-{ext}",
                on_click="ignore",
            )


def architecture_section(rs: state.ReviewState) -> None:
    """Show the reviewed architecture: one view per diagram, its graph, tables and notes."""
    review = rs.review
    arch = review.architecture
    st.markdown("#### Architecture")
    if not arch.components:
        st.info("No components were recognised in this file.", icon=":material/info:")
        return
    name, view = ALL_DIAGRAMS, arch
    if review.diagrams:
        st.caption(
            f"{len(review.diagrams)} diagrams in this file. The combined view draws each "
            "component once; hover a box to see which diagrams draw it."
        )
        name = st.selectbox(
            "Diagram", [ALL_DIAGRAMS, *(d.name for d in review.diagrams)], key="graph-view"
        )
        view = arch if name == ALL_DIAGRAMS else arch.view(name)
    stem = f"lenswise-graph-{slugify(rs.filename)}"
    _graph(view, rs.filename if name == ALL_DIAGRAMS else name, stem)
    if review.diagrams:
        st.dataframe(diagrams_frame(review), hide_index=True, key="diagram-table")
    if arch.annotations:
        with st.expander(
            f"Legend, titles and notes ({len(arch.annotations)}): shown, not counted as components",
            icon=":material/sticky_note_2:",
        ):
            st.dataframe(annotations_frame(arch), hide_index=True, key="annotations")
