"""Voice menus, pure rules: the YAML format, every validation message, navigation;
property tests on generated menus against a brute-force walk of every caller's state."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from plateau.domain import ivr
from plateau.domain.errors import ValidationError
from plateau.domain.ivr import End, Kind
from plateau.domain.scripts import load_yaml

QUEUES = {"depannage", "facturation", "service-clients"}
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo" / "ivr.yaml"

GOOD = """\
start: accueil
nodes:
  accueil:
    prompt: "Bienvenue. Dépannage : 1 ; facture : 2 ; horaires : 3 ; réécouter : étoile."
    options:
      "1": {queue: depannage}
      2: {menu: facturation}
      "3": {message: "Du lundi au samedi, de 8 h à 20 h.", then: accueil}
      "*": {repeat: true}
      "0": {transfer: "01 40 00 00 00"}
      "#": {message: "Au revoir.", then: hangup}
    timeout: {seconds: 8, then: {repeat: true}}
    fallback: {queue: service-clients, message: "Un conseiller va vous répondre."}
  facturation:
    prompt: "Payer : 1 ; retour : 9."
    options:
      "1": {queue: facturation, message: "Nous vous mettons en relation."}
      "2": {message: "Vos factures sont dans votre espace client."}
      "9": {back: true}
"""


def errors_of(text: str, queues=QUEUES) -> list[ivr.ScriptError]:
    with pytest.raises(ValidationError) as info:
        ivr.parse_menu(text, queues)
    return list(info.value.errors.values())


def one_error(text: str, queues=QUEUES) -> ivr.ScriptError:
    found = errors_of(text, queues)
    assert len(found) == 1, [e.render() for e in found]
    return found[0]


# --- the format ----------------------------------------------------------------------------------


def test_a_valid_menu_is_read_with_its_keys_in_keypad_order():
    menu = ivr.parse_menu(GOOD, QUEUES)
    assert menu.start == "accueil" and [n.id for n in menu.nodes] == ["accueil", "facturation"]
    accueil = menu.node("accueil")
    assert accueil.keys == ("1", "2", "3", "*", "0", "#")  # YAML's integer key 2 is the key "2"
    assert accueil.option("0") == ivr.Action(Kind.TRANSFER, "+33140000000")  # stored in E.164
    assert accueil.option("3") == ivr.Action(Kind.MESSAGE, "accueil", "Du lundi au samedi, de 8 h à 20 h.")
    assert accueil.timeout == ivr.Timeout(8, ivr.Action(Kind.REPEAT))
    assert accueil.fallback == ivr.Action(Kind.QUEUE, "service-clients", "Un conseiller va vous répondre.")
    assert menu.queue_codes == QUEUES


def test_queue_codes_are_not_checked_without_a_list():
    menu = ivr.parse_menu(GOOD.replace("queue: depannage", "queue: ailleurs"))
    assert menu.node("accueil").option("1").target == "ailleurs"


def test_the_demo_menus_are_valid_over_the_demo_queues_and_their_lines_are_the_files():
    text = DEMO.read_text(encoding="utf-8")
    assert ivr.file_problems(text, QUEUES) == []
    (entry,) = ivr.read_menus_file(text)
    assert entry.code == "standard" and entry.number == "+33 1 84 88 00 00"
    menu = ivr.parse_menu(entry.content, QUEUES)
    assert {n.id for n in menu.nodes} == {"accueil", "depannage", "facturation"}
    # without the "depannage" queue, the errors point at the file's own lines
    found = ivr.file_problems(text, QUEUES - {"depannage"})
    lines = text.splitlines()
    assert found and all("depannage" in lines[e.line - 1] for e in found)
    assert found[0].place == {"menu": "standard", "node": "depannage", "key": "3"}


# --- every validation message ---------------------------------------------------------------------


def test_empty_text_and_yaml_syntax_errors_have_their_line():
    assert one_error("").render() == "Le menu est vide."
    error = one_error("start: accueil\nnodes:\n  accueil:\n    prompt: [pas fermé\n")
    assert error.line == 5 and "Erreur de syntaxe YAML" in error.render()
    error = one_error('start: a\nnodes:\n  a:\n    prompt: x\n    options:\n      *: {repeat: true}\n')
    assert error.line == 6 and "« * » sans guillemets annonce un alias YAML" in error.render()
    error = one_error(GOOD.replace('"#": {message', '#: {message'))
    assert error.line == 11 and "« #: » sans guillemets est un commentaire en YAML" in error.render()


def test_root_must_be_a_mapping_with_start_and_nodes():
    assert "ensemble de clés" in one_error("- un\n- deux\n").render()
    found = [e.render() for e in errors_of("titre: x\n")]
    assert found == ["Ligne 1 — Clé obligatoire « nodes » absente.", "Ligne 1 — Clé obligatoire « start » absente.",
                     "Ligne 1 — Clé inconnue « titre » ; clés permises : nodes, start."]
    assert "au moins un nœud" in one_error("start: a\nnodes: {}\n").render()


def test_unknown_start_and_unknown_node_references():
    error = one_error(GOOD.replace("start: accueil", "start: bienvenue"))
    assert error.line == 1 and "« start » désigne le nœud « bienvenue » qui n'existe pas" in error.render()
    error = one_error(GOOD.replace("{menu: facturation}", "{menu: factures}"))
    assert error.place == {"node": "accueil", "key": "2"} and error.line == 7
    assert "« menu » mène au nœud « factures » qui n'existe pas ; nœuds : accueil, facturation." in error.render()
    error = one_error(GOOD.replace("then: accueil", "then: menu"))
    assert error.place == {"node": "accueil", "key": "3"} and "« then » mène au nœud « menu »" in error.render()


def test_unknown_and_duplicate_keys():
    error = one_error(GOOD.replace('"*": {repeat: true}', '"A": {repeat: true}'))
    assert error.place == {"node": "accueil"} and error.line == 9
    assert "touche « A » inconnue : les touches sont 0 à 9, « * » et « # »" in error.render()
    error = one_error(GOOD.replace('"*": {repeat: true}', '"2": {repeat: true}'))  # 2 and "2"
    assert error.line == 9 and "La clé « 2 » est écrite deux fois" in error.render()
    error = one_error(GOOD.replace('"*": {repeat: true}', '" 2": {repeat: true}'))
    assert error.line == 9 and "la touche 2 est définie deux fois" in error.render()
    assert "touche « 12 » inconnue" in one_error(GOOD.replace('"*": {repeat: true}', '12: {repeat: true}')).render()


def test_unknown_queue_names_the_known_ones():
    error = one_error(GOOD.replace("queue: depannage", "queue: urgences"))
    assert error.place == {"node": "accueil", "key": "1"} and error.line == 6
    assert error.render().endswith("file d'attente « urgences » inconnue ; files existantes : depannage, facturation, "
                                   "service-clients.")


def test_invalid_transfer_number():
    error = one_error(GOOD.replace('"01 40 00 00 00"', '"01 40"'))
    assert error.place == {"node": "accueil", "key": "0"}
    assert "numéro de transfert « 01 40 » invalide" in error.render()


def test_empty_prompt_and_message_and_too_long_prompt():
    error = one_error(GOOD.replace('prompt: "Payer : 1 ; retour : 9."', 'prompt: ""'))
    assert error.place == {"node": "facturation"} and "« prompt » ne doit pas être vide" in error.render()
    error = one_error(GOOD.replace('"Au revoir."', '"  "'))
    assert error.place == {"node": "accueil", "key": "#"} and "« message » ne doit pas être vide" in error.render()
    long = "x" * (ivr.MAX_PROMPT + 1)
    assert "1000 caractères au plus" in one_error(GOOD.replace('"Payer : 1 ; retour : 9."', long)).render()


def test_node_ids_and_the_reserved_hangup():
    error = one_error("start: Accueil\nnodes:\n  Accueil:\n    prompt: x\n"
                      "    options:\n      '1': {queue: depannage}\n")
    assert "identifiant de nœud « Accueil » invalide" in error.render()
    error = one_error("start: hangup\nnodes:\n  hangup:\n    prompt: x\n    options:\n      '1': {queue: depannage}\n")
    assert "« hangup » est réservé" in error.render()


def test_node_and_action_shapes():
    extra_key = GOOD.replace("  facturation:\n    prompt", "  facturation:\n    options2: {}\n    prompt")
    assert "clé inconnue « options2 »" in one_error(extra_key).render()
    not_an_action = GOOD.replace('      "9": {back: true}\n', '      "9": {back: true}\n      "5": oui\n')
    error = one_error(not_an_action)
    assert error.place == {"node": "facturation", "key": "5"} and "ensemble de clés" in error.render()
    variants = {
        '{queue: depannage, menu: facturation}': "une seule action par touche : menu, queue ne peuvent pas aller",
        '{}': "action manquante : écrivez menu, queue, message, transfer, repeat ou back",
        '{goto: facturation}': "clé inconnue « goto » ; une action s'écrit avec menu, queue",
        '{queue: depannage, then: accueil}': "« then » ne s'emploie qu'avec un message seul",
        '{repeat: false}': "« repeat » s'écrit « repeat: true »",
        '{back: true, message: "Retour."}': "« message » ne va pas avec « back »",
        '{queue: ""}': "« queue » ne doit pas être vide",
    }
    for action, message in variants.items():
        found = [e.render() for e in errors_of(GOOD.replace("{queue: depannage}", action))]
        assert any(message in text for text in found), (action, found)


def test_timeout_and_fallback_shapes():
    error = one_error(GOOD.replace("{seconds: 8, then: {repeat: true}}", "{seconds: 0, then: {repeat: true}}"))
    assert "« seconds » doit être un nombre entier de secondes entre 1 et 120" in error.render()
    assert error.render().startswith("Ligne 12 — Nœud « accueil », délai sans réponse (timeout) :")
    assert "clé obligatoire « then » absente" in one_error(GOOD.replace(", then: {repeat: true}}", "}")).render()
    error = one_error(GOOD.replace("fallback: {queue: service-clients, message: \"Un conseiller va vous répondre.\"}",
                                   "fallback: {repeat: true}"))
    assert "le choix par défaut ne peut pas être « repeat »" in error.render()


def test_unreachable_node_is_an_error():
    text = GOOD + "  oublie:\n    prompt: Jamais.\n    options:\n      '1': {queue: depannage}\n"
    error = one_error(text)
    assert error.place == {"node": "oublie"} and error.line == 20
    assert "ce nœud n'est jamais atteint depuis le nœud de départ « accueil »" in error.render()


def test_a_node_reached_only_by_the_fallback_is_reachable():
    text = GOOD.replace("fallback: {queue: service-clients, message: \"Un conseiller va vous répondre.\"}",
                        "fallback: {menu: aide}")
    text += "  aide:\n    prompt: Aide.\n    options:\n      '1': {queue: depannage}\n"
    assert ivr.parse_menu(text, QUEUES).has_node("aide")


def test_dead_end_without_back():
    text = GOOD.replace('      "9": {back: true}\n', "").replace(
        '      "1": {queue: facturation, message: "Nous vous mettons en relation."}\n', "")
    error = one_error(text)
    assert error.place == {"node": "facturation"} and error.line == 14
    assert "impasse : aucune touche ne mène à une file, à un transfert ou à un message de fin" in error.render()
    # the same node with a way back is fine: back leads to a node that has a way out
    assert ivr.parse_menu(text.replace('      "2": {message', '      "9": {back: true}\n      "2": {message'), QUEUES)


def test_dead_end_that_leads_only_to_dead_ends_names_them():
    text = ("start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '1': {queue: depannage}\n      '2': {menu: b}\n"
            "  b:\n    prompt: B\n    options:\n      '1': {menu: c}\n  c:\n    prompt: C\n    options:\n"
            "      '9': {back: true}\n")
    error = one_error(text)
    assert error.place == {"node": "b"}
    assert "impasse : les touches de ce nœud ne mènent qu'à « c », d'où aucune touche ne mène" in error.render()


def test_loop_without_exit_is_named_once():
    text = ("start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '1': {queue: depannage}\n      '2': {menu: b}\n"
            "  b:\n    prompt: B\n    options:\n      '1': {menu: c}\n  c:\n    prompt: C\n    options:\n"
            "      '1': {message: Encore, then: b}\n")
    error = one_error(text)
    assert error.place == {"node": "b"} and error.line == 8
    assert "boucle sans sortie : les nœuds b → c → b se renvoient l'appel" in error.render()
    assert "une touche « back » à « b », « c »" in error.render()


def test_a_menu_without_any_exit():
    error = one_error("start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '*': {repeat: true}\n"
                      "      '9': {back: true}\n")
    assert "aucune sortie : aucune touche du nœud de départ ne mène" in error.render()


def test_the_fallback_is_not_a_way_out_but_the_timeout_is():
    base = "start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '*': {repeat: true}\n"
    assert "aucune sortie" in one_error(base + "    fallback: {queue: depannage}\n").render()
    assert ivr.parse_menu(base + "    timeout: {seconds: 5, then: {queue: depannage}}\n", QUEUES)


def test_graph_checks_wait_until_references_are_fixed():
    # a wrong target would also make "accueil" look like a dead end: only the real mistake is said
    text = "start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '1': {menu: z}\n"
    assert len(errors_of(text)) == 1


def test_errors_come_in_the_order_of_the_text():
    text = GOOD.replace("queue: depannage", "queue: urgences").replace('"01 40 00 00 00"', '"12"').replace(
        'prompt: "Payer : 1 ; retour : 9."', 'prompt: ""')
    assert [e.line for e in errors_of(text)] == sorted(e.line for e in errors_of(text))
    assert len(errors_of(text)) == 3


def test_menus_file_shape_errors():
    with pytest.raises(ValidationError) as info:
        ivr.read_menus_file("menus:\n  - code: A B\n    name: x\n    content: 12\n")
    texts = [e.render() for e in info.value.errors.values()]
    assert any("code de menu « A B » invalide" in t for t in texts)
    assert any("« content » doit être le texte du menu" in t for t in texts)
    assert "« menus » doit être une liste" in ivr.file_problems("menus: 3\n")[0].render()


# --- navigation ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def menu():
    return ivr.parse_menu(GOOD, QUEUES)


def test_enter_says_the_start_prompt(menu):
    outcome = ivr.enter(menu)
    assert outcome == ivr.Outcome(End.PROMPT, (menu.node("accueil").prompt,), "accueil", (), 0)


def test_keys_lead_to_queues_menus_messages_transfers_and_hangups(menu):
    assert ivr.step(menu, "accueil", "1").end == End.QUEUE and ivr.step(menu, "accueil", "1").queue == "depannage"
    sub = ivr.step(menu, "accueil", "2")
    assert (sub.end, sub.node, sub.history, sub.said) == (End.PROMPT, "facturation", ("accueil",),
                                                          ("Payer : 1 ; retour : 9.",))
    info = ivr.step(menu, "accueil", "3")
    assert info.said == ("Du lundi au samedi, de 8 h à 20 h.", menu.node("accueil").prompt) and info.node == "accueil"
    assert ivr.step(menu, "accueil", "*").said == (menu.node("accueil").prompt,)
    transfer = ivr.step(menu, "accueil", "0")
    assert (transfer.end, transfer.number, transfer.reason, transfer.said) == (
        End.TRANSFER, "+33140000000", ivr.REASON_TRANSFER, (ivr.TRANSFERRING,))
    bye = ivr.step(menu, "accueil", "#")
    assert (bye.end, bye.reason, bye.said) == (End.HANGUP, ivr.REASON_MESSAGE, ("Au revoir.",))
    queue = ivr.step(menu, "facturation", "1", ("accueil",))
    assert (queue.end, queue.queue, queue.said) == (End.QUEUE, "facturation", ("Nous vous mettons en relation.",))
    stay = ivr.step(menu, "facturation", "2", ("accueil",))
    assert stay.node == "facturation" and stay.history == ("accueil",)  # a message without then: the same node


def test_back_returns_to_where_the_caller_came_from_and_repeats_at_the_start(menu):
    back = ivr.step(menu, "facturation", "9", ("accueil",))
    assert (back.node, back.history, back.said) == ("accueil", (), (menu.node("accueil").prompt,))
    one_node = ivr.parse_menu("start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '1': {queue: q}\n"
                              "      '9': {back: true}\n")
    assert ivr.step(one_node, "a", "9").node == "a"


def test_going_to_a_node_already_on_the_path_cuts_the_path_back():
    menu = ivr.parse_menu("start: a\nnodes:\n  a:\n    prompt: A\n    options:\n      '1': {menu: b}\n"
                          "      '2': {queue: q}\n  b:\n    prompt: B\n    options:\n      '1': {menu: c}\n"
                          "      '9': {back: true}\n  c:\n    prompt: C\n    options:\n      '0': {menu: a}\n"
                          "      '9': {back: true}\n")
    at_c = ivr.step(menu, "b", "1", ("a",))
    assert at_c.history == ("a", "b")
    home = ivr.step(menu, "c", "0", at_c.history)
    assert (home.node, home.history) == ("a", ())


def test_wrong_keys_then_the_fallback(menu):
    first = ivr.step(menu, "accueil", "5")
    assert (first.end, first.tries, first.invalid, first.said) == (
        End.PROMPT, 1, True, (ivr.INVALID_KEY, menu.node("accueil").prompt))
    second = ivr.step(menu, "accueil", "7", (), first.tries)
    assert second.tries == 2 and second.end == End.PROMPT
    third = ivr.step(menu, "accueil", "8", (), second.tries)
    assert (third.end, third.queue, third.said) == (End.QUEUE, "service-clients",
                                                     (ivr.INVALID_KEY, "Un conseiller va vous répondre."))
    # a valid key in between starts the count again
    assert ivr.step(menu, "accueil", "*", (), 2).tries == 0


def test_without_fallback_the_third_wrong_key_ends_the_call_politely(menu):
    outcome = ivr.step(menu, "facturation", "5", ("accueil",), ivr.MAX_TRIES - 1)
    assert (outcome.end, outcome.reason, outcome.said) == (End.HANGUP, ivr.REASON_HANGUP, (ivr.GOODBYE,))


def test_silence_runs_the_timeout_and_counts_as_a_try(menu):
    assert ivr.no_input(menu, "facturation", ("accueil",)) is None  # no timeout: keep waiting
    first = ivr.no_input(menu, "accueil")
    assert (first.end, first.tries, first.invalid, first.said) == (End.PROMPT, 1, False, (menu.node("accueil").prompt,))
    last = ivr.no_input(menu, "accueil", (), ivr.MAX_TRIES - 1)
    assert (last.end, last.queue) == (End.QUEUE, "service-clients")


def test_the_tree_expands_each_node_once(menu):
    root = ivr.tree(menu)
    assert root.node.id == "accueil"
    branches = {key: child for key, _action, child in root.branches}
    assert set(branches) == {"1", "2", "3", "*", "0", "#", "timeout", "fallback"}
    assert branches["2"].node.id == "facturation" and not branches["2"].repeated
    assert branches["3"] is None  # back to the same node: not a child


# --- properties on generated menus ------------------------------------------------------------------

NODE_IDS = ["n0", "n1", "n2", "n3", "n4"]


@st.composite
def actions(draw, nodes: list[str]) -> dict:
    kind = draw(st.sampled_from(["menu", "queue", "message", "message_hangup", "transfer", "repeat", "back"]))
    if kind == "menu":
        return {"menu": draw(st.sampled_from(nodes))}
    if kind == "queue":
        return {"queue": draw(st.sampled_from(sorted(QUEUES)))}
    if kind == "message":
        return {"message": "Info.", "then": draw(st.sampled_from(nodes))}
    if kind == "message_hangup":
        return {"message": "Au revoir.", "then": "hangup"}
    if kind == "transfer":
        return {"transfer": "+33140000000"}
    return {kind: True}


@st.composite
def menus(draw, repair: bool = False) -> str:
    """A menu of 1–5 nodes with random keys, timeouts and fallbacks (valid or not).

    ``repair`` makes it valid whatever was drawn: each node is linked from an
    earlier one, the start gets a queue, every other node a way out or back."""
    nodes = NODE_IDS[:draw(st.integers(1, len(NODE_IDS)))]
    body = {}
    for node in nodes:
        keys = draw(st.lists(st.sampled_from(ivr.KEYS), max_size=4, unique=True))
        data: dict = {"prompt": f"Annonce {node}.", "options": {key: draw(actions(nodes)) for key in keys}}
        if draw(st.booleans()):
            data["timeout"] = {"seconds": 5, "then": draw(actions(nodes))}
        if draw(st.booleans()):
            fallback = draw(actions(nodes))
            if "repeat" not in fallback:
                data["fallback"] = fallback
        body[node] = data
    if repair:
        body[nodes[0]]["options"]["1"] = {"queue": "depannage"}
        for index, node in enumerate(nodes[1:], 1):
            parent = nodes[draw(st.integers(0, index - 1))]
            free = [k for k in ivr.KEYS if k not in body[parent]["options"]]
            body[parent]["options"][draw(st.sampled_from(free))] = {"menu": node}
            way_out = draw(st.sampled_from([{"back": True}, {"queue": "facturation"}, {"transfer": "+33140000000"},
                                            {"message": "Au revoir.", "then": "hangup"}]))
            free = [k for k in ivr.KEYS if k not in body[node]["options"]]
            body[node]["options"][draw(st.sampled_from(free))] = way_out
    return yaml.safe_dump({"start": nodes[0], "nodes": body}, allow_unicode=True, sort_keys=False)


def _moves(menu: ivr.Menu, state) -> list[tuple[ivr.Outcome, bool]]:
    """Every next state: (outcome, deliberate) — deliberate for valid keys and silence, not wrong keys."""
    node, history, tries = state
    result = [(ivr.step(menu, node, key, history, tries), key in menu.node(node).keys) for key in ivr.KEYS]
    silence = ivr.no_input(menu, node, history, tries)
    if silence is not None:
        result.append((silence, menu.node(node).timeout.then.kind != Kind.REPEAT))
    return result


def _explore(menu: ivr.Menu):
    """Brute force: every (node, history, tries) a caller can be in, and from which ones valid keys lead out."""
    start = ivr.enter(menu)
    first = (start.node, start.history, start.tries)
    seen, todo, edges = {first}, deque([first]), {}
    while todo:
        state = todo.popleft()
        edges[state] = []
        for outcome, deliberate in _moves(menu, state):
            if outcome.end != End.PROMPT:
                edges[state].append(("out", deliberate))
                continue
            target = (outcome.node, outcome.history, outcome.tries)
            edges[state].append((target, deliberate))
            if target not in seen:
                seen.add(target)
                todo.append(target)
    # states from which a deliberate path (valid keys, silence) leads out
    leads = {s for s, out in edges.items() if ("out", True) in out}
    changed = True
    while changed:
        changed = False
        for state, out in edges.items():
            if state not in leads and any(deliberate and target in leads for target, deliberate in out):
                leads.add(state)
                changed = True
    return seen, leads


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(menus())
def test_validation_agrees_with_a_brute_force_walk(text):
    """Valid menu ⇒ from every state a caller can reach, valid keys lead out; and a menu with a
    reachable node that has no way out by its keys and no back is refused as a dead end or a loop."""
    found = ivr.problems(text, QUEUES)
    graph_errors = [e for e in found if any(word in e.message for word in ("impasse", "boucle", "aucune sortie"))]
    unreachable = [e for e in found if "jamais atteint" in e.message]
    assert not [e for e in found if e not in graph_errors and e not in unreachable], [e.render() for e in found]
    menu = ivr.Menu(*_unchecked(text))
    seen, leads = _explore(menu)
    if not found:
        assert seen <= leads, "a valid menu traps a caller"
    if seen - leads:  # some reachable state cannot get out: the validator must say so
        assert graph_errors
    reached_nodes = {node for node, _h, _t in seen}
    assert {e.place["node"] for e in unreachable} == {n.id for n in menu.nodes} - reached_nodes


@settings(max_examples=200, deadline=None)
@given(menus(repair=True), st.lists(st.sampled_from([*ivr.KEYS, "silence"]), max_size=30))
def test_every_key_sequence_ends_out_of_the_menu_or_where_valid_keys_lead_out(text, keys):
    menu = ivr.parse_menu(text, QUEUES)
    _seen, leads = _explore(menu)
    outcome = ivr.enter(menu)
    for key in keys:
        if key == "silence":
            outcome = ivr.no_input(menu, outcome.node, outcome.history, outcome.tries) or outcome
        else:
            outcome = ivr.step(menu, outcome.node, key, outcome.history, outcome.tries)
        if outcome.end != End.PROMPT:
            assert outcome.end in (End.QUEUE, End.TRANSFER, End.HANGUP)
            assert outcome.said or outcome.end == End.QUEUE, "a call that ends in the menu is told why"
            return
        assert menu.has_node(outcome.node) and outcome.said, "every step says something"
        assert len(outcome.history) == len(set(outcome.history)) < len(menu.nodes), "the path stays simple"
        assert outcome.node not in outcome.history
        assert (outcome.node, outcome.history, outcome.tries) in leads


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_generated_dead_ends_and_exitless_loops_are_caught(data):
    """Plant a trap: a valid trunk (start → queue) plus 1–3 nodes reached from it whose keys only
    go among themselves (menu, message, repeat), none of them with back."""
    trap = NODE_IDS[1:1 + data.draw(st.integers(1, 3))]
    body = {"n0": {"prompt": "Départ.", "options": {"1": {"queue": "depannage"}, "2": {"menu": trap[0]}}}}
    for node in trap:
        keys = data.draw(st.lists(st.sampled_from(ivr.KEYS), max_size=3, unique=True))
        options = {}
        for key in keys:
            kind = data.draw(st.sampled_from(["menu", "message", "repeat"]))
            options[key] = ({"menu": data.draw(st.sampled_from(trap))} if kind == "menu" else
                            {"message": "Info.", "then": data.draw(st.sampled_from(trap))} if kind == "message" else
                            {"repeat": True})
        body[node] = {"prompt": f"Piège {node}.", "options": options}
    text = yaml.safe_dump({"start": "n0", "nodes": body}, allow_unicode=True, sort_keys=False)
    seen, leads = _explore(ivr.Menu(*_unchecked(text)))
    assert seen - leads, "the planted trap is one (the walk finds a caller who cannot get out)"
    found = ivr.problems(text, QUEUES)
    reached = [e for e in found if "jamais atteint" not in e.message]
    assert reached and all(any(w in e.message for w in ("impasse", "boucle")) for e in reached), \
        [e.render() for e in found]
    assert all(e.place["node"] in trap for e in reached)


def _unchecked(text: str):
    """The menu as written, without the graph checks (the brute-force walk judges it on its own)."""
    loaded, _errors = load_yaml(text)
    return loaded["start"], ivr._Parser(QUEUES, "FR").nodes(loaded)
