"""Competency frameworks ("référentiels") as data: the YAML format, its checks, search.

A framework is an official document (a certificate's grid, a diploma's
competencies, a study programme) typed in as YAML under ``data/frameworks/``.
Evaluations quote its criteria by id and keep those ids for ever, so the
format is strict and every problem is reported the way a proof-reader would:
all of them at once, in French, naming the file, the line, the element and
the field. ``parse_framework`` turns the text into frozen dataclasses or
raises ``ValidationError`` whose ``errors`` are ``FrameworkError`` instances in
the order of the text.

The shape (documented with the id scheme in ``data/frameworks/README.md``)::

    code, title, issuer, country, description, documents {key: {file, title}},
    source {document, section, page, detail}, rule {kind, threshold, …},
    hour_totals [{label, hours, kinds}], details [{heading, items | text}],
    retired_ids [..], nodes [{id, kind, title, label, source, text, items,
    details, hours, coefficient, links, note, children [..], criteria [{id,
    text, assessable, why, label, source, note}]}]

Sources inherit: an element's ``source`` only says what differs from its
parent's (framework → node → child → criterion), and the merged reference must
name a document and a section. What the seed documents fix (15 FILEA criteria
numbered 01–15, C1.1…C4.4, 216 h of OFPPT modules…) is checked from
``EXPECTED`` here, in code, so that a file cannot weaken its own checks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Iterator

from unidecode import unidecode

from .errors import N_, NotFoundError, ValidationError
from .scripts import ScriptError, load_yaml
from .text import fold

#: how a criterion can be judged: from the call's record, or only by a person
CALL, HUMAN = "call", "human"
ASSESSABLE = (CALL, HUMAN)
ASSESSABLE_LABELS = {
    CALL: N_("depuis l'appel (transcription, événements, CRM)"),
    HUMAN: N_("par une personne (formateur, jury)"),
}

#: what a node of the tree is; the labels are shown in the browsable tree
KINDS = {
    "group": N_("Ensemble"),
    "function": N_("Fonction"),
    "activity": N_("Activité"),
    "competency_group": N_("Compétence générale"),
    "competency": N_("Compétence"),
    "savoir_faire": N_("Savoir-faire"),
    "element": N_("Élément de la compétence"),
    "precision": N_("Précision sur le comportement attendu"),
    "evaluation": N_("Modalité d'évaluation"),
    "knowledge": N_("Savoir associé"),
    "unit": N_("Unité"),
    "exam": N_("Épreuve"),
    "module": N_("Module"),
    "internship": N_("Stage"),
}

#: the title of a list of elements of one kind (the leaves under a competency, a module…)
LIST_LABELS = {
    "group": N_("Ensembles"),
    "function": N_("Fonctions"),
    "activity": N_("Activités"),
    "competency_group": N_("Compétences générales"),
    "competency": N_("Compétences"),
    "savoir_faire": N_("Savoir-faire (être capable de…)"),
    "element": N_("Éléments de la compétence"),
    "precision": N_("Précisions sur le comportement attendu"),
    "evaluation": N_("Modalités d'évaluation"),
    "knowledge": N_("Savoirs associés"),
    "unit": N_("Unités"),
    "exam": N_("Épreuves"),
    "module": N_("Modules"),
    "internship": N_("Stages"),
}

#: named relations from a node to other nodes of the same framework
LINKS = {
    "competencies": N_("Compétences"),
    "units": N_("Unités"),
    "knowledge": N_("Savoirs associés"),
}

#: how a certification is decided from the criteria met
RULE_KINDS = ("share_met",)

_CODE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_LOCAL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)*$")
MAX_ID = 120

_KEYS = {
    "framework": ({"code", "title", "documents", "nodes"},
                  {"issuer", "country", "description", "source", "rule", "hour_totals", "details", "retired_ids",
                   "note"}),
    "document": ({"file", "title"}, {"note"}),
    "source": (set(), {"document", "section", "page", "detail"}),
    "node": ({"id", "kind", "title"},
             {"label", "source", "text", "items", "details", "hours", "coefficient", "links", "note", "children",
              "criteria"}),
    "criterion": ({"id", "text", "assessable"}, {"label", "why", "source", "note"}),
    "detail": ({"heading"}, {"items", "text"}),
    "rule": ({"kind", "threshold"}, {"retakes", "retake_within_days", "text", "source"}),
    "hour_total": ({"label", "hours", "kinds"}, {"source"}),
}


# --- the parsed framework ------------------------------------------------------------------------


@dataclass(frozen=True)
class Document:
    """A seed document the framework is typed from (``file`` in ``shared/seeds``)."""

    key: str
    file: str
    title: str
    note: str = ""


@dataclass(frozen=True)
class Source:
    """Where an element stands in its document: section (heading), printed page, column or cell."""

    document: Document
    section: str
    page: int | None = None
    detail: str = ""

    def describe(self) -> str:
        """One line for people and the CLI: « title (file) — section, p. 12 — detail »."""
        parts = [f"{self.document.title} ({self.document.file})", self.section]
        if self.page is not None:
            parts[-1] += f", p. {self.page}"
        if self.detail:
            parts.append(self.detail)
        return " — ".join(parts)


@dataclass(frozen=True)
class Detail:
    """A titled piece of descriptive text (conditions, notions, plan…): shown, never assessed."""

    heading: str
    items: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Criterion:
    """One evaluation criterion. ``parent`` is the id of the node it belongs to."""

    id: str
    text: str
    assessable: str
    source: Source
    parent: str
    why: str = ""
    label: str = ""
    note: str = ""

    @property
    def from_call(self) -> bool:
        return self.assessable == CALL

    @property
    def assessable_label(self) -> str:
        return ASSESSABLE_LABELS[self.assessable]


@dataclass(frozen=True)
class Node:
    """An element of the tree (activity, competency, module, unit, exam…) and what hangs under it."""

    id: str
    kind: str
    title: str
    source: Source
    parent: str | None = None
    label: str = ""
    text: str = ""
    items: tuple[str, ...] = ()
    details: tuple[Detail, ...] = ()
    hours: float | None = None
    coefficient: float | None = None
    links: tuple[tuple[str, tuple[str, ...]], ...] = ()
    note: str = ""
    children: tuple["Node", ...] = ()
    criteria: tuple[Criterion, ...] = ()

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def is_leaf(self) -> bool:
        """Nothing under it nor about it but its title: shown as a plain list item."""
        return not (self.children or self.criteria or self.details or self.text or self.items or self.links
                    or self.note or self.hours is not None or self.coefficient is not None)

    @property
    def link_groups(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The links with their relation's label (a msgid): (« Compétences », ids)."""
        return tuple((LINKS[relation], ids) for relation, ids in self.links)

    def walk(self, depth: int = 0) -> Iterator[tuple[int, "Node"]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)


@dataclass(frozen=True)
class Rule:
    """How the certificate is decided. ``share_met``: passed when met / assessed ≥ threshold."""

    kind: str
    threshold: float
    source: Source
    retakes: int | None = None
    retake_within_days: int | None = None
    text: str = ""

    def passes(self, met: int, assessed: int) -> bool:
        """``met`` criteria out of ``assessed`` reach the threshold (nothing assessed never passes)."""
        return assessed > 0 and met / assessed >= self.threshold - 1e-12


@dataclass(frozen=True)
class HourTotal:
    """A duration the document states, checked against the sum of the nodes of ``kinds``."""

    label: str
    hours: float
    kinds: tuple[str, ...]
    source: Source


@dataclass(frozen=True)
class Stats:
    nodes: int
    criteria: int
    from_call: int
    human: int
    kinds: tuple[tuple[str, int], ...]
    hours: float | None


@dataclass(frozen=True)
class Framework:
    code: str
    title: str
    documents: tuple[Document, ...]
    source: Source
    nodes: tuple[Node, ...]
    file: str = ""
    issuer: str = ""
    country: str = ""
    description: str = ""
    rule: Rule | None = None
    hour_totals: tuple[HourTotal, ...] = ()
    details: tuple[Detail, ...] = ()
    retired_ids: tuple[str, ...] = ()
    note: str = ""
    _index: dict = field(default_factory=dict, compare=False, repr=False, hash=False)

    def __post_init__(self):
        index: dict[str, Node | Criterion] = {}
        for _depth, node in self.walk():
            index[node.id] = node
            for criterion in node.criteria:
                index[criterion.id] = criterion
        object.__setattr__(self, "_index", index)

    def walk(self) -> Iterator[tuple[int, Node]]:
        """Every node, depth first, in the order of the document (depth 0 = top level)."""
        for node in self.nodes:
            yield from node.walk()

    def criteria(self) -> tuple[Criterion, ...]:
        """Every criterion in the order of the document (a node's own before its children's)."""
        return tuple(criterion for _depth, node in self.walk() for criterion in node.criteria)

    def node(self, node_id: str) -> Node:
        found = self._index.get(node_id)
        if not isinstance(found, Node):
            raise NotFoundError(N_("Élément inconnu dans le référentiel « %(code)s » : %(id)s."), "id",
                                code=self.code, id=node_id)
        return found

    def criterion(self, criterion_id: str) -> Criterion:
        found = self._index.get(criterion_id)
        if not isinstance(found, Criterion):
            raise NotFoundError(N_("Critère inconnu dans le référentiel « %(code)s » : %(id)s."), "id",
                                code=self.code, id=criterion_id)
        return found

    def has(self, element_id: str) -> bool:
        return element_id in self._index

    def ancestors(self, element_id: str) -> tuple[Node, ...]:
        """The nodes above a node or a criterion, outermost first."""
        found = self._index.get(element_id)
        chain: list[Node] = []
        parent = found.parent if found is not None else None
        while parent is not None:
            node = self._index[parent]
            chain.append(node)
            parent = node.parent
        return tuple(reversed(chain))

    def hours_of(self, kinds: tuple[str, ...]) -> float:
        return sum(node.hours or 0 for _depth, node in self.walk() if node.kind in kinds)

    def stats(self) -> Stats:
        criteria = self.criteria()
        counts: dict[str, int] = {}
        for _depth, node in self.walk():
            counts[node.kind] = counts.get(node.kind, 0) + 1
        total = max((t.hours for t in self.hour_totals), default=None)
        return Stats(nodes=len(self._index) - len(criteria), criteria=len(criteria),
                     from_call=sum(1 for c in criteria if c.from_call),
                     human=sum(1 for c in criteria if not c.from_call),
                     kinds=tuple(counts.items()), hours=total)


def anchor(element_id: str) -> str:
    """An HTML id for an element: « mc-acvd/C1.1/2 » → « el-mc-acvd--C1_1--2 »."""
    return "el-" + element_id.replace("/", "--").replace(".", "_")


# --- errors -----------------------------------------------------------------------------------------


class FrameworkError(ScriptError):
    """One problem in a framework file: the file, the line, the element and the field.

    ``field`` is the YAML key at fault (``assessable``, ``id``…); ``where`` names the
    element (« critère « mc-acvd/C1.1/2 » ») so the place is translated like the message.
    """

    def __init__(self, message: str, where: list[tuple[str, dict]] | None = None, line: int | None = None,
                 file: str = "", field_name: str | None = None, **params: object):
        super().__init__(message, where, line, **params)
        self.file = file
        self.field = field_name

    def render(self, gettext=lambda s: s) -> str:
        params = dict(self.params)
        if "problem" in params:
            params["problem"] = gettext(str(params["problem"]))
        try:
            text = gettext(self.message) % params if params else gettext(self.message)
        except (KeyError, ValueError, TypeError):
            text = gettext(self.message)
        place = ", ".join(gettext(msgid) % values for msgid, values in self.where)
        if place:
            text = f"{place} : {text}"
        if self.line:
            head = gettext(N_("%(file)s, ligne %(line)s")) % {"file": self.file or "?", "line": self.line}
        else:
            head = self.file or ""
        return f"{head} — {text}" if head else text[:1].upper() + text[1:]


# --- what the seed documents fix -------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """What a given framework must contain; ids are local (without the ``code/`` prefix)."""

    nodes: tuple[tuple[str, str], ...] = ()  # (local id, kind)
    criteria: tuple[str, ...] | None = None  # exactly these criteria, in this order
    coefficients: tuple[tuple[str, float], ...] = ()
    counts: tuple[tuple[str, int], ...] = ()  # exactly n nodes of a kind
    hours: tuple[tuple[tuple[str, ...], float], ...] = ()  # the sum of the hours of these kinds
    rule: str | None = None


def _numbered(prefix: str, first: int, last: int, kind: str, width: int = 0) -> tuple[tuple[str, str], ...]:
    return tuple((f"{prefix}{n:0{width}d}", kind) for n in range(first, last + 1))


EXPECTED: dict[str, Expected] = {
    "filea-appels-sortants": Expected(criteria=tuple(f"{n:02d}" for n in range(1, 16)), rule="share_met"),
    "mc-acvd": Expected(
        nodes=(_numbered("C1.", 1, 8, "competency") + _numbered("C2.", 1, 4, "competency")
               + _numbered("C3.", 1, 3, "competency") + _numbered("C4.", 1, 4, "competency")
               + _numbered("S", 1, 5, "knowledge") + _numbered("U", 1, 3, "unit") + _numbered("E", 1, 3, "exam")),
        coefficients=(("E1", 5), ("E2", 3), ("E3", 1))),
    "ofppt-teleconseiller": Expected(nodes=_numbered("M", 1, 8, "module", 2), counts=(("module", 8),),
                                     hours=((("module",), 216),)),
    "infep-bts-teleconseiller": Expected(
        nodes=(_numbered("CP", 1, 10, "competency") + _numbered("CC", 1, 12, "competency")
               + _numbered("MQ", 1, 10, "module") + _numbered("MC", 1, 12, "module")),
        counts=(("module", 22),),
        hours=((("module",), 2448), (("module", "internship"), 3060))),
}


# --- parsing ----------------------------------------------------------------------------------------------


class _Checker:
    """Walks the loaded YAML, building the framework and collecting every error."""

    def __init__(self, file: str):
        self.file = file
        self.errors: list[FrameworkError] = []
        self.code = ""
        self.documents: dict[str, Document] = {}
        self.seen: dict[str, int] = {}  # id → line
        self.links: list[tuple[str, str, list, int, str]] = []  # (target, relation, where, line, node id)

    def error(self, message: str, where=None, line=None, at: str | None = None, **params) -> None:
        """Record a problem; ``at`` is the YAML key at fault (the error's ``field``)."""
        self.errors.append(FrameworkError(message, where, line, file=self.file, field_name=at, **params))

    def keys(self, data, kind: str, where) -> None:
        required, optional = _KEYS[kind]
        for key in sorted(required - set(data)):
            self.error(N_("clé obligatoire « %(key)s » absente."), where, data.line, key, key=key)
        for key in [k for k in data if k not in required | optional]:
            self.error(N_("clé inconnue « %(key)s » ; clés permises : %(allowed)s."), where,
                       data.line_of(str(key)), str(key), key=str(key), allowed=", ".join(sorted(required | optional)))

    def mapping(self, value, where, line, key: str | None = None):
        if not isinstance(value, dict):
            self.error(N_("un ensemble de clés « clé: valeur » est attendu ici."), where, line, key)
            return None
        return value

    def text(self, data, key: str, where, required: bool = True) -> str:
        if key not in data:
            return ""
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (str, int, float, type(None))):
            self.error(N_("« %(key)s » doit être un texte."), where, data.line_of(key), key, key=key)
            return ""
        value = "" if value is None else " ".join(str(value).split())
        if not value and required:
            self.error(N_("« %(key)s » ne doit pas être vide."), where, data.line_of(key), key, key=key)
        return value

    def texts(self, data, key: str, where) -> tuple[str, ...]:
        if key not in data:
            return ()
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.error(N_("« %(key)s » doit être une liste non vide (lignes commençant par « - »)."), where,
                       data.line_of(key), key, key=key)
            return ()
        result = []
        for n, item in enumerate(value, 1):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.error(N_("l'élément n° %(n)s de « %(key)s » doit être un texte non vide."), where,
                           data.line_of(key), key, n=n, key=key)
                continue
            result.append(" ".join(str(item).split()))
        return tuple(result)

    def number(self, data, key: str, where, integer: bool = False, minimum: float = 0,
               inclusive: bool = False) -> float | None:
        if key not in data:
            return None
        value = data.get(key)
        ok = not isinstance(value, bool) and isinstance(value, int if integer else (int, float))
        if not ok or value < minimum or (value == minimum and not inclusive):
            if integer:
                message = (N_("« %(key)s » doit être un nombre entier positif ou nul.") if inclusive
                           else N_("« %(key)s » doit être un nombre entier strictement positif."))
            else:
                message = N_("« %(key)s » doit être un nombre strictement positif.")
            self.error(message, where, data.line_of(key), key, key=key)
            return None
        return value

    def element_id(self, data, where) -> str:
        """The element's full id, checked: framework prefix, characters, unique in the file."""
        if "id" not in data:
            return ""
        value = data.get("id")
        line = data.line_of("id")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.error(N_("« id » doit être un texte."), where, line, "id")
            return ""
        value = str(value).strip()
        prefix = f"{self.code}/"
        if self.code and not value.startswith(prefix):
            self.error(N_("l'identifiant « %(id)s » doit commencer par le code du référentiel suivi d'une barre "
                          "oblique : « %(prefix)s… »."), where, line, "id", id=value, prefix=prefix)
        elif len(value) > MAX_ID or not _LOCAL.match(value[len(prefix):] if self.code else value):
            self.error(N_("identifiant « %(id)s » invalide : après « %(prefix)s », des lettres sans accent, "
                          "chiffres, « . », « - » et « _ », avec « / » entre les niveaux ; %(max)s caractères au "
                          "plus."), where, line, "id", id=value, prefix=prefix, max=MAX_ID)
        if value in self.seen:
            self.error(N_("identifiant « %(id)s » en double (déjà utilisé ligne %(other)s)."), where, line, "id",
                       id=value, other=self.seen[value])
        else:
            self.seen[value] = line
        return value

    # -- sources

    def source(self, data, where, parent: Source | None, line: int, final: bool = True) -> Source | None:
        """The element's source merged over its parent's; None (reported) when it stays incomplete.

        ``final`` is False for the framework's own ``source``, a default that may
        name only a document; every node, criterion and rule must end up with a
        document and a section."""
        raw = data.get("source") if isinstance(data, dict) else None
        fields: dict = {}
        if raw is not None:
            src = self.mapping(raw, where, data.line_of("source"), "source")
            if src is not None:
                self.keys(src, "source", where)
                if "document" in src:
                    key = self.text(src, "document", where)
                    if key and key not in self.documents:
                        self.error(N_("document « %(document)s » inconnu ; documents déclarés : %(known)s."), where,
                                   src.line_of("document"), "document", document=key,
                                   known=", ".join(self.documents) or "—")
                    elif key:
                        fields["document"] = self.documents[key]
                if "section" in src:
                    fields["section"] = self.text(src, "section", where)
                if "page" in src:
                    fields["page"] = self.number(src, "page", where, integer=True)
                if "detail" in src:
                    fields["detail"] = self.text(src, "detail", where, required=False)
        if parent is None:
            default = next(iter(self.documents.values())) if len(self.documents) == 1 else _NO_DOCUMENT
            parent = Source(document=default, section="")
        changes = {k: v for k, v in fields.items() if v not in (None, "")}
        if "document" in changes and changes["document"] != parent.document and "section" not in changes:
            changes["section"] = ""  # another document: the parent's section means nothing there
        if "section" in changes or "document" in changes:
            # a new place starts afresh: the parent's page and detail no longer apply
            changes.setdefault("page", None)
            changes.setdefault("detail", "")
        merged = replace(parent, **changes)
        if parent is _NOWHERE:
            return merged  # the parent's own source is wrong and already reported
        if final and (merged.document is _NO_DOCUMENT or not merged.section):
            missing = "document" if merged.document is _NO_DOCUMENT else "section"
            self.error(N_("source incomplète : « %(key)s » manque (ici ou sur un élément parent)."), where, line,
                       missing, key=missing)
            return None
        return merged

    # -- pieces

    def details(self, data, where) -> tuple[Detail, ...]:
        if "details" not in data:
            return ()
        raw = data.get("details")
        if not isinstance(raw, list) or not raw:
            self.error(N_("« details » doit être une liste non vide."), where, data.line_of("details"), "details")
            return ()
        result = []
        for n, item in enumerate(raw, 1):
            here = where + [(N_("détail n° %(dn)s"), {"dn": n})]
            entry = self.mapping(item, here, data.line_of("details"), "details")
            if entry is None:
                continue
            self.keys(entry, "detail", here)
            heading = self.text(entry, "heading", here)
            items = self.texts(entry, "items", here)
            text = self.text(entry, "text", here, required=False)
            if not items and not text and "items" not in entry:
                self.error(N_("un détail doit avoir « items » (une liste) ou « text »."), here, entry.line, "items")
            result.append(Detail(heading=heading, items=items, text=text))
        return tuple(result)

    def node_links(self, data, where, node_id: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if "links" not in data:
            return ()
        raw = self.mapping(data.get("links"), where, data.line_of("links"), "links")
        if raw is None:
            return ()
        result = []
        for relation in raw:
            line = raw.line_of(str(relation))
            if relation not in LINKS:
                self.error(N_("relation « %(relation)s » inconnue dans « links » ; relations permises : %(allowed)s."),
                           where, line, "links", relation=str(relation), allowed=", ".join(LINKS))
                continue
            targets = self.texts(raw, relation, where)
            for target in targets:
                self.links.append((target, relation, where, line, node_id))
            result.append((relation, targets))
        return tuple(result)

    def criterion(self, data, where_parent, n: int, parent_node: str, parent_source: Source,
                  line: int) -> Criterion | None:
        here = where_parent + [(N_("critère n° %(cn)s"), {"cn": n})]
        entry = self.mapping(data, here, line, "criteria")
        if entry is None:
            return None
        cid = self.element_id(entry, here)
        where = where_parent + [(N_("critère « %(criterion)s »"), {"criterion": cid})] if cid else here
        self.keys(entry, "criterion", where)
        text = self.text(entry, "text", where)
        assessable = self.text(entry, "assessable", where)
        if assessable and assessable not in ASSESSABLE:
            self.error(N_("« assessable » vaut « %(value)s » ; valeurs permises : call (jugé depuis l'appel) ou "
                          "human (jugé par une personne)."), where, entry.line_of("assessable"), "assessable",
                       value=assessable)
        why = self.text(entry, "why", where, required=False)
        if assessable == HUMAN and not why:
            self.error(N_("un critère « human » doit dire pourquoi dans « why » (une phrase courte)."), where,
                       entry.line_of("assessable"), "why")
        source = self.source(entry, where, parent_source, entry.line)
        if source is None or not cid:
            return None
        return Criterion(id=cid, text=text, assessable=assessable if assessable in ASSESSABLE else HUMAN,
                         source=source, parent=parent_node, why=why, label=self.text(entry, "label", where, False),
                         note=self.text(entry, "note", where, False))

    def node(self, data, where_parent, n: int, parent_id: str | None, parent_source: Source | None,
             line: int) -> Node | None:
        here = where_parent + [(N_("élément n° %(nn)s"), {"nn": n})]
        entry = self.mapping(data, here, line, "nodes")
        if entry is None:
            return None
        nid = self.element_id(entry, here)
        where = [(N_("élément « %(node)s »"), {"node": nid})] if nid else here
        self.keys(entry, "node", where)
        kind = self.text(entry, "kind", where)
        if kind and kind not in KINDS:
            self.error(N_("« kind » vaut « %(value)s » ; natures permises : %(allowed)s."), where,
                       entry.line_of("kind"), "kind", value=kind, allowed=", ".join(KINDS))
        title = self.text(entry, "title", where)
        source = self.source(entry, where, parent_source, entry.line)
        inherited = source if source is not None else _NOWHERE
        children = self.nodes(entry, "children", where, nid, inherited)
        criteria = []
        if "criteria" in entry:
            raw = entry.get("criteria")
            if not isinstance(raw, list) or not raw:
                self.error(N_("« criteria » doit être une liste non vide."), where, entry.line_of("criteria"),
                           "criteria")
            else:
                for cn, item in enumerate(raw, 1):
                    criterion = self.criterion(item, where, cn, nid, inherited, entry.line_of("criteria"))
                    if criterion is not None:
                        criteria.append(criterion)
        return Node(id=nid, kind=kind if kind in KINDS else "group", title=title, source=inherited,
                    parent=parent_id, label=self.text(entry, "label", where, False),
                    text=self.text(entry, "text", where, False), items=self.texts(entry, "items", where),
                    details=self.details(entry, where), hours=self.number(entry, "hours", where),
                    coefficient=self.number(entry, "coefficient", where), links=self.node_links(entry, where, nid),
                    note=self.text(entry, "note", where, False), children=children, criteria=tuple(criteria))

    def nodes(self, data, key: str, where, parent_id: str | None, parent_source: Source | None) -> tuple[Node, ...]:
        if key not in data:
            return ()
        raw = data.get(key)
        if not isinstance(raw, list) or not raw:
            self.error(N_("« %(key)s » doit être une liste non vide d'éléments."), where, data.line_of(key), key,
                       key=key)
            return ()
        result = []
        for n, item in enumerate(raw, 1):
            node = self.node(item, where, n, parent_id, parent_source, data.line_of(key))
            if node is not None:
                result.append(node)
        return tuple(result)


_NO_DOCUMENT = Document(key="", file="", title="")
#: stands for the source of an element whose own source is wrong (already reported)
_NOWHERE = Source(document=_NO_DOCUMENT, section="?")


def parse_framework(text: str, source_name: str = "") -> Framework:
    """Read and check a framework file; raise ValidationError listing every problem found.

    ``source_name`` is the file name the messages quote (and, when it ends in
    ``.yaml``, it must be ``<code>.yaml``: ids start with the code, so the file
    is found by them)."""
    file = PurePath(source_name).name if source_name else ""
    check = _Checker(file)
    data, load_errors = load_yaml(text)
    for error in load_errors:  # YAML syntax, or a key written twice (then that key is the field)
        check.error(error.message, None, error.line, error.params.get("key"), **error.params)
    if data is None:
        if not load_errors:
            check.error(N_("le fichier est vide."), None, 1)
        _raise(check.errors)
    here: list = []
    root = check.mapping(data, [(N_("le référentiel"), {})], 1)
    if root is None:
        _raise(check.errors)
    check.keys(root, "framework", here)
    code = check.text(root, "code", here)
    if code and not _CODE.match(code):
        check.error(N_("code « %(code)s » invalide : lettres minuscules sans accent et chiffres, mots séparés par "
                       "« - »."), here, root.line_of("code"), "code", code=code)
    elif code and file.endswith((".yaml", ".yml")) and PurePath(file).stem != code:
        check.error(N_("le fichier d'un référentiel se nomme d'après son code : « %(expected)s » attendu."), here,
                    root.line_of("code"), "code", expected=f"{code}.yaml")
    check.code = code if code and _CODE.match(code) else ""
    title = check.text(root, "title", here)
    documents = _documents(check, root)
    source = check.source(root, here, None, root.line_of("source"), final=False) if documents else _NOWHERE
    rule = _rule(check, root, source)
    hour_totals = _hour_totals(check, root, source)
    nodes = check.nodes(root, "nodes", here, None, source)
    retired = check.texts(root, "retired_ids", here)
    framework = Framework(code=code, title=title, documents=tuple(documents.values()),
                          source=source if source is not None else _NOWHERE, nodes=nodes, file=file,
                          issuer=check.text(root, "issuer", here, False), country=check.text(root, "country", here, False),
                          description=check.text(root, "description", here, False), rule=rule,
                          hour_totals=hour_totals, details=check.details(root, here), retired_ids=retired,
                          note=check.text(root, "note", here, False))
    _check_links(check, framework)
    for element_id in retired:
        if element_id in check.seen:
            check.error(N_("l'identifiant « %(id)s » a été retiré (« retired_ids ») : un identifiant retiré n'est "
                           "jamais réutilisé, choisissez-en un nouveau."), [], check.seen[element_id], "id",
                        id=element_id)
    _check_hour_totals(check, root, framework)
    if not check.errors:  # the expectations would only repeat a broken file's errors
        _check_expected(check, root, framework)
    if check.errors:
        _raise(check.errors)
    return framework


def _raise(errors: list[FrameworkError]):
    ordered = sorted(errors, key=lambda e: (e.line is None, e.line or 0))
    raise ValidationError({f"{n:03d}": error for n, error in enumerate(ordered, 1)})


def _documents(check: _Checker, root) -> dict[str, Document]:
    where = [(N_("documents"), {})]
    if "documents" not in root:
        return {}
    raw = check.mapping(root.get("documents"), where, root.line_of("documents"), "documents")
    if raw is None:
        return {}
    if not raw:
        check.error(N_("« documents » doit déclarer au moins un document source."), where, raw.line, "documents")
    for key, value in raw.items():
        here = [(N_("document « %(document)s »"), {"document": str(key)})]
        entry = check.mapping(value, here, raw.line_of(str(key)), "documents")
        if entry is None:
            continue
        check.keys(entry, "document", here)
        check.documents[str(key)] = Document(key=str(key), file=check.text(entry, "file", here),
                                             title=check.text(entry, "title", here),
                                             note=check.text(entry, "note", here, False))
    return check.documents


def _rule(check: _Checker, root, source: Source | None) -> Rule | None:
    if "rule" not in root:
        return None
    where = [(N_("règle de certification"), {})]
    raw = check.mapping(root.get("rule"), where, root.line_of("rule"), "rule")
    if raw is None:
        return None
    check.keys(raw, "rule", where)
    kind = check.text(raw, "kind", where)
    if kind and kind not in RULE_KINDS:
        check.error(N_("« kind » vaut « %(value)s » ; règles permises : %(allowed)s."), where, raw.line_of("kind"),
                    "kind", value=kind, allowed=", ".join(RULE_KINDS))
    threshold = raw.get("threshold")
    if "threshold" in raw and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                               or not 0 < threshold <= 1):
        check.error(N_("« threshold » est la part des critères à atteindre : un nombre plus grand que 0 et au plus "
                       "1 (0.70 pour 70 pour cent)."), where, raw.line_of("threshold"), "threshold")
        threshold = None
    retakes = check.number(raw, "retakes", where, integer=True, inclusive=True)
    within = check.number(raw, "retake_within_days", where, integer=True)
    rule_source = check.source(raw, where, source, raw.line)
    if rule_source is None or threshold is None or kind not in RULE_KINDS:
        return None
    return Rule(kind=kind, threshold=float(threshold), source=rule_source,
                retakes=int(retakes) if retakes is not None else None,
                retake_within_days=int(within) if within is not None else None,
                text=check.text(raw, "text", where, False))


def _hour_totals(check: _Checker, root, source: Source | None) -> tuple[HourTotal, ...]:
    if "hour_totals" not in root:
        return ()
    raw = root.get("hour_totals")
    where = [(N_("durées"), {})]
    if not isinstance(raw, list) or not raw:
        check.error(N_("« hour_totals » doit être une liste non vide."), where, root.line_of("hour_totals"),
                    "hour_totals")
        return ()
    result = []
    for n, item in enumerate(raw, 1):
        here = [(N_("durée n° %(hn)s"), {"hn": n})]
        entry = check.mapping(item, here, root.line_of("hour_totals"), "hour_totals")
        if entry is None:
            continue
        check.keys(entry, "hour_total", here)
        label = check.text(entry, "label", here)
        hours = check.number(entry, "hours", here)
        kinds = check.texts(entry, "kinds", here)
        for kind in kinds:
            if kind not in KINDS:
                check.error(N_("« kinds » : nature « %(value)s » inconnue ; natures permises : %(allowed)s."), here,
                            entry.line_of("kinds"), "kinds", value=kind, allowed=", ".join(KINDS))
        total_source = check.source(entry, here, source, entry.line)
        if hours is not None and total_source is not None:
            result.append(HourTotal(label=label, hours=hours, kinds=kinds, source=total_source))
    return tuple(result)


def _line_of(check: _Checker, element_id: str, default: int) -> int:
    return check.seen.get(element_id, default)


def _check_links(check: _Checker, framework: Framework) -> None:
    for target, relation, where, line, node_id in check.links:
        if target == node_id:
            check.error(N_("« links » : un élément ne renvoie pas à lui-même (« %(id)s »)."), where, line, "links",
                        id=target)
        elif not framework.has(target) or not isinstance(framework._index[target], Node):
            check.error(N_("« links » / %(relation)s : « %(id)s » n'est pas un élément de ce référentiel."), where,
                        line, "links", relation=relation, id=target)


def _check_hour_totals(check: _Checker, root, framework: Framework) -> None:
    for n, total in enumerate(framework.hour_totals, 1):
        found = framework.hours_of(total.kinds)
        if abs(found - total.hours) > 1e-9:
            check.error(N_("« %(label)s » : le document annonce %(stated)s h mais les éléments (%(kinds)s) en "
                           "totalisent %(found)s."), [(N_("durée n° %(hn)s"), {"hn": n})],
                        root.line_of("hour_totals"), "hours", label=total.label, stated=_num(total.hours),
                        kinds=", ".join(total.kinds), found=_num(found))


def _num(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def _check_expected(check: _Checker, root, framework: Framework) -> None:
    """What the seed documents fix for this framework (see ``EXPECTED``)."""
    expected = EXPECTED.get(framework.code)
    if expected is None:
        return
    code, line = framework.code, root.line_of("code")
    here = [(N_("le référentiel « %(code)s »"), {"code": code})]
    for local, kind in expected.nodes:
        full = f"{code}/{local}"
        found = framework._index.get(full)
        if not isinstance(found, Node):
            check.error(N_("l'élément « %(id)s » (%(kind)s) est exigé par le document source mais absent."), here,
                        root.line_of("nodes"), "nodes", id=full, kind=KINDS[kind])
        elif found.kind != kind:
            check.error(N_("l'élément « %(id)s » doit être de nature « %(kind)s » (ici « %(found)s »)."), here,
                        _line_of(check, full, line), "kind", id=full, kind=kind, found=found.kind)
    if expected.criteria is not None:
        want = [f"{code}/{local}" for local in expected.criteria]
        have = [c.id for c in framework.criteria()]
        if have != want:
            check.error(N_("les critères doivent être exactement %(want)s, dans cet ordre (trouvés : %(have)s)."),
                        here, root.line_of("nodes"), "criteria", want=f"{want[0]} … {want[-1]} ({len(want)})",
                        have=", ".join(c.rsplit("/", 1)[-1] for c in have) or "—")
    for local, value in expected.coefficients:
        full = f"{code}/{local}"
        found = framework._index.get(full)
        if isinstance(found, Node) and found.coefficient != value:
            check.error(N_("l'élément « %(id)s » a le coefficient %(value)s dans le document source (ici "
                           "%(found)s)."), here, _line_of(check, full, line), "coefficient", id=full,
                        value=_num(value), found=_num(found.coefficient) if found.coefficient is not None else "—")
    kinds = dict(framework.stats().kinds)
    for kind, count in expected.counts:
        if kinds.get(kind, 0) != count:
            check.error(N_("%(count)s éléments de nature « %(kind)s » attendus, %(found)s trouvés."), here,
                        root.line_of("nodes"), "kind", count=count, kind=kind, found=kinds.get(kind, 0))
    for kinds_summed, hours in expected.hours:
        found = framework.hours_of(kinds_summed)
        if abs(found - hours) > 1e-9:
            check.error(N_("les durées des éléments (%(kinds)s) totalisent %(found)s h ; le document source en "
                           "annonce %(stated)s."), here, root.line_of("nodes"), "hours", kinds=", ".join(kinds_summed),
                        found=_num(found), stated=_num(hours))
    if expected.rule is not None and (framework.rule is None or framework.rule.kind != expected.rule):
        check.error(N_("ce référentiel doit avoir une règle de certification « %(kind)s »."), here,
                    root.line_of("rule") if "rule" in root else line, "rule", kind=expected.rule)


# --- search ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchResult:
    """What matches a query: ``matches`` in document order, ``visible`` adds their ancestors.

    A filtered tree shows a node when it is visible, a criterion when it matches
    or its node matches, and a node's details when the node itself matches."""

    query: str
    terms: tuple[str, ...]
    matches: tuple[str, ...] = ()
    visible: frozenset = frozenset()

    @property
    def active(self) -> bool:
        return bool(self.terms)

    @property
    def count(self) -> int:
        return len(self.matches)

    def matched(self, element_id: str) -> bool:
        return element_id in self._matched

    def shows(self, element_id: str) -> bool:
        return not self.active or element_id in self.visible

    def shown(self, elements) -> tuple:
        """Those of ``elements`` (nodes or criteria) a filtered tree shows, in order."""
        return tuple(e for e in elements if self.shows(e.id))

    @property
    def _matched(self) -> frozenset:
        return frozenset(self.matches)


def _node_text(node: Node) -> str:
    pieces = [node.id, node.label, node.title, node.text, node.note, *node.items]
    for detail in node.details:
        pieces += [detail.heading, detail.text, *detail.items]
    return fold(" ".join(p for p in pieces if p))


def _criterion_text(criterion: Criterion) -> str:
    return fold(" ".join(p for p in (criterion.id, criterion.label, criterion.text, criterion.why, criterion.note) if p))


def search_terms(query: str) -> tuple[str, ...]:
    """The query's words, folded (accents and case ignored), without repeats."""
    return tuple(dict.fromkeys(fold(query).split()))


def search(framework: Framework, query: str) -> SearchResult:
    """Nodes and criteria containing every word of ``query`` (accents and case ignored)."""
    terms = search_terms(query)
    if not terms:
        return SearchResult(query=query.strip(), terms=())
    matches: list[str] = []
    visible: set[str] = set()
    for _depth, node in framework.walk():
        hits = []
        if all(term in _node_text(node) for term in terms):
            hits.append(node.id)
        hits += [c.id for c in node.criteria if all(term in _criterion_text(c) for term in terms)]
        for element_id in hits:
            matches.append(element_id)
            visible.add(element_id)
            visible.update(a.id for a in framework.ancestors(element_id))
        if node.id in hits:  # a matching node is shown whole: its criteria and its plain items
            visible.update(c.id for c in node.criteria)
            visible.update(child.id for child in node.children if child.is_leaf)
    return SearchResult(query=query.strip(), terms=terms, matches=tuple(matches), visible=frozenset(visible))


def highlight(text: str, terms: tuple[str, ...]) -> list[tuple[str, bool]]:
    """``text`` cut into (piece, matched) runs: where a folded term occurs, accents ignored.

    Folding is done character by character so that the runs map back onto the
    original text (« Réformulation » is marked for the term « reformulation »)."""
    if not text or not terms:
        return [(text, False)] if text else []
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in unidecode(char).lower():
            folded.append(piece)
            origin.append(index)
    haystack = "".join(folded)
    marked = [False] * len(text)
    for term in terms:
        start = haystack.find(term)
        while start != -1:
            for k in range(start, start + len(term)):
                marked[origin[k]] = True
            start = haystack.find(term, start + 1)
    runs: list[tuple[str, bool]] = []
    for char, flag in zip(text, marked):
        if runs and runs[-1][1] == flag:
            runs[-1] = (runs[-1][0] + char, flag)
        else:
            runs.append((char, flag))
    return runs


__all__ = [
    "ASSESSABLE", "ASSESSABLE_LABELS", "CALL", "HUMAN", "KINDS", "LINKS", "LIST_LABELS", "EXPECTED", "Criterion", "Detail",
    "Document", "Framework", "FrameworkError", "HourTotal", "Node", "Rule", "SearchResult", "Source",
    "Stats", "anchor", "highlight", "parse_framework", "search", "search_terms",
]
