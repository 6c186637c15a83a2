"""Babel extractor for the French texts of the calling-rule profiles (``data/compliance/*.yaml``).

The profiles are data, but their labels, refusal messages, notes and
statements are shown to agents and supervisors: ``make messages`` extracts
them like any ``N_()`` string, so the English and Arabic catalogues translate
them and ``domain.compliance.reason_text`` finds them by msgid.
"""

from __future__ import annotations

import yaml

#: keys whose string values are user-visible text
TEXT_KEYS = frozenset({"name", "label", "message", "note"})


def extract_compliance(fileobj, keywords, comment_tags, options):
    """Yield ``(lineno, funcname, message, comments)`` for each visible text of a profile."""
    root = yaml.compose(fileobj.read().decode("utf-8"))
    yield from _walk(root, None)


def _walk(node, key):
    if isinstance(node, yaml.MappingNode):
        for key_node, value in node.value:
            yield from _walk(value, key_node.value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, "statements" if key == "statements" else None)
    elif isinstance(node, yaml.ScalarNode) and isinstance(node.value, str) and node.value.strip():
        if key in TEXT_KEYS or key == "statements":
            yield node.start_mark.line + 1, None, node.value, []
