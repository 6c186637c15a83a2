"""The simulated caller: every scenario played by a strong agent and a weak one (lines in
tests/data/scenarios/), the same call for the same seed, and each rule of the caller on its own:
questions and facts, reformulation, objections, holds, silences, patience, language."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from plateau.domain.errors import DomainError
from plateau.domain.persona import AGREED, ASKED_SUPERVISOR, HUNG_UP, REFUSED, Persona, play
from plateau.domain.persona_cues import (Cue, CueSyntaxError, Listener, compile_cue, language_of, match_cue, normalise,
                                         question_kind, read)
from plateau.services import scenarios as service

ROOT = Path(__file__).resolve().parents[2]
AGENTS = ROOT / "tests" / "data" / "scenarios"
AGENT_FILES = sorted(AGENTS.glob("*.yaml"))
FAILED = {REFUSED, HUNG_UP, ASKED_SUPERVISOR}


@pytest.fixture(scope="module")
def scenarios():
    return service.load_scenarios()


def agents(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def start(scenario, seed: int = 1, agent: str = "Julie Roche"):
    return Persona.start(scenario, seed, agent)


# --- every scenario, a strong agent and a weak one --------------------------------------------------


def test_every_scenario_has_its_strong_and_weak_agents(scenarios):
    assert {path.stem for path in AGENT_FILES} == set(scenarios)
    for path in AGENT_FILES:
        data = agents(path)
        assert data["scenario"] == path.stem
        assert data["strong"]["outcome"] == scenarios[path.stem].ideal.outcome
        assert data["weak"]["outcome"] in FAILED


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_the_strong_agent_reaches_the_ideal_outcome(scenarios, path):
    data = agents(path)
    scenario = scenarios[data["scenario"]]
    transcript = play(scenario, data["seed"], data["strong"]["lines"], data["agent"])
    state = transcript.state
    assert state.outcome == AGREED, "\n".join(transcript.lines())
    assert state.agreement_missing() == {}
    assert set(scenario.persona.agree_when.facts) <= set(state.discovered)
    assert set(state.objections_raised) == set(state.objections_answered)
    assert not state.irritants
    assert state.ended, "the strong agent takes leave (or transfers) and the caller says goodbye"
    assert state.ended_by == data["strong"].get("ended_by", "agent")
    assert transcript.duration <= scenario.time_target_s


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_the_weak_agent_fails(scenarios, path):
    data = agents(path)
    transcript = play(scenarios[data["scenario"]], data["seed"], data["weak"]["lines"], data["agent"])
    assert transcript.outcome == data["weak"]["outcome"], "\n".join(transcript.lines())
    assert transcript.state.agreement_missing()


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_a_silent_agent_loses_the_caller(scenarios, path):
    scenario = scenarios[path.stem]
    wait = scenario.persona.patience.silence_s
    transcript = play(scenario, 3, [{"silence": wait}, {"silence": wait}])
    assert transcript.outcome == HUNG_UP
    assert "silence" in transcript.state.irritants
    assert transcript.turns[-1]["speaker"] == "caller" and transcript.events[-1] == {
        "t": transcript.duration, "type": "hangup", "by": "caller"}


@pytest.mark.parametrize("path", AGENT_FILES, ids=lambda p: p.stem)
def test_the_same_seed_plays_the_same_call(scenarios, path):
    data = agents(path)
    scenario = scenarios[data["scenario"]]
    for run in ("strong", "weak"):
        first = play(scenario, data["seed"], data[run]["lines"], data["agent"])
        again = play(scenario, data["seed"], data[run]["lines"], data["agent"])
        assert first.turns == again.turns and first.events == again.events
        assert [entry.reply for entry in first.state.log] == [entry.reply for entry in again.state.log]


def test_another_seed_varies_the_wording_not_the_outcome(scenarios):
    changed = 0
    for path in AGENT_FILES:
        data = agents(path)
        scenario = scenarios[data["scenario"]]
        base = play(scenario, data["seed"], data["strong"]["lines"], data["agent"])
        other = play(scenario, data["seed"] + 1000, data["strong"]["lines"], data["agent"])
        assert other.outcome == base.outcome
        changed += base.turns != other.turns
    assert changed >= len(AGENT_FILES) // 2


def test_the_transcript_is_a_call_for_the_evaluator(scenarios):
    data = agents(AGENTS / "prospection-rdv-photovoltaique.yaml")
    call = play(scenarios[data["scenario"]], data["seed"], data["strong"]["lines"], data["agent"]).as_call()
    assert call["direction"] == "outbound" and call["scenario"] == "prospection-rdv-photovoltaique"
    assert call["company"] == {"name": "Énergie Horizon"} and call["agent"] == {"name": "Mehdi El Idrissi"}
    assert call["turns"][0] == {"t": 0.0, "speaker": "caller", "text": call["turns"][0]["text"]}
    assert all(set(turn) == {"t", "speaker", "text"} for turn in call["turns"])
    times = [turn["t"] for turn in call["turns"]]
    assert times == sorted(times)
    appointment = next(event for event in call["events"] if event["type"] == "appointment")
    assert appointment["with"] == "Claire Dumont" and appointment["t"] > 0
    assert call["events"][-1]["type"] == "hangup" and call["events"][-1]["by"] == "agent"


# --- what the caller does, rule by rule ---------------------------------------------------------------


def test_closed_questions_get_short_answers_open_ones_full_answers(scenarios):
    scenario = scenarios["reclamation-facture-colere"]
    fact = scenario.persona.fact("prelevement")
    closed = start(scenario)
    closed.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    reply = closed.on_agent_turn("Le prélèvement est-il déjà passé ?", 10)
    assert fact.short in reply.text and fact.answer not in reply.text
    assert closed.log[-1].questions == ("closed",) and closed.log[-1].revealed == ("prelevement",)
    opened = start(scenario)
    opened.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    reply = opened.on_agent_turn("Quand le prélèvement est-il prévu ?", 10)
    assert fact.answer in reply.text and opened.log[-1].questions == ("open",)


def test_open_facts_only_come_out_on_open_questions(scenarios):
    state = start(scenarios["recouvrement-echeancier"])
    state.on_agent_turn("Bonjour, Julie, d'Énergie Horizon. Je vous appelle au sujet de votre facture de mars.", 0)
    state.on_agent_turn("Je comprends, et votre électricité ne sera pas coupée : nous allons trouver une solution "
                        "ensemble.", 10)
    state.on_agent_turn("Vous avez des difficultés en ce moment ?", 20)
    assert "situation" not in state.discovered
    reply = state.on_agent_turn("Qu'est-ce qui se passe pour vous en ce moment ?", 30)
    assert "situation" in state.discovered and "emploi" in reply.text


def test_a_question_asked_twice_annoys(scenarios):
    state = start(scenarios["reclamation-facture-colere"])
    state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    state.on_agent_turn("Quand le prélèvement est-il prévu ?", 5)
    reply = state.on_agent_turn("Et le prélèvement, c'est quand ?", 10)
    assert reply.kinds[-1] == "repeat_fact" and state.log[-1].repeated == ("prelevement",)
    assert not state.irritants
    state.on_agent_turn("Le prélèvement a lieu quand, déjà ?", 15)
    assert state.irritants == ["repeat"]


def test_a_faithful_reformulation_is_confirmed_a_wrong_one_corrected(scenarios):
    scenario = scenarios["assistance-coupure-disjoncteur"]
    state = start(scenario)
    state.on_agent_turn("Énergie Horizon, assistance dépannage, Julie à votre écoute, bonjour !", 0)
    state.on_agent_turn("Est-ce que tout le logement est coupé, ou seulement certaines pièces ?", 5)
    before = state.mood
    reply = state.on_agent_turn("Si je comprends bien, seuls la cuisine et le salon sont coupés, c'est bien ça ?", 10)
    assert reply.kinds == ("confirm",) and "pieces" in state.reformulated and state.mood > before
    wrong = start(scenario)
    wrong.on_agent_turn("Énergie Horizon, assistance dépannage, Julie à votre écoute, bonjour !", 0)
    reply = wrong.on_agent_turn("Si je comprends bien, vos voisins aussi sont coupés ?", 5)
    assert reply.kinds == ("correct",) and not wrong.reformulated


def test_objections_come_at_their_moment_and_hold_until_answered(scenarios):
    state = start(scenarios["vente-emmenagement-thermostat"])
    state.on_agent_turn("Énergie Horizon, Thomas à votre écoute, bonjour !", 0)
    state.on_agent_turn("Comment la maison est-elle chauffée ?", 5)
    state.on_agent_turn("Qu'est-ce qui est le plus important pour vous ?", 10)
    assert state.objections_raised == ()
    reply = state.on_agent_turn("Je vous propose Horizon Fixe 3 ans : le prix est bloqué pendant trois ans.", 15)
    assert state.objections_raised == ("baisse",) and reply.kinds[-1] == "objection:baisse"
    reply = state.on_agent_turn("C'est une très bonne offre, je vous assure.", 20)
    assert reply.kinds == ("unsatisfied:baisse",) and state.pending == "baisse"
    reply = state.on_agent_turn("Si les prix baissent, vous pouvez résilier sans frais à tout moment.", 25)
    assert state.objections_answered == ("baisse",) and reply.kinds[0] == "satisfied:baisse"
    assert state.log[-1].answered == ("baisse",)


def test_an_objection_needs_its_cues_and_is_ignored_at_a_cost(scenarios):
    state = start(scenarios["reclamation-facture-colere"])
    state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    assert state.pending == "troisieme-appel"
    state.on_agent_turn("D'accord.", 5)
    assert state.irritants == []
    state.on_agent_turn("Bien.", 10)
    assert state.irritants == ["objection_ignored"]


def test_steps_are_followed_one_at_a_time_in_order(scenarios):
    state = start(scenarios["assistance-coupure-disjoncteur"])
    state.on_agent_turn("Énergie Horizon, assistance dépannage, Julie à votre écoute, bonjour !", 0)
    reply = state.on_agent_turn("Remontez le disjoncteur.", 5)
    assert state.steps_done == () and reply.kinds == ("early:remonter",)
    for question in ("Quelles pièces sont coupées ?", "Vos voisins ont-ils du courant ?"):
        state.on_agent_turn(question, 10)
    state.on_agent_turn("Allez devant le tableau électrique, puis remontez le disjoncteur.", 20)
    assert state.steps_done == ("tableau",)


def test_announced_short_hold_is_fine_unannounced_or_long_irritates(scenarios):
    scenario = scenarios["information-option-verte"]
    greeting = "Énergie Horizon, Julie à votre écoute, bonjour !"
    calm = start(scenario)
    calm.on_agent_turn(greeting, 0)
    calm.on_agent_turn("Je vais vérifier votre contrat, je vous mets en attente quelques instants.", 5)
    assert calm.on_event("hold", 10) is None and calm.on_silence(30) is None
    assert calm.on_event("resume", 40) is None and calm.irritants == []
    before = calm.mood
    calm.on_agent_turn("Merci de votre patience, Madame.", 41)
    assert calm.mood > before
    rude = start(scenario)
    rude.on_agent_turn(greeting, 0)
    rude.on_event("hold", 5)
    reply = rude.on_event("resume", 20)
    assert reply.kinds == ("hold_unannounced",) and rude.irritants == ["hold_unannounced"]
    long = start(scenario)
    long.on_agent_turn(greeting, 0)
    long.on_agent_turn("Ne quittez pas.", 5)
    long.on_event("hold", 8)
    reply = long.on_event("resume", 8 + scenario.persona.patience.hold_s + 1)
    assert reply.kinds == ("hold_long",)
    forgotten = start(scenario)
    forgotten.on_agent_turn(greeting, 0)
    forgotten.on_event({"type": "hold"}, 5)
    reply = forgotten.on_silence(2 * scenario.persona.patience.hold_s + 1)
    assert forgotten.outcome == HUNG_UP and reply.text == "" and reply.ended


def test_silence_first_worries_then_ends_the_call(scenarios):
    scenario = scenarios["information-option-verte"]
    state = start(scenario)
    state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    assert state.on_silence(scenario.persona.patience.silence_s - 1) is None
    reply = state.on_silence(2)
    assert reply.kinds[-1] == "silence" and "Allô" in reply.text and not reply.ended
    state.on_agent_turn("Pardon, je suis là.", 30)
    assert state.on_silence(scenario.persona.patience.silence_s) is not None
    reply = state.on_silence(scenario.persona.patience.silence_s)
    assert reply.ended and state.outcome == HUNG_UP and state.irritants == ["silence", "silence"]


def test_rudeness_banned_words_and_tutoiement(scenarios):
    collection = scenarios["recouvrement-echeancier"]
    state = start(collection)
    state.on_agent_turn("Bonjour, Julie, d'Énergie Horizon. Je vous appelle au sujet de votre facture.", 0)
    reply = state.on_agent_turn("Votre facture est impayée depuis trois semaines.", 5)
    assert state.irritants == ["banned_word"] and reply.kinds[0] == "banned"
    assert state.log[-1].cues[-1] == Cue("banned_word", "impayé")
    reply = state.on_agent_turn("C'est votre faute, débrouillez-vous.", 10)
    assert state.outcome == HUNG_UP and reply.ended, "this caller hangs up on rudeness"
    with pytest.raises(DomainError):
        state.on_agent_turn("Allô ?", 15)
    formal = start(collection)
    formal.on_agent_turn("Salut, t'as payé ta facture ?", 0)
    assert "tutoiement" in formal.irritants
    familiar = start(scenarios["assistance-coupure-disjoncteur"])
    familiar.on_agent_turn("Salut, t'as plus de courant ?", 0)
    assert "tutoiement" not in familiar.irritants


def test_when_patience_runs_out_the_angry_caller_asks_for_a_supervisor(scenarios):
    state = start(scenarios["reclamation-facture-colere"])
    state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    for n, line in enumerate(["Alors, normalement c'est bon.", "Il n'y a pas de problème.", "Normalement, ça ira."]):
        reply = state.on_agent_turn(line, 5 + n)
        if reply.ended:
            break
    assert state.outcome == ASKED_SUPERVISOR and reply.kinds[-1] == "supervisor"


def test_empathy_calms_an_angry_caller(scenarios):
    state = start(scenarios["reclamation-facture-colere"])
    state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    before = state.mood
    reply = state.on_agent_turn("Je suis vraiment désolée, je comprends votre colère, je m'en occupe personnellement.", 5)
    assert state.mood >= before + 2 and "calmer" in reply.kinds and state.mood_label in ("neutre", "agacé")
    assert [cue.kind for cue in state.log[-1].cues] == ["empathy"]


def test_a_call_that_drags_on_hurries_the_caller_once(scenarios):
    scenario = scenarios["prospection-rdv-photovoltaique"]
    state = start(scenario)
    state.on_agent_turn("Bonjour, Julie d'Énergie Horizon. Je vous appelle au sujet de votre électricité.", 0)
    limit = scenario.persona.patience.call_s
    assert "hurry" not in state.on_agent_turn("Vous êtes bien la gérante ?", limit - 1).kinds
    reply = state.on_agent_turn("Et vous êtes propriétaire ?", limit + 1)
    assert reply.kinds[-1] == "hurry" and state.irritants.count("too_long") == 1
    state.on_agent_turn("Quelle est la surface du toit ?", limit + 30)
    assert state.irritants.count("too_long") == 1


def test_premature_proposals_end_in_a_refusal(scenarios):
    scenario = scenarios["vente-emmenagement-thermostat"]
    state = start(scenario)
    state.on_agent_turn("Énergie Horizon, Thomas à votre écoute, bonjour !", 0)
    for n in range(scenario.persona.refuse_after):
        reply = state.on_agent_turn("Je vous propose notre offre Horizon Essentiel.", 5 * (n + 1))
    assert state.outcome == REFUSED and reply.kinds[-1] == "refuse" and state.proposals_rejected == 3


def test_taking_leave_without_agreement_is_a_refusal_and_after_it_a_goodbye(scenarios):
    state = start(scenarios["information-option-verte"])
    state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    reply = state.on_agent_turn("Bon, regardez sur le site. Au revoir.", 5)
    assert state.outcome == REFUSED and reply.ended and state.ended_by == REFUSED


def test_a_transfer_ends_the_call_agreed_only_when_announced_and_accepted(scenarios):
    scenario = scenarios["transfert-difficulte-paiement"]
    cold = start(scenario)
    cold.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    reply = cold.on_event({"type": "transfer", "queue": "facturation"}, 5)
    assert cold.outcome == REFUSED and reply.kinds == ("transfer_cold",) and cold.irritants == ["transfer_cold"]


def test_the_english_caller_needs_english(scenarios):
    state = start(scenarios["anglais-emmenagement"])
    reply = state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    assert reply.kinds == ("wrong_language",) and reply.language == "en" and not state.irritants
    reply = state.on_agent_turn("Hello, my name is Julie, how can I help you?", 5)
    assert reply.kinds[0] == "opening" and "electricity" in reply.text
    state.on_agent_turn("Quelle est votre adresse ?", 10)
    assert state.irritants == ["wrong_language"]


def test_the_caller_who_prefers_arabic_asks_for_it_and_a_salam_answers(scenarios):
    state = start(scenarios["arabophone-mensualisation"])
    reply = state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    assert state.pending == "langue" and "arabe" in reply.text
    reply = state.on_agent_turn("Wa alaykoum salam, Madame.", 5)
    assert state.objections_answered == ("langue",) and reply.kinds == ("satisfied:langue",)
    assert "arabic" in state.log[-1].cue_kinds


def test_an_outbound_callee_picks_up_and_wants_to_know_who_calls_and_why(scenarios):
    state = start(scenarios["enquete-satisfaction-hiver"])
    assert state.first_words is not None and state.first_words.kinds == ("pickup",)
    reply = state.on_agent_turn("Bonjour, c'est pour une petite question.", 0)
    assert reply.kinds == ("who", "what_about")
    reply = state.on_agent_turn("Êtes-vous satisfaite ?", 5)
    assert reply.kinds == ("what_about",) and "satisfaction" not in state.discovered


def test_the_log_explains_each_turn(scenarios):
    data = agents(AGENTS / "reclamation-facture-colere.yaml")
    transcript = play(scenarios[data["scenario"]], data["seed"], data["strong"]["lines"], data["agent"])
    turns = [entry for entry in transcript.state.log if entry.source == "agent"]
    assert len(turns) == sum(1 for line in data["strong"]["lines"] if isinstance(line, str))
    first = turns[0]
    assert first.cue_kinds == ("greeting", "company", "agent_name") and first.raised == ("troisieme-appel",)
    assert {cue.words for cue in first.cues} >= {"bonjour", "energie horizon"}
    assert any(entry.reformulated == ("montant",) for entry in turns)
    assert turns[-2].mood_after >= turns[0].mood_before
    events = [entry for entry in transcript.state.log if entry.source == "event"]
    assert [entry.text for entry in events] == ["complaint_forwarded", "crm_update", "disposition"]


# --- the French language rules ------------------------------------------------------------------------


@pytest.mark.parametrize("text, kind", [
    ("Que puis-je faire pour vous ?", "open"),
    ("Pouvez-vous m'expliquer ce qui s'est passé ?", "open"),
    ("Racontez-moi.", "open"),
    ("Quel est votre numéro client", "open"),
    ("Avez-vous reçu notre courrier ?", "closed"),
    ("Est-ce que le compteur affiche un message ?", "closed"),
    ("Préférez-vous mardi ou jeudi ?", "alternative"),
    ("Êtes-vous propriétaire ou locataire ?", "alternative"),
    ("Vous êtes d'accord ou pas ?", "closed"),
    ("Vous habitez où ?", "closed"),
    ("Je vous rappelle demain.", None),
    ("Have a nice day, goodbye!", None),
    ("What is most important for you?", "open"),
    ("Do you have the PDL number?", "closed"),
])
def test_question_types(text, kind):
    assert question_kind(text, normalise(text)) == kind


def test_cues_are_heard_with_their_words():
    listener = Listener(company=("Énergie Horizon", "Horizon"), agent="Julie Roche", contact=("Lemoine",),
                        banned=("problème", "impayé"))
    reading = read("Énergie Horizon, Julie à votre écoute, bonjour ! Vous êtes bien Monsieur Lemoine ?", listener)
    assert reading.kinds == ("greeting", "company", "agent_name", "identification", "closed_question")
    assert reading.words("agent_name") == "julie"
    reading = read("Si j'ai bien compris, vous n'avez plus de chauffage. Je suis désolée, je m'en occupe.", listener)
    assert {"reformulation", "empathy"} <= set(reading.kinds)
    assert read("Pas de problèmes, c'est une facture impayée.", listener).words("banned_word") == "problème"
    assert read("Je vous mets en attente quelques instants.", listener).has("hold_announce")
    assert read("Je vais vous mettre en relation avec le service facturation.", listener).has("transfer_announce")
    assert read("Je récapitule : rendez-vous mardi.", listener).has("recap")
    assert read("Merci de votre appel, bonne journée, au revoir !", listener).has("leave_taking")
    assert read("Calmez-vous !", listener).has("rudeness")


def test_languages():
    assert language_of("Hello, how can I help you?", normalise("Hello, how can I help you?")) == "en"
    assert language_of("Bonjour, que puis-je pour vous ?", normalise("Bonjour, que puis-je pour vous ?")) == "fr"
    assert language_of("مرحبا", normalise("مرحبا")) == "ar"
    assert language_of("Salam alaykoum, ça va ?", normalise("Salam alaykoum, ça va ?")) == "ar"


def test_the_cue_notation():
    assert match_cue("disjoncteur + baiss*|abaiss*", normalise("Abaissez le disjoncteur")) == "disjoncteur … abaissez"
    assert match_cue("disjoncteur + baiss*|abaiss*", normalise("Le disjoncteur")) is None
    assert match_cue("point de livraison", normalise("le point  de livraison")) == "point de livraison"
    assert match_cue("factur*", normalise("vos factures")) == "factures"
    assert match_cue("mois", normalise("mensuel")) is None
    for wrong in ("", "a +", "a|", "5 %", "x + + y"):
        with pytest.raises(CueSyntaxError):
            compile_cue(wrong)


# --- the optional language model: a real HTTP server on a free port ------------------------------------


@pytest.fixture
def fake_llm():
    """An OpenAI-compatible chat-completions server: records each request, answers what ``answer`` says."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[dict] = []
    answer = {"status": 200, "text": "Écoutez, 480 euros, c'est quatre fois ce que je paie d'habitude !"}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seen.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            payload = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant",
                                                                       "content": answer["text"]}}]}).encode()
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen, answer
    server.shutdown()
    server.server_close()


def test_the_language_model_is_off_by_default(scenarios, monkeypatch):
    from plateau.services.llm import rephrase, settings_from_env

    monkeypatch.delenv("PLATEAU_LLM_URL", raising=False)
    assert settings_from_env() is None and settings_from_env({"PLATEAU_LLM_URL": " "}) is None
    state = start(scenarios["reclamation-facture-colere"])
    reply = state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    assert rephrase(reply, scenarios["reclamation-facture-colere"]) is reply


def test_the_language_model_only_rephrases_the_chosen_reply(scenarios, fake_llm):
    from plateau.services.llm import rephrase, settings_from_env

    url, seen, answer = fake_llm
    settings = settings_from_env({"PLATEAU_LLM_URL": url, "PLATEAU_LLM_MODEL": "petit-modele",
                                  "PLATEAU_LLM_KEY": "secret"})
    scenario = scenarios["reclamation-facture-colere"]
    state = start(scenario)
    reply = state.on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    history = [{"t": 0, "speaker": "agent", "text": "Énergie Horizon, Julie à votre écoute, bonjour !"}]
    new = rephrase(reply, scenario, history, seed=7, settings=settings)
    assert new.text == answer["text"] and new.kinds == reply.kinds and new.outcome == reply.outcome
    [request] = seen
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer secret"
    body = request["body"]
    assert body["model"] == "petit-modele" and body["seed"] == 7
    assert body["messages"][0]["role"] == "system" and "Gérard Lemoine" in body["messages"][0]["content"]
    assert body["messages"][1] == {"role": "user", "content": history[0]["text"]}
    assert reply.text in body["messages"][-1]["content"]
    answer["text"] = "x" * 2000
    assert rephrase(reply, scenario, settings=settings) == reply, "a runaway answer is not a rephrasing"
    answer["status"] = 500
    assert rephrase(reply, scenario, settings=settings) == reply, "an error keeps the engine's words"


def test_an_unreachable_model_keeps_the_engine_words(scenarios):
    import socket

    from plateau.services.llm import LlmSettings, rephrase

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    scenario = scenarios["information-option-verte"]
    reply = start(scenario).on_agent_turn("Énergie Horizon, Julie à votre écoute, bonjour !", 0)
    settings = LlmSettings(url=f"http://127.0.0.1:{port}", model="m", timeout_s=0.5)
    assert rephrase(reply, scenario, settings=settings) == reply


def test_play_with_the_language_model_changes_words_not_the_call(scenarios, fake_llm, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from plateau.commands.scenarios import app as scenarios_cli

    url, seen, answer = fake_llm
    answer["text"] = "Oui, allez-y."
    monkeypatch.setenv("PLATEAU_LLM_URL", url)
    lines = tmp_path / "agent.txt"
    lines.write_text("Énergie Horizon, Julie à votre écoute, bonjour !\nAu revoir.\n", encoding="utf-8")
    result = CliRunner().invoke(scenarios_cli, ["play", "information-option-verte", "--script", str(lines), "--llm"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("Correspondant : Oui, allez-y.") == 2 and len(seen) == 2
    assert "Issue : refus" in result.stdout
    monkeypatch.delenv("PLATEAU_LLM_URL")
    result = CliRunner().invoke(scenarios_cli, ["play", "information-option-verte", "--script", str(lines), "--llm"])
    assert result.exit_code == 1 and "PLATEAU_LLM_URL" in result.stderr
