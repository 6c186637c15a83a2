"""Interactive voice menus ("SVI", serveur vocal interactif): the YAML format, its validation, navigation.

An administrator writes the menu as YAML in the browser; like a call script it
is checked as a whole and every problem is reported at once, in French, with
its line and its place (node, key), never only the first one. The format
(with a full example in ``docs/ivr.md``)::

    start: accueil                      # the node the caller hears first
    nodes:
      accueil:                          # node id: a-z, 0-9, "-" and "_"
        prompt: "Pour un dépannage, tapez 1 ; pour votre facture, tapez 2…"
        options:                        # key → action; keys 0–9, "*" and "#" (quoted)
          "1": {queue: depannage}
          "2": {menu: facturation}
          "3": {message: "Nos conseillers vous répondent du lundi au samedi.", then: accueil}
          "*": {repeat: true}
          "9": {back: true}
          "0": {transfer: "+33140000000"}
        timeout: {seconds: 8, then: {repeat: true}}   # optional: what silence does
        fallback: {queue: service-clients}             # optional: after 3 wrong tries

Actions (one per key):

- ``{menu: NODE}`` goes to a node, whose prompt is said;
- ``{queue: CODE}`` puts the call in the queue with that code (it leaves the menu);
- ``{message: TEXT, then: NODE}`` says TEXT then goes to NODE (by default this
  node again); ``then: hangup`` ends the call after the message;
- ``{transfer: NUMBER}`` sends the call to an outside number (it leaves the
  platform: the call ends, "deflected", reason ``ivr_transfer``);
- ``{repeat: true}`` says the node's prompt again;
- ``{back: true}`` returns to the node the caller came from (at the start node:
  repeat).

``message`` may also accompany ``menu``, ``queue`` and ``transfer``: it is said
first ("Nous vous mettons en relation avec un conseiller.").

A key that is not an option (or no key at all when the node has a
``timeout`` whose action is ``repeat``) counts as a wrong try: the caller
hears "Ce choix n'est pas valide" and the prompt again; at the third wrong try
in a row the node's ``fallback`` runs, or, without one, the call ends politely
(reason ``ivr_hangup``).

Validation, beyond the shape of each field: the start node and every node an
action names exist, queue codes are known queues, transfer numbers are valid
phone numbers, prompts and messages are not empty, and

- every node is reachable from the start (an unreachable node is an *error*,
  as for call scripts: it is almost always a forgotten link, and a menu that
  says what it does is easier to maintain);
- from every reachable node a caller can reach an exit — a queue, a
  transfer, or a message that hangs up — with the keys announced (and the
  node's timeout), through other nodes if need be; a node that cannot is
  accepted only if it offers ``back`` (not the start node: there is nowhere
  to go back to). Otherwise it is a *dead end* ("impasse"), or, when it
  belongs to a cycle of such nodes, a *loop without exit*. The fallback
  after wrong keys does not count as a way out: a caller pressing the keys
  announced must never be trapped. The rule is simple to explain and
  enough: with it, from wherever a caller is, valid keys lead out (a node
  without a way out goes back to the node it was entered from, and so on
  down to the start, which has one).

Navigation is pure: ``enter`` gives the start prompt, ``step`` the outcome of
a key, ``no_input`` the outcome of the node's timeout. The position of a
caller is (node, history, tries): ``history`` is the path of nodes that led to
the node (what ``back`` pops); going to a node already on that path cuts the
path back to it, so the history stays a simple path, as short as the menu.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterable

from . import phones
from .errors import N_, ValidationError
from .scripts import _ID, ScriptError, _Checker, _Map, _raise, load_yaml

#: the keypad, in the order of a phone's layout (three columns)
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")
#: wrong tries in a row before the node's fallback runs
MAX_TRIES = 3
#: ``then`` value of a message that ends the call
HANGUP = "hangup"
MAX_PROMPT = 1000
MIN_TIMEOUT_S, MAX_TIMEOUT_S = 1, 120

KEY_LABELS = {"*": N_("étoile"), "#": N_("dièse")}

INVALID_KEY = N_("Ce choix n'est pas valide.")
GOODBYE = N_("Nous n'avons pas compris votre choix. Merci de rappeler ultérieurement. Au revoir.")
TRANSFERRING = N_("Nous transférons votre appel.")

_MENU_KEYS = ({"start", "nodes"}, set())
_NODE_KEYS = ({"prompt"}, {"options", "timeout", "fallback"})
_TIMEOUT_KEYS = ({"seconds", "then"}, set())
_ACTION_KEYS = {"menu", "queue", "message", "then", "transfer", "repeat", "back"}


class Kind(StrEnum):
    MENU = "menu"
    QUEUE = "queue"
    MESSAGE = "message"
    TRANSFER = "transfer"
    REPEAT = "repeat"
    BACK = "back"


#: what a caller's journey may end in
EXITS = (Kind.QUEUE, Kind.TRANSFER)


@dataclass(frozen=True)
class Action:
    """What a key does. ``target``: the node (menu), the queue code (queue), the
    E.164 number (transfer), or for a message the node that follows ("" for
    the same node, ``hangup`` to end the call)."""

    kind: Kind
    target: str = ""
    message: str = ""

    @property
    def is_exit(self) -> bool:
        return self.kind in EXITS or self.kind == Kind.MESSAGE and self.target == HANGUP

    def next_node(self, here: str) -> str | None:
        """The node this action leads to (None for an exit, back, or an unknown target)."""
        if self.kind == Kind.MENU:
            return self.target
        if self.kind == Kind.MESSAGE and self.target != HANGUP:
            return self.target or here
        if self.kind == Kind.REPEAT:
            return here
        return None


@dataclass(frozen=True)
class Timeout:
    seconds: int
    then: Action


@dataclass(frozen=True)
class Node:
    id: str
    prompt: str
    options: tuple[tuple[str, Action], ...] = ()
    timeout: Timeout | None = None
    fallback: Action | None = None

    def option(self, key: str) -> Action | None:
        for option_key, action in self.options:
            if option_key == key:
                return action
        return None

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _action in self.options)

    @property
    def moves(self) -> tuple[Action, ...]:
        """The actions a caller triggers on purpose: the keys announced, and silence."""
        return tuple(a for _k, a in self.options) + ((self.timeout.then,) if self.timeout else ())

    @property
    def has_back(self) -> bool:
        return any(action.kind == Kind.BACK for action in self.moves)


@dataclass(frozen=True)
class Menu:
    start: str
    nodes: tuple[Node, ...]

    def node(self, node_id: str | None) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        return self.nodes_by_id[self.start]

    def has_node(self, node_id: str | None) -> bool:
        return node_id in self.nodes_by_id

    @property
    def nodes_by_id(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    @property
    def queue_codes(self) -> set[str]:
        """Every queue the menu can put a call in."""
        return {a.target for n in self.nodes for a in (*n.moves, *((n.fallback,) if n.fallback else ()))
                if a.kind == Kind.QUEUE}


# --- navigation ---------------------------------------------------------------------------


class End(StrEnum):
    """How a step ends: the caller still in the menu, or out of it."""

    PROMPT = "prompt"
    QUEUE = "queue"
    TRANSFER = "transfer"
    HANGUP = "hangup"


#: deflection reasons recorded on a call that ends in the menu
REASON_MESSAGE = "ivr_message"
REASON_TRANSFER = "ivr_transfer"
REASON_HANGUP = "ivr_hangup"


@dataclass(frozen=True)
class Outcome:
    """The result of a key (or of silence): what the caller hears, and where they are.

    ``said`` are the system lines, in order. For ``PROMPT`` the caller is in
    ``node`` with ``history`` and ``tries`` wrong tries in a row; ``QUEUE``
    names the queue code, ``TRANSFER`` the number; ``reason`` is the
    deflection reason of a call that ends here.
    """

    end: End
    said: tuple[str, ...] = ()
    node: str | None = None
    history: tuple[str, ...] = ()
    tries: int = 0
    queue: str | None = None
    number: str | None = None
    invalid: bool = False
    reason: str = ""
    action: Kind | None = None

    @property
    def in_menu(self) -> bool:
        return self.end == End.PROMPT


def enter(menu: Menu) -> Outcome:
    """A caller dials in: the start node's prompt."""
    start = menu.node(menu.start)
    return Outcome(End.PROMPT, (start.prompt,), start.id, (), 0)


def step(menu: Menu, node: str, key: str, history: Iterable[str] = (), tries: int = 0) -> Outcome:
    """What pressing ``key`` in ``node`` does."""
    here = menu.node(node)
    history = tuple(history)
    action = here.option(str(key))
    if action is not None:
        return _run(menu, here, action, history)
    return _wrong_try(menu, here, history, tries, invalid=True)


def no_input(menu: Menu, node: str, history: Iterable[str] = (), tries: int = 0) -> Outcome | None:
    """What the node's timeout does when the caller presses nothing (None: no timeout, keep waiting).

    A timeout that repeats the prompt counts as a wrong try, so a silent
    caller reaches the fallback like one who keeps pressing wrong keys."""
    here = menu.node(node)
    if here.timeout is None:
        return None
    history = tuple(history)
    if here.timeout.then.kind == Kind.REPEAT:
        return _wrong_try(menu, here, history, tries, invalid=False)
    return _run(menu, here, here.timeout.then, history)


def _wrong_try(menu: Menu, here: Node, history: tuple[str, ...], tries: int, invalid: bool) -> Outcome:
    tries += 1
    notice = (INVALID_KEY,) if invalid else ()
    if tries < MAX_TRIES:
        return Outcome(End.PROMPT, (*notice, here.prompt), here.id, history, tries, invalid=invalid)
    if here.fallback is None:
        return Outcome(End.HANGUP, (GOODBYE,), here.id, history, tries, invalid=invalid, reason=REASON_HANGUP)
    outcome = _run(menu, here, here.fallback, history)
    return Outcome(outcome.end, (*notice, *outcome.said), outcome.node, outcome.history, outcome.tries,
                   outcome.queue, outcome.number, invalid, outcome.reason, outcome.action)


def _run(menu: Menu, here: Node, action: Action, history: tuple[str, ...]) -> Outcome:
    said = (action.message,) if action.message else ()
    kind = action.kind
    if kind == Kind.QUEUE:
        return Outcome(End.QUEUE, said, here.id, history, queue=action.target, action=kind)
    if kind == Kind.TRANSFER:
        return Outcome(End.TRANSFER, said or (TRANSFERRING,), here.id, history, number=action.target,
                       reason=REASON_TRANSFER, action=kind)
    if kind == Kind.MESSAGE and action.target == HANGUP:
        return Outcome(End.HANGUP, said, here.id, history, reason=REASON_MESSAGE, action=kind)
    if kind == Kind.BACK:
        if history:
            target, history = history[-1], history[:-1]
        else:
            target = here.id
        return Outcome(End.PROMPT, (*said, menu.node(target).prompt), target, history, 0, action=kind)
    target = action.next_node(here.id) or here.id
    return Outcome(End.PROMPT, (*said, menu.node(target).prompt), target, _moved(here.id, target, history), 0,
                   action=kind)


def _moved(here: str, target: str, history: tuple[str, ...]) -> tuple[str, ...]:
    """The path after going from ``here`` to ``target``: cut back when ``target`` is already on it."""
    if target == here:
        return history
    if target in history:
        return history[:history.index(target)]
    return (*history, here)


# --- the graph ------------------------------------------------------------------------------


def _leads_out(menu: Menu) -> set[str]:
    """Nodes from which an exit is reached by valid keys and silence alone (no back)."""
    edges = {n.id: {a.next_node(n.id) for a in n.moves} - {None} for n in menu.nodes}
    reverse: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            reverse.setdefault(target, set()).add(source)
    leads = {n.id for n in menu.nodes if any(a.is_exit for a in n.moves)}
    todo = deque(leads)
    while todo:
        for source in reverse.get(todo.popleft(), ()):
            if source not in leads:
                leads.add(source)
                todo.append(source)
    return leads


def reachable(menu: Menu) -> set[str]:
    """Nodes a caller can get to from the start: by keys, silence or the fallback."""
    nodes = menu.nodes_by_id
    seen = {menu.start}
    todo = deque([menu.start])
    while todo:
        node = nodes[todo.popleft()]
        actions = (*node.moves, *((node.fallback,) if node.fallback else ()))
        for target in {a.next_node(node.id) for a in actions} - {None}:
            if target in nodes and target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _cycles(nodes: set[str], edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two nodes or more among ``nodes`` (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, set()) & nodes)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, set()) & nodes))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return groups


# --- parsing and validation ------------------------------------------------------------------


def node_where(node_id: str) -> tuple[str, dict]:
    return (N_("nœud « %(node)s »"), {"node": node_id})


def key_where(key: str) -> tuple[str, dict]:
    return (N_("touche %(key)s"), {"key": key})


TIMEOUT_WHERE = (N_("délai sans réponse (timeout)"), {})
FALLBACK_WHERE = (N_("choix par défaut (fallback)"), {})


class _MenuChecker(_Checker):
    """The script checker's readers (text, mapping, errors with lines), with the menu's key tables."""

    def keys(self, data: _Map, allowed: tuple[set[str], set[str]], where) -> None:  # type: ignore[override]
        required, optional = allowed
        for key in sorted(required - set(data)):
            self.error(N_("clé obligatoire « %(key)s » absente."), where, data.line, key=key)
        for key in [k for k in data if k not in required | optional]:
            self.error(N_("clé inconnue « %(key)s » ; clés permises : %(allowed)s."), where, data.line_of(str(key)),
                       key=str(key), allowed=", ".join(sorted(required | optional)))


class _Parser:
    def __init__(self, queues: Iterable[str] | None, region: str):
        self.check = _MenuChecker()
        self.queues = None if queues is None else set(queues)
        self.region = region
        #: node ids written in the text, and their lines
        self.node_lines: dict[str, int] = {}
        #: references to nodes, checked once every node is known: (target, where, line, key)
        self.references: list[tuple[str, list, int, str]] = []
        #: a node or an action could not be read: the graph checks wait until it is fixed
        self.graph_broken = False

    def error(self, message: str, where=None, line=None, **params) -> None:
        self.check.error(message, where, line, **params)

    def menu(self, text: str) -> Menu:
        data, load_errors = load_yaml(text)
        self.check.errors.extend(_said_for_keys(error) for error in load_errors)
        for number, line in enumerate((text or "").splitlines(), 1):
            if _HASH_KEY.match(line):  # YAML reads it as a comment: the option would vanish silently
                self.error(N_("« #: » sans guillemets est un commentaire en YAML : écrivez la touche dièse "
                              "entre guillemets, \"#\": {…}."), [], number)
        if data is None:
            if not load_errors:
                self.error(N_("le menu est vide."))
            _raise(self.check.errors)
        root = self.check.mapping(data, [(N_("le menu"), {})], 1)
        if root is None:
            _raise(self.check.errors)
        self.check.keys(root, _MENU_KEYS, [])
        start = self.check.text(root, "start", [])
        nodes = self.nodes(root)
        ids = set(self.node_lines)  # a node whose body is wrong still exists for the references
        if start and ids and start not in ids:
            self.graph_broken = True
            self.error(N_("« start » désigne le nœud « %(target)s » qui n'existe pas ; nœuds : %(nodes)s."), [],
                       root.line_of("start"), target=start, nodes=", ".join(sorted(ids)))
        for target, where, line, key in self.references:
            if target not in ids:
                self.graph_broken = True
                self.error(N_("« %(key)s » mène au nœud « %(target)s » qui n'existe pas ; nœuds : %(nodes)s."), where,
                           line, key=key, target=target, nodes=", ".join(sorted(ids)) or "—")
        if start and nodes and not self.graph_broken:
            # with a missing node or action the graph checks would only repeat that error in other words
            self.graph(Menu(start=start, nodes=nodes))
        if self.check.errors or not start or not nodes:
            _raise(self.check.errors)
        return Menu(start=start, nodes=nodes)

    def nodes(self, root: _Map) -> tuple[Node, ...]:
        if "nodes" not in root:
            return ()
        raw = self.check.mapping(root.get("nodes"), [], root.line_of("nodes"))
        if raw is None:
            return ()
        if not raw:
            self.error(N_("« nodes » doit contenir au moins un nœud."), [], root.line_of("nodes"))
            return ()
        result = []
        for raw_id, value in raw.items():
            node_id = str(raw_id).strip()
            line = raw.line_of(str(raw_id))
            where = [node_where(node_id)]
            if not _ID.match(node_id):
                self.error(N_("identifiant de nœud « %(id)s » invalide : lettres minuscules sans accent, chiffres, "
                              "« - » et « _ », 64 caractères au plus."), where, line, id=node_id)
            if node_id == HANGUP:
                self.error(N_("« hangup » est réservé (fin d'appel) : choisissez un autre identifiant de nœud."),
                           where, line)
            self.node_lines[node_id] = line
            data = self.check.mapping(value, where, line)
            if data is None:
                self.graph_broken = True
                continue
            result.append(self.node(node_id, data, where))
        return tuple(result)

    def node(self, node_id: str, data: _Map, where: list) -> Node:
        self.check.keys(data, _NODE_KEYS, where)
        prompt = self.check.text(data, "prompt", where)
        if len(prompt) > MAX_PROMPT:
            self.error(N_("« %(key)s » : %(max)s caractères au plus."), where, data.line_of("prompt"), key="prompt",
                       max=MAX_PROMPT)
        options = self.options(data, where)
        timeout = self.timeout(data, where)
        fallback = None
        if "fallback" in data:
            fallback_where = where + [FALLBACK_WHERE]
            fallback = self.action(data.get("fallback"), fallback_where, data.line_of("fallback"))
            if fallback is not None and fallback.kind == Kind.REPEAT:
                self.error(N_("le choix par défaut ne peut pas être « repeat » : l'appel tournerait sans fin ; "
                              "choisissez une file, un message ou un nœud."), fallback_where, data.line_of("fallback"))
        return Node(id=node_id, prompt=prompt, options=options, timeout=timeout, fallback=fallback)

    def options(self, data: _Map, where: list) -> tuple[tuple[str, Action], ...]:
        if "options" not in data or data.get("options") is None:
            return ()
        raw = self.check.mapping(data.get("options"), where, data.line_of("options"))
        if raw is None:
            self.graph_broken = True
            return ()
        result = []
        for raw_key, value in raw.items():
            line = raw.line_of(str(raw_key))
            key = _key(raw_key)
            if key is None:
                self.error(N_("touche « %(key)s » inconnue : les touches sont 0 à 9, « * » et « # » (écrivez-les "
                              "entre guillemets : \"*\", \"#\")."), where, line, key=str(raw_key))
                self.graph_broken = True
                continue
            if key in dict(result):
                if key != str(raw_key):  # "1" and " 1": the same key written two ways
                    self.error(N_("la touche %(key)s est définie deux fois."), where, line, key=key)
                continue  # written the same way twice: the YAML reader already said so
            action = self.action(value, where + [key_where(key)], line)
            if action is not None:
                result.append((key, action))
        return tuple(sorted(result, key=lambda item: KEYS.index(item[0])))

    def timeout(self, data: _Map, where: list) -> Timeout | None:
        if "timeout" not in data:
            return None
        here = where + [TIMEOUT_WHERE]
        raw = self.check.mapping(data.get("timeout"), here, data.line_of("timeout"))
        if raw is None:
            self.graph_broken = True
            return None
        self.check.keys(raw, _TIMEOUT_KEYS, here)
        seconds = raw.get("seconds")
        if "seconds" in raw and (isinstance(seconds, bool) or not isinstance(seconds, int)
                                 or not MIN_TIMEOUT_S <= seconds <= MAX_TIMEOUT_S):
            self.error(N_("« seconds » doit être un nombre entier de secondes entre %(min)s et %(max)s."), here,
                       raw.line_of("seconds"), min=MIN_TIMEOUT_S, max=MAX_TIMEOUT_S)
            seconds = None
        then = self.action(raw.get("then"), here, raw.line_of("then")) if "then" in raw else None
        if seconds is None or then is None:
            self.graph_broken = True
            return None
        return Timeout(seconds=seconds, then=then)

    def action(self, value, where: list, line: int) -> Action | None:
        action = self._action(value, where, line)
        if action is None:
            self.graph_broken = True
        return action

    def _action(self, value, where: list, line: int) -> Action | None:
        data = self.check.mapping(value, where, line)
        if data is None:
            return None
        for key in [k for k in data if k not in _ACTION_KEYS]:
            self.error(N_("clé inconnue « %(key)s » ; une action s'écrit avec menu, queue, message (et then), "
                          "transfer, repeat ou back."), where, data.line_of(str(key)), key=str(key))
        kinds = [kind for kind in (Kind.MENU, Kind.QUEUE, Kind.TRANSFER, Kind.REPEAT, Kind.BACK) if kind in data]
        if len(kinds) > 1:
            self.error(N_("une seule action par touche : %(kinds)s ne peuvent pas aller ensemble."), where, data.line,
                       kinds=", ".join(kinds))
            return None
        has_message = "message" in data
        message = self.check.text(data, "message", where) if has_message else ""
        if len(message) > MAX_PROMPT:
            self.error(N_("« %(key)s » : %(max)s caractères au plus."), where, data.line_of("message"), key="message",
                       max=MAX_PROMPT)
        if not kinds:
            if not has_message:
                self.error(N_("action manquante : écrivez menu, queue, message, transfer, repeat ou back."), where,
                           data.line)
                return None
            then = self.check.text(data, "then", where) if "then" in data else ""
            if then and then != HANGUP:
                self.references.append((then, where, data.line_of("then"), "then"))
            return Action(Kind.MESSAGE, then, message)
        kind = kinds[0]
        if "then" in data:
            self.error(N_("« then » ne s'emploie qu'avec un message seul (message puis then: nœud ou hangup)."), where,
                       data.line_of("then"))
        if kind in (Kind.REPEAT, Kind.BACK):
            if data.get(kind) is not True:
                self.error(N_("« %(key)s » s'écrit « %(key)s: true »."), where, data.line_of(kind), key=str(kind))
            if has_message:
                self.error(N_("« message » ne va pas avec « %(key)s »."), where, data.line_of("message"), key=str(kind))
            return Action(kind)
        target = self.check.text(data, kind, where)
        if not target:
            return None
        if kind == Kind.MENU:
            self.references.append((target, where, data.line_of(kind), "menu"))
        elif kind == Kind.QUEUE and self.queues is not None and target not in self.queues:
            self.error(N_("file d'attente « %(queue)s » inconnue ; files existantes : %(queues)s."), where,
                       data.line_of(kind), queue=target, queues=", ".join(sorted(self.queues)) or "—")
        elif kind == Kind.TRANSFER:
            try:
                target = phones.parse(target, self.region)
            except ValidationError:
                self.error(N_("numéro de transfert « %(number)s » invalide : écrivez un numéro complet, par exemple "
                              "+33 1 40 00 00 00."), where, data.line_of(kind), number=target)
                return None
        return Action(kind, target, message)

    def graph(self, menu: Menu) -> None:
        """Unreachable nodes, dead ends and loops without exit."""
        seen = reachable(menu)
        for node in menu.nodes:
            if node.id not in seen:
                self.error(N_("ce nœud n'est jamais atteint depuis le nœud de départ « %(start)s » : aucune touche, "
                              "aucun délai ni choix par défaut n'y mène."), [node_where(node.id)],
                           self.node_lines.get(node.id), start=menu.start)
        leads = _leads_out(menu)
        # a node without a way out is acceptable only if it can go back (the start cannot)
        stuck = {n.id for n in menu.nodes if n.id in seen and n.id not in leads
                 and (not n.has_back or n.id == menu.start)}
        if not stuck:
            return
        stranded = {n.id for n in menu.nodes if n.id not in leads}
        edges = {n.id: {a.next_node(n.id) for a in n.moves} - {None, n.id} for n in menu.nodes}
        looped: set[str] = set()
        for group in _cycles(stranded, edges):
            if not stuck & set(group):
                continue
            ordered = [n.id for n in menu.nodes if n.id in group]
            looped.update(group)
            first = next(n for n in ordered if n in stuck)
            self.error(N_("boucle sans sortie : les nœuds %(nodes)s se renvoient l'appel, et aucune de leurs touches "
                          "ne mène à une file, à un transfert ou à un message de fin (then: hangup) ; ajoutez une de "
                          "ces sorties, ou une touche « back » à %(without_back)s."), [node_where(first)],
                       self.node_lines.get(first), nodes=" → ".join(ordered + ordered[:1]),
                       without_back=", ".join(f"« {n} »" for n in ordered if n in stuck))
        for node in menu.nodes:
            if node.id not in stuck or node.id in looped:
                continue
            targets = sorted(edges[node.id])
            if node.id == menu.start and not targets:
                self.error(N_("aucune sortie : aucune touche du nœud de départ ne mène à une file, à un transfert ou "
                              "à un message de fin (then: hangup)."), [node_where(node.id)],
                           self.node_lines.get(node.id))
            elif targets:
                self.error(N_("impasse : les touches de ce nœud ne mènent qu'à %(targets)s, d'où aucune touche ne "
                              "mène à une file, à un transfert ou à un message de fin (then: hangup) ; ajoutez une "
                              "de ces sorties ou une touche « back »."), [node_where(node.id)],
                           self.node_lines.get(node.id), targets=", ".join(f"« {t} »" for t in targets))
            else:
                self.error(N_("impasse : aucune touche ne mène à une file, à un transfert ou à un message de fin "
                              "(then: hangup), et ce nœud n'a pas de touche « back » pour revenir."),
                           [node_where(node.id)], self.node_lines.get(node.id))


_HASH_KEY = re.compile(r"^\s*#\s*:")


def _said_for_keys(error: ScriptError) -> ScriptError:
    """PyYAML's complaint about an unquoted ``*`` key, said in French with the fix."""
    if str(error.params.get("problem", "")).startswith("expected alphabetic or numeric character"):
        return ScriptError(N_("Erreur de syntaxe YAML à la colonne %(column)s : « * » sans guillemets annonce un alias "
                              "YAML ; écrivez la touche étoile entre guillemets, \"*\": {…}."), error.where, error.line,
                           column=error.params.get("column"))
    return error


def _key(raw) -> str | None:
    """A keypad key as written in YAML (``1:`` is an integer there, ``"*":`` a text)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int) and 0 <= raw <= 9:
        return str(raw)
    if isinstance(raw, str) and raw.strip() in KEYS:
        return raw.strip()
    return None


def parse_menu(text: str, queues: Iterable[str] | None = None, region: str = "FR") -> Menu:
    """Read and check a menu; raise ValidationError listing every problem (``ScriptError`` each, in text order).

    ``queues`` are the known queue codes (None: not checked, e.g. a file
    checked away from any database); ``region`` reads national transfer numbers.
    """
    return _Parser(queues, region).menu(text)


def problems(text: str, queues: Iterable[str] | None = None, region: str = "FR") -> list[ScriptError]:
    """Every problem of a menu's text (empty when it is valid)."""
    try:
        parse_menu(text, queues, region)
    except ValidationError as exc:
        return list(exc.errors.values())
    return []


# --- menu files (the demo company's, a data folder's) ---------------------------------------------


@dataclass(frozen=True)
class MenuEntry:
    """One menu of a menus file, with the file line its text starts on."""

    code: str
    name: str
    number: str
    content: str
    first_line: int


_FILE_KEYS = ({"menus"}, set())
_ENTRY_KEYS = ({"code", "name", "content"}, {"number"})


def read_menus_file(text: str) -> list[MenuEntry]:
    """A file of several menus (``data/demo/ivr.yaml``)::

        menus:
          - code: accueil
            name: Énergie Horizon — standard
            number: "+33 1 84 88 00 00"
            content: |
              start: accueil
              nodes: …

    Each ``content`` is a menu's text, written as a ``|`` block so that its
    lines are the file's lines. Raises ValidationError for the file's shape."""
    check = _MenuChecker()
    data, load_errors = load_yaml(text)
    check.errors.extend(load_errors)
    root = check.mapping(data, [], 1) if data is not None else None
    entries: list[MenuEntry] = []
    if root is not None:
        check.keys(root, _FILE_KEYS, [])
        raw = root.get("menus")
        if "menus" in root and not isinstance(raw, list):
            check.error(N_("« menus » doit être une liste (lignes commençant par « - »)."), [], root.line_of("menus"))
            raw = []
        seen: set[str] = set()
        for n, item in enumerate(raw or [], 1):
            where = [(N_("menu n° %(n)s"), {"n": n})]
            entry = check.mapping(item, where, root.line_of("menus"))
            if entry is None:
                continue
            check.keys(entry, _ENTRY_KEYS, where)
            code = check.text(entry, "code", where)
            if code and (not _ID.match(code) or code in seen):
                check.error(N_("code de menu « %(code)s » invalide ou en double."), where, entry.line_of("code"),
                            code=code)
            seen.add(code)
            content = entry.get("content")
            if "content" in entry and not isinstance(content, str):
                check.error(N_("« content » doit être le texte du menu, écrit en bloc après « content: | »."), where,
                            entry.line_of("content"))
                continue
            entries.append(MenuEntry(code, check.text(entry, "name", where), check.text(entry, "number", where, False),
                                     content or "", entry.line_of("content") + 1))
    elif data is None and not load_errors:
        check.error(N_("le fichier est vide."))
    if check.errors:
        _raise(check.errors)
    return entries


def file_problems(text: str, queues: Iterable[str] | None = None, region: str = "FR") -> list[ScriptError]:
    """Every problem of a menu file: one menu, or a ``menus:`` list of them (lines are the file's)."""
    data, _errors = load_yaml(text)
    if not (isinstance(data, dict) and "menus" in data):
        return problems(text, queues, region)
    try:
        entries = read_menus_file(text)
    except ValidationError as exc:
        return list(exc.errors.values())
    found = []
    for entry in entries:
        for error in problems(entry.content, queues, region):
            where = [(N_("menu « %(menu)s »"), {"menu": entry.code}), *error.where]
            line = error.line + entry.first_line - 1 if error.line else entry.first_line
            found.append(ScriptError(error.message, where, line, **error.params))
    return found


# --- display -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TreeItem:
    """One node of the readable preview: the node, then each key and where it leads.

    A node already shown higher up the same branch (or elsewhere) is named, not
    expanded again, so the tree stays finite and short."""

    node: Node
    branches: tuple[tuple[str, Action, "TreeItem | None"], ...] = field(default_factory=tuple)
    repeated: bool = False


def tree(menu: Menu) -> TreeItem:
    """The menu as a tree from the start node, each node expanded once (depth first, in key order)."""
    nodes = menu.nodes_by_id
    shown: set[str] = set()

    def build(node_id: str) -> TreeItem:
        node = nodes[node_id]
        if node_id in shown:
            return TreeItem(node, (), True)
        shown.add(node_id)
        branches = []
        entries = [(key, action) for key, action in node.options]
        if node.timeout:
            entries.append(("timeout", node.timeout.then))
        if node.fallback:
            entries.append(("fallback", node.fallback))
        for key, action in entries:
            target = action.next_node(node_id)
            child = build(target) if target and target != node_id and target in nodes else None
            branches.append((key, action, child))
        return TreeItem(node, tuple(branches))

    return build(menu.start)
