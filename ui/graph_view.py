"""Render architecture DOT with the Graphviz ``dot`` program, and show the SVG with pan and zoom.

``st.graphviz_chart`` draws in the browser but cannot zoom or export, so when ``dot`` is
installed (Debian package ``graphviz``; ``make run`` / ``make test`` install it) the graph is
laid out here, checked, and shown in a small viewer: mouse wheel or +/- to zoom, drag to pan,
"Fit" to see it whole. The same SVG (and a PNG) is offered for download.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from functools import lru_cache

from defusedxml import ElementTree

RENDER_TIMEOUT_S = 20
"""A layout taking longer than this is abandoned (the browser-side chart is shown instead)."""
VIEW_HEIGHT = 620
"""Height of the viewer in CSS pixels; larger graphs are panned or zoomed out."""

_FORMATS = {"svg": "svg", "png": "png"}
_SIZE = re.compile(r"^([0-9.]+)pt$")


def graphviz_available() -> bool:
    """Return True when the Graphviz ``dot`` program is on PATH."""
    return shutil.which("dot") is not None


@lru_cache(maxsize=32)
def render(dot: str, fmt: str = "svg") -> bytes | None:
    """Lay ``dot`` out with Graphviz; return the SVG or PNG bytes, or None when it cannot.

    Args:
        dot: DOT text from :func:`ui.graph.architecture_dot` (labels already escaped).
        fmt: ``svg`` or ``png``.
    """
    program = shutil.which("dot")
    if program is None or fmt not in _FORMATS:
        return None
    try:
        done = subprocess.run(
            [program, f"-T{_FORMATS[fmt]}"],
            input=dot.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout:
        return None
    if fmt == "svg":
        return safe_svg(done.stdout.decode("utf-8", errors="replace"))
    return done.stdout


def safe_svg(svg: str) -> bytes | None:
    """Return the ``<svg>`` element alone if it holds nothing active, else None.

    Graphviz writes labels as escaped text, so this never trips on a real graph; it guards
    the page against anything unexpected (scripts, event handlers, links, foreign HTML).
    """
    start = svg.find("<svg")
    if start < 0:
        return None
    body = svg[start:]
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        tag = str(element.tag).rsplit("}", 1)[-1].lower()
        if tag in ("script", "foreignobject", "iframe", "embed", "object"):
            return None
        if any(
            name.rsplit("}", 1)[-1].lower().startswith("on") or "href" in name.lower()
            for name in element.attrib
        ):
            return None
    return body.encode("utf-8")


def svg_size(svg: bytes) -> tuple[float, float]:
    """Return the drawing's width and height in CSS pixels (Graphviz writes points)."""
    root = ElementTree.fromstring(svg)
    sizes = []
    for key in ("width", "height"):
        found = _SIZE.match(root.get(key, ""))
        sizes.append(float(found.group(1)) * 4 / 3 if found else 800.0)
    return sizes[0], sizes[1]


def viewer_html(svg: bytes, title: str) -> str:
    """Return a self-contained page showing ``svg`` with zoom and pan controls.

    Args:
        svg: a checked SVG from :func:`render`.
        title: accessible name of the drawing (escaped here).
    """
    width, height = svg_size(svg)
    return _VIEWER.format(
        title=html.escape(title),
        svg=svg.decode("utf-8"),
        width=width,
        height=height,
        view_height=VIEW_HEIGHT,
    )


_VIEWER = """<!doctype html>
<html><head><meta charset="utf-8"><style>
  body {{ margin: 0; font-family: sans-serif; }}
  #view {{ position: relative; height: {view_height}px; overflow: hidden; cursor: grab;
          border: 1px solid #d6d6d6; border-radius: 6px; background: #ffffff;
          touch-action: none; }}
  #view.dragging {{ cursor: grabbing; }}
  #stage {{ position: absolute; left: 0; top: 0; transform-origin: 0 0; }}
  #stage svg {{ display: block; }}
  #tools {{ position: absolute; right: 8px; top: 8px; z-index: 2; display: flex; gap: 4px; }}
  #tools button {{ font-size: 14px; min-width: 34px; height: 30px; border-radius: 5px;
                  border: 1px solid #b9b9b9; background: #fafafa; cursor: pointer; }}
  #zoom {{ align-self: center; font-size: 12px; color: #555555; min-width: 42px;
          text-align: right; }}
</style></head><body>
<div id="view" role="img" aria-label="{title}" data-scale="1">
  <div id="tools">
    <span id="zoom"></span>
    <button id="zoom-out" title="Zoom out" aria-label="Zoom out">&minus;</button>
    <button id="zoom-in" title="Zoom in" aria-label="Zoom in">+</button>
    <button id="zoom-fit" title="Fit the whole graph" aria-label="Fit">Fit</button>
    <button id="zoom-reset" title="Actual size" aria-label="Actual size">1:1</button>
  </div>
  <div id="stage">{svg}</div>
</div>
<script>
(function () {{
  const view = document.getElementById("view");
  const stage = document.getElementById("stage");
  const W = {width}, H = {height};
  let scale = 1, x = 0, y = 0, drag = null, moved = false;
  function show() {{
    stage.style.transform = "translate(" + x + "px," + y + "px) scale(" + scale + ")";
    view.dataset.scale = scale.toFixed(3);
    document.getElementById("zoom").textContent = Math.round(scale * 100) + "%";
  }}
  function zoomAt(factor, px, py) {{
    moved = true;
    const next = Math.min(8, Math.max(0.05, scale * factor));
    x = px - (px - x) * next / scale; y = py - (py - y) * next / scale; scale = next; show();
  }}
  function fit(minimum) {{
    const fitted = Math.min(view.clientWidth / W, view.clientHeight / H, 1);
    scale = Math.max(fitted, minimum);
    x = Math.max(0, (view.clientWidth - W * scale) / 2); y = 0; show();
  }}
  view.addEventListener("wheel", function (e) {{
    e.preventDefault();
    const box = view.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - box.left, e.clientY - box.top);
  }}, {{ passive: false }});
  view.addEventListener("pointerdown", function (e) {{
    if (e.target.closest("#tools")) return;
    drag = {{ x: e.clientX - x, y: e.clientY - y }}; moved = true;
    view.classList.add("dragging"); view.setPointerCapture(e.pointerId);
  }});
  view.addEventListener("pointermove", function (e) {{
    if (!drag) return;
    x = e.clientX - drag.x; y = e.clientY - drag.y; show();
  }});
  view.addEventListener("pointerup", function () {{
    drag = null; view.classList.remove("dragging");
  }});
  const middle = function () {{ return [view.clientWidth / 2, view.clientHeight / 2]; }};
  document.getElementById("zoom-in").onclick = function () {{ zoomAt(1.25, ...middle()); }};
  document.getElementById("zoom-out").onclick = function () {{ zoomAt(0.8, ...middle()); }};
  document.getElementById("zoom-fit").onclick = function () {{ fit(0); }};
  document.getElementById("zoom-reset").onclick = function () {{
    moved = true; scale = 1; x = 0; y = 0; show();
  }};
  // Open with the whole graph in view, and keep it so while the frame settles to its size,
  // until the reader zooms or pans.
  fit(0);
  new ResizeObserver(function () {{ if (!moved) fit(0); }}).observe(view);
}})();
</script>
</body></html>
"""
