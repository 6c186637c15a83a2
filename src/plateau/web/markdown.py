"""Markdown of reference texts (articles, product sheets) to safe HTML.

markdown-it-py with raw HTML disabled: the texts are written by
administrators, yet nothing in them may inject markup or script. Headings
are shifted so a text's "##" sections sit right under the page's heading,
whatever level that is (an article page's h1, or the h3 of a side panel):
screen-reader users navigate by heading levels, so they must not jump.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})

#: the level the texts' own top sections use ("## Pour qui")
SOURCE_TOP = 2


def render_markdown(text: str, top: int = 2) -> Markup:
    """HTML for ``text`` with its top sections as ``<h{top}>``."""
    tokens = _md.parse(text or "")
    shift = top - SOURCE_TOP
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = max(1, min(6, int(token.tag[1]) + shift))
            token.tag = f"h{level}"
    return Markup(_md.renderer.render(tokens, _md.options, {}))
