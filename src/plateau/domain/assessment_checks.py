"""The evaluator's checks: explicit, explainable rules on what was said and done during a call.

Each check reads a ``CallView`` (``domain.assessment_view``: the call, cut
into sentences and normalised once) and answers ``met``, ``not_met`` or ``not_assessable`` with the
evidence (turns quoted exactly, events, timings) and a one-line French
rationale (a msgid and its parameters, translated at the edge). Criteria are
judged by one or more checks (``data/assessment/mappings.yaml``); the same
check serves every framework that has a criterion like it.

The rules are those a trainer applies when listening to a call, written
down so that anyone can see why a result came out (``docs/assessment.md``
describes each one):

- what is said is spotted with the expressions of ``cues.yaml``, the
  caller's own words taken up, questions and their kinds (see the view);
- a call that never got going (the caller hung up in the first exchanges,
  the person wanted was absent) leaves the criteria about the conversation
  *not assessable*, not failed: the agent had no chance to show them.

Nothing here reads a clock, a file or a random source: the same call and
settings always give the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from .assessment_call import AGENT, CALLER, CallEvent, Turn, duration_of, speaking_time
from .assessment_language import is_question, normalise
from .assessment_results import MET, NOT_ASSESSABLE, NOT_MET, RESULTS, CheckResult, Evidence, number_text
from .assessment_view import CallView, Found
from .errors import N_
from .persona_cues import language_of


def _result(check: str, result: str, evidence: Iterable[Evidence], message: str, **params) -> CheckResult:
    unique: list[Evidence] = []
    for item in evidence:
        if item not in unique:
            unique.append(item)
    return CheckResult(check, result, tuple(unique[:8]), message, params)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


_NO_CONVERSATION = N_("L'échange s'est arrêté avant la découverte (%(caller)s réplique(s) de l'appelé) : critère non "
                      "observable.")
_TARGET_ABSENT = N_("La personne demandée n'a pas été jointe (« %(quote)s ») : critère non observable.")


def _unobservable(view: CallView, check: str) -> CheckResult | None:
    """not_assessable when the conversation never got going, else None."""
    absent = view.target_absent
    if absent is not None:
        return _result(check, NOT_ASSESSABLE, [view.quote(absent)], _TARGET_ABSENT, quote=_short(absent.text))
    if not _engaged(view):
        return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
    return None


# --- how the checks read the conversation, beyond the view ----------------------------------------------------------


def _engaged(view: CallView) -> bool:
    """The conversation got going: the caller has spoken ``min_caller_turns`` times, or, on an inbound
    call, stated their request at once (a first turn of ``substantive_answer_words`` words or more).

    An inbound caller explains why they call before the agent asks anything (« votre facture, là,
    480 euros… »): an agent who then leaves them without a reformulation, a question or a proposal
    until they ask for a supervisor had every chance to show them, so those criteria are not met,
    not « non observable »."""
    if view.engaged:
        return True
    return view.call.direction == "inbound" and bool(view.caller) and view.substantive(view.caller[0])


def _conversation(view: CallView) -> bool:
    return _engaged(view) and view.target_absent is None


def _caller_introduced(view: CallView) -> list[set[str]]:
    """Per turn, the content words (stems) the caller had brought into the call before it: said by
    the caller before the agent ever said them (a name, a date, a figure, a need…)."""
    def compute() -> list[set[str]]:
        agent_said: set[str] = set()
        introduced: set[str] = set()
        before = []
        for turn in view.turns:
            before.append(set(introduced))
            stems = view.stems(view.whole[turn.index])
            if turn.speaker == AGENT:
                agent_said |= stems
            else:
                introduced |= stems - agent_said
        return before
    return view._memoised(("#caller_introduced",), compute)


def _is_echo_question(view: CallView, turn: Turn, number: int) -> bool:
    """« Vous voulez l'option verte ? » after « j'ai vu une Option Verte, j'aimerais comprendre… »: a
    closed question made only of a few of the caller's words gives back the topic, not the message;
    it is no reformulation (unless said as one: « si je comprends bien… », « …, c'est bien ça ? »)."""
    raw, norm = view.sentences[turn.index][number], view.normalised[turn.index][number]
    if not is_question(raw) or view.cue("reformulation").search(norm) or view.cue("feedback").search(norm):
        return False
    caller_turn = view.previous(turn)
    if caller_turn is None or caller_turn.speaker != CALLER:
        return False
    own = view.stems(norm)
    return own <= view.shared(norm, caller_turn) and len(own) <= view.p.reformulation_shared_words


def _restates_information(view: CallView, turn: Turn, number: int) -> bool:
    """« Je récapitule : Patrick Nguyen, responsable administratif, deux dépôts… »: a recap that gives
    back what the caller told earlier in the call (``reformulation_shared_words`` of the words they
    brought in) reformulates the information obtained, even long after the answers."""
    norm = view.normalised[turn.index][number]
    if turn.speaker != AGENT or not view.cue("recap").search(norm):
        return False
    return len(view.stems(norm) & _caller_introduced(view)[turn.index]) >= view.p.reformulation_shared_words


def _reformulations(view: CallView) -> list[Found]:
    """The agent's reformulations, one per turn: those of the view (a set phrase, or two of the
    caller's new words) but not a bare echo question, and the recaps of the information obtained."""
    def compute() -> list[Found]:
        found = []
        for turn in view.agent:
            for number, raw in enumerate(view.sentences[turn.index]):
                if (view.reformulation_in(turn, number) and not _is_echo_question(view, turn, number)) \
                        or _restates_information(view, turn, number):
                    found.append(Found(turn, number, raw, ""))
                    break
        return found
    return view._memoised(("#reformulations",), compute)


def _echoes_agreement(view: CallView, turn: Turn) -> bool:
    """« Bon. Si c'est gratuit, sans engagement…, pourquoi pas. », « Envoyez-moi l'offre, et
    rappelez-moi début juin » (after « je vous propose de vous envoyer l'offre et de vous rappeler
    début juin »): the caller takes up the agent's own words to accept them. The objection
    expressions in it (« engagement », « envoyez-moi ») repeat what the agent just said, and the
    caller agrees (or picks the time offered): no reservation to explore or answer."""
    previous = view.previous(turn, AGENT)
    if previous is None or view.find("refusal", turn):
        return False
    said = view.stems(view.whole[previous.index])
    found = view.cue("objection").findall(view.whole[turn.index])
    words = [view.stems(f" {match} ") for match in found]
    if not found or any(not stems or not stems <= said for stems in words):
        return False
    chose = view.is_proposal_turn(previous) is not None and view.mentions_time(view.whole[turn.index])
    return bool(view.find("agreement", turn)) or chose


def _reservations(view: CallView, objections_only: bool = False) -> list[Found]:
    """The caller's reservations (``CallView.reservations``), less the agent's words taken up to accept."""
    return [hit for hit in view.reservations(objections_only)
            if not (hit.match in view.cue("objection").findall(view.whole[hit.turn.index])
                    and _echoes_agreement(view, hit.turn))]


def _proposals(view: CallView) -> list[Found]:
    """The agent's proposals (``CallView.proposals``), read with what was recorded:

    - a reformulation that names a date (« …votre contrat se termine fin juin, c'est bien ça ? ») is
      not a choice of slots, even once a callback is booked;
    - with a sale recorded, « je vous propose Horizon Fixe 3 ans » proposes the product sold: the
      offer needs no action word (« rendez-vous », « rappel »…)."""
    def compute() -> list[Found]:
        found = [hit for hit in view.proposals()
                 if view.is_proposal_turn(hit.turn) or not view.reformulation_in(hit.turn, hit.sentence)]
        if view.call.events_of("sale"):
            taken = {hit.turn.index for hit in found}
            found += [hit for turn in view.agent if turn.index not in taken and (hit := view.find("proposal", turn))]
            found.sort(key=lambda hit: hit.turn.index)
        return found
    return view._memoised(("#proposals",), compute)


# --- the opening ------------------------------------------------------------------------------------------------


def _name_tokens(name: str) -> set[str]:
    return {word for word in normalise(name).split() if len(word) >= 3}


def presentation(view: CallView) -> CheckResult:
    """The agent says who they are and for which company, early, briefly and without stumbling."""
    check = "presentation"
    opening = view.agent[: view.p.presentation_agent_turns]
    if not opening:
        return _result(check, NOT_ASSESSABLE, [], N_("L'agent ne parle pas : pas de présentation à juger."))
    company = normalise(view.call.company).strip()
    names = _name_tokens(view.call.agent)
    before = 0
    has_name = has_company = False
    evidence: list[Evidence] = []
    fillers = 0
    for turn in opening:
        tokens = view.whole[turn.index].split()
        text = view.whole[turn.index]
        fillers += len(view.cue("fillers").regex.findall(text)) if view.cue("fillers").regex else 0
        name_at = min((i for i, w in enumerate(tokens) if w in names), default=None)
        intro = view.find("self_intro", turn)
        company_at = _phrase_at(tokens, company.split())
        if name_at is None and intro is not None:
            name_at = _phrase_at(tokens, intro.match.split()) or 0
        has_name = has_name or name_at is not None
        has_company = has_company or company_at is not None
        evidence.append(view.quote_turn(turn, "presentation"))
        if has_name and has_company:
            reached = max(i for i in (name_at, company_at) if i is not None) + len(company.split())
            before += reached
            break
        before += len(tokens)
    if not has_name and not has_company:
        return _result(check, NOT_MET, evidence, N_("Ne se présente pas : ni son nom ni celui de l'entreprise dans "
                                                     "ses premières répliques."))
    if not has_name:
        return _result(check, NOT_MET, evidence, N_("Ne donne pas son nom en début d'appel."))
    if not has_company:
        return _result(check, NOT_MET, evidence, N_("Ne nomme pas l'entreprise « %(company)s » en début d'appel."),
                       company=view.call.company)
    if before > view.p.presentation_max_words:
        return _result(check, NOT_MET, evidence, N_("Présentation peu précise : son nom et l'entreprise n'arrivent "
                                                    "qu'après %(words)s mots (%(max)s au plus)."),
                       words=before, max=view.p.presentation_max_words)
    if fillers > view.p.presentation_max_fillers:
        return _result(check, NOT_MET, evidence, N_("Présentation hésitante : %(count)s hésitations (« euh », « ben »…) "
                                                    "en se présentant."), count=fillers)
    return _result(check, MET, evidence, N_("Se présente d'emblée, nom et entreprise (« %(company)s ») en %(words)s "
                                            "mots."), company=view.call.company, words=before)


def _phrase_at(tokens: list[str], phrase: list[str]) -> int | None:
    if not phrase:
        return None
    size = len(phrase)
    for index in range(len(tokens) - size + 1):
        if tokens[index:index + size] == phrase:
            return index
    return None


def purpose_consent(view: CallView) -> CheckResult:
    """The agent says why they call and asks whether the caller agrees to go on."""
    check = "purpose_consent"
    absent = view.target_absent
    if absent is not None:
        return _result(check, NOT_ASSESSABLE, [view.quote(absent)], _TARGET_ABSENT, quote=_short(absent.text))
    opening = view.agent[: view.p.opening_agent_turns]
    purpose = next((hit for turn in opening if (hit := view.find("purpose", turn))), None)
    consent = next((hit for turn in opening if (hit := view.find("consent", turn, questions_only=True))), None)
    evidence = [view.quote(hit, what) for hit, what in ((purpose, "purpose"), (consent, "consent")) if hit]
    if purpose and consent:
        return _result(check, MET, evidence, N_("Annonce le motif de l'appel et demande l'accord de l'appelé pour "
                                                "poursuivre (« %(quote)s »)."), quote=_short(consent.text))
    if purpose:
        return _result(check, NOT_MET, evidence, N_("Annonce le motif de l'appel mais ne demande pas à l'appelé s'il "
                                                    "accepte de poursuivre."))
    if consent:
        return _result(check, NOT_MET, evidence, N_("Demande l'accord de l'appelé sans lui annoncer clairement l'objet "
                                                    "de l'appel."))
    return _result(check, NOT_MET, [view.quote_turn(t) for t in opening[:1]],
                   N_("N'annonce pas l'objet de l'appel et ne demande pas l'accord de l'appelé pour poursuivre."))


def purpose(view: CallView) -> CheckResult:
    """The agent states the purpose of the call in their first turns."""
    check = "purpose"
    opening = view.agent[: view.p.opening_agent_turns]
    hit = next((h for turn in opening if (h := view.find("purpose", turn))), None)
    if hit is not None:
        return _result(check, MET, [view.quote(hit, "purpose")], N_("Expose le motif de l'appel d'emblée "
                                                                     "(« %(quote)s »)."), quote=_short(hit.text))
    if not opening:
        return _result(check, NOT_ASSESSABLE, [], N_("L'agent ne parle pas : pas de présentation à juger."))
    return _result(check, NOT_MET, [view.quote_turn(t) for t in opening[:2]],
                   N_("N'expose pas le motif de l'appel dans ses premières répliques."))


def identification(view: CallView) -> CheckResult:
    """The agent checks who they are talking to (name, customer number, date of birth…) and gets an answer."""
    check = "identification"
    for turn in view.agent:
        hit = view.find("identification", turn, questions_only=True)
        if hit is None:
            continue
        reply = view.reply_to(turn)
        if reply is not None and not view.is_non_answer(reply) and not view.find("absent", reply):
            return _result(check, MET, [view.quote(hit, "identification"), view.quote_turn(reply)],
                           N_("Vérifie l'identité de son interlocuteur (« %(quote)s »)."), quote=_short(hit.text))
    if not _engaged(view):
        return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
    return _result(check, NOT_MET, [view.quote_turn(t) for t in view.agent[:1]],
                   N_("Ne vérifie pas l'identité de son interlocuteur."))


_OTHER_LANGUAGE = N_("Répliques en anglais, charte en français : la conformité d'une traduction est à juger par une "
                     "personne.")


def _charter(view: CallView, check: str, text: str, turns: list[Turn], share: float, missing: str, met: str,
             not_met: str) -> CheckResult:
    if not text.strip():
        return _result(check, NOT_ASSESSABLE, [], missing)
    charter = text.replace("{agent}", " ").replace("{company}", " ").replace("{contact}", " ")
    if turns and language_of(charter, normalise(charter)) != "en" and all(
            language_of(t.text, view.whole[t.index]) == "en" for t in turns):
        # a call held in English (MC ACVD S5) says the charter in translation: its words cannot match
        return _result(check, NOT_ASSESSABLE, [view.quote_turn(t) for t in turns], _OTHER_LANGUAGE)
    wanted = view.stems(normalise(charter))
    said = set().union(*(view.stems(view.whole[t.index]) for t in turns)) if turns else set()
    if not wanted:
        return _result(check, NOT_ASSESSABLE, [], missing)
    ratio = len(wanted & said) / len(wanted)
    evidence = [view.quote_turn(t) for t in turns]
    percent = round(ratio * 100)
    if ratio >= share:
        return _result(check, MET, evidence, met, percent=percent)
    return _result(check, NOT_MET, evidence, not_met, percent=percent, required=round(share * 100))


def greeting_charter(view: CallView) -> CheckResult:
    """The opening follows the company's greeting charter (most of its words are said)."""
    charter = view.call.charter
    opening = view.agent[: view.p.presentation_agent_turns]
    return _charter(view, "greeting_charter", charter.greeting if charter else "", opening,
                    view.p.charter_greeting_share,
                    N_("Pas de charte d'accueil connue pour cette entreprise."),
                    N_("Accueil conforme à la charte de l'entreprise (%(percent)s %% de ses mots repris)."),
                    N_("Accueil éloigné de la charte de l'entreprise : %(percent)s %% de ses mots repris "
                       "(%(required)s %% attendus)."))


def closing_charter(view: CallView) -> CheckResult:
    """The last turns follow the company's closing charter; a call transferred at its end is closed by
    the service that takes it over, not by this agent."""
    charter = view.call.charter
    closing = view.agent[-view.p.closing_agent_turns:] if view.agent else []
    transfers = [e for e in view.call.events_of("transfer") if not closing or e.t >= closing[-1].t]
    if charter is not None and charter.closing.strip() and transfers:
        return _result("closing_charter", NOT_ASSESSABLE, [view.event(transfers[-1])],
                       N_("Appel transféré : la prise de congé revient au service qui le reprend."))
    return _charter(view, "closing_charter", charter.closing if charter else "", closing,
                    view.p.charter_closing_share,
                    N_("Pas de charte de prise de congé connue pour cette entreprise."),
                    N_("Prise de congé conforme à la charte de l'entreprise (%(percent)s %% de ses mots repris)."),
                    N_("Prise de congé éloignée de la charte de l'entreprise : %(percent)s %% de ses mots repris "
                       "(%(required)s %% attendus)."))


# --- discovery ----------------------------------------------------------------------------------------------------


def _adaptations(view: CallView) -> list[Found]:
    """Agent turns that build on the caller's last answer: a set phrase, a reformulation, or a
    question reusing the caller's new words."""
    found = []
    for turn in view.agent:
        caller_turn = view.previous(turn)
        if caller_turn is None or caller_turn.speaker != CALLER:
            continue
        hit = view.find("adaptation", turn)
        if hit is None:
            for number, raw in enumerate(view.sentences[turn.index]):
                norm = view.normalised[turn.index][number]
                if view.reformulation_in(turn, number) or (is_question(raw) and view.shared(norm, caller_turn)):
                    hit = Found(turn, number, raw, "")
                    break
        if hit is not None:
            found.append(hit)
    return found


def questionnaire(view: CallView) -> CheckResult:
    """The agent runs a questionnaire (several discovery questions) and adapts it to the answers."""
    check = "questionnaire"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    asked = [t for t in view.agent if view.info_questions(t) or view.checks_understanding(t)]
    adapted = _adaptations(view)
    evidence = [view.quote_turn(t, "question") for t in asked[:3]] + [view.quote(h, "adaptation") for h in adapted[:2]]
    if len(asked) < view.p.min_discovery_questions:
        return _result(check, NOT_MET, evidence, N_("Trop peu de questions pour dérouler un questionnaire : %(count)s "
                                                    "(au moins %(min)s attendues)."),
                       count=len(asked), min=view.p.min_discovery_questions)
    if not adapted:
        return _result(check, NOT_MET, evidence, N_("%(count)s questions enchaînées sans tenir compte des réponses de "
                                                    "l'appelé (aucune reprise de ses propos)."), count=len(asked))
    return _result(check, MET, evidence, N_("Déroule le questionnaire (%(count)s questions) et l'adapte aux réponses "
                                            "(« %(quote)s »)."), count=len(asked), quote=_short(adapted[0].text))


def active_listening(view: CallView) -> CheckResult:
    """Reformulation of what the caller said, and a question checking it with them."""
    check = "active_listening"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    restated = _reformulations(view)
    feedback = [hit for turn in view.agent if (hit := view.find("feedback", turn, questions_only=True))]
    feedback += [hit for hit in restated if is_question(hit.text) and hit not in feedback]
    evidence = [view.quote(h, "reformulation") for h in restated[:2]] + [view.quote(h, "feedback") for h in feedback[:2]]
    if restated and feedback:
        return _result(check, MET, evidence, N_("Reformule les propos de l'appelé et vérifie avec lui (« %(quote)s »)."),
                       quote=_short(feedback[0].text))
    if restated:
        return _result(check, NOT_MET, evidence, N_("Reformule (« %(quote)s ») sans solliciter l'avis de l'appelé : "
                                                    "aucune question de vérification."), quote=_short(restated[0].text))
    if feedback:
        return _result(check, NOT_MET, evidence, N_("Vérifie la compréhension (« %(quote)s ») sans reformuler les "
                                                    "informations obtenues."), quote=_short(feedback[0].text))
    return _result(check, NOT_MET, _unreformulated(view), N_("Aucune reformulation ni question de vérification : "
                                                             "l'écoute active n'apparaît pas."))


def _unreformulated(view: CallView) -> list[Evidence]:
    """Where a reformulation was due and none came: the caller's turns that told something (a real
    answer, ``substantive_answer_words`` or more) and that the agent went on from without restating."""
    told = [turn for turn in view.caller if view.following(turn, AGENT, 1) and view.substantive(turn)]
    return [view.quote_turn(turn, "not_reformulated") for turn in told[:3]]


def reformulation(view: CallView) -> CheckResult:
    """At least one reformulation of what the caller said."""
    check = "reformulation"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    restated = _reformulations(view)
    if restated:
        return _result(check, MET, [view.quote(h, "reformulation") for h in restated[:3]],
                       N_("Reformule les propos de l'appelé (« %(quote)s »)."), quote=_short(restated[0].text))
    return _result(check, NOT_MET, _unreformulated(view), N_("Ne reformule jamais les propos de l'appelé."))


def _answered(view: CallView) -> tuple[list[tuple[Turn, Turn]], list[Found]]:
    answered, leading = [], []
    for turn in view.agent:
        kinds = [view.sentence_kind(turn, n) for n in view.questions(turn)]
        if "leading" in kinds:
            leading.append(view.find("leading", turn) or Found(turn, 0, turn.text, ""))
            continue
        if "info" not in kinds:
            continue
        reply = view.reply_to(turn)
        if reply is not None and not view.is_non_answer(reply):
            answered.append((turn, reply))
    return answered, leading


def information_gathering(view: CallView) -> CheckResult:
    """The agent asks for and obtains the information the call is for (answers, not « je ne sais pas »)."""
    check = "information_gathering"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    answered, leading = _answered(view)
    words = sum(view.words(reply) for _q, reply in answered)
    evidence = [view.quote_turn(reply, "answer") for _q, reply in answered[:4]] + [view.quote(h, "leading")
                                                                                  for h in leading[:2]]
    asked = {question.index for question, _reply in answered}
    unanswered = [turn for turn in view.agent if turn.index not in asked and view.info_questions(turn)]
    enough = len(answered) >= view.p.min_answered_questions or (
        len(answered) >= view.p.few_answered_questions and words >= view.p.few_answered_min_words)
    if enough:
        return _result(check, MET, evidence, N_("Recueille les informations : %(count)s questions ont obtenu une "
                                                "réponse (%(words)s mots de l'appelé)."), count=len(answered),
                       words=words)
    if leading:
        return _result(check, NOT_MET, evidence, N_("Questions orientées (« %(quote)s ») : les réponses de l'appelé ne "
                                                    "sont pas recueillies telles quelles."), quote=_short(leading[0].text))
    for turn in unanswered[:3]:  # the questions left without a real answer
        number = view.info_questions(turn)[0]
        evidence.append(view.quote(Found(turn, number, view.sentences[turn.index][number], ""), "unanswered"))
    return _result(check, NOT_MET, evidence, N_("Peu d'informations obtenues : %(count)s question(s) avec une vraie "
                                                "réponse."), count=len(answered))


def discovery(view: CallView) -> CheckResult:
    """Needs, expectations, motivations: an open question the caller answers at length, or a
    reformulation of them that the caller confirms."""
    check = "discovery"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    open_answered = []
    for turn in view.agent:
        hit = _open_info_question(view, turn)
        if hit is not None and view.substantive(view.reply_to(turn)):
            open_answered.append((hit, view.reply_to(turn)))
    if open_answered:
        hit, reply = open_answered[0]
        return _result(check, MET, [view.quote(hit, "open_question"), view.quote_turn(reply, "answer")],
                       N_("Fait exprimer les besoins de l'appelé par une question ouverte (« %(quote)s »)."),
                       quote=_short(hit.text))
    for hit in _reformulations(view):
        reply = view.reply_to(hit.turn)
        if reply is not None and view.find("confirmation", reply):
            return _result(check, MET, [view.quote(hit, "reformulation"), view.quote_turn(reply, "answer")],
                           N_("Identifie les besoins de l'appelé et les lui fait confirmer (« %(quote)s »)."),
                           quote=_short(hit.text))
    return _result(check, NOT_MET, [view.quote_turn(t, "question") for t in view.agent if view.info_questions(t)][:3],
                   N_("Ne fait pas exprimer les besoins, attentes ou motivations de l'appelé : pas de question ouverte "
                      "suivie d'une vraie réponse."))


def _open_info_question(view: CallView, turn: Turn, cues: str = "discovery_question") -> Found | None:
    for number in view.info_questions(turn):
        norm = view.normalised[turn.index][number]
        match = view.cue(cues).search(norm)
        if match is not None:
            return Found(turn, number, view.sentences[turn.index][number], match)
    return None


def open_questions(view: CallView) -> CheckResult:
    """Several open questions among the agent's questions (questioning technique)."""
    check = "open_questions"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    opened = [hit for turn in view.agent if (hit := view.find("open_question", turn, questions_only=True))]
    closed = sum(1 for turn in view.agent for n in view.questions(turn)) - len(opened)
    evidence = [view.quote(h, "open_question") for h in opened[:3]]
    if len(opened) >= 2:
        return _result(check, MET, evidence, N_("Alterne les types de questions : %(open)s questions ouvertes, %(closed)s "
                                                "fermées ou alternatives."), open=len(opened), closed=closed)
    shut = [Found(turn, n, view.sentences[turn.index][n], "") for turn in view.agent for n in view.questions(turn)
            if view.cue("open_question").search(view.normalised[turn.index][n]) is None]
    evidence += [view.quote(h, "closed_question") for h in shut[:3]]
    return _result(check, NOT_MET, evidence, N_("Questions presque toutes fermées : %(open)s question(s) ouverte(s) "
                                                "pour %(closed)s fermée(s)."), open=len(opened), closed=closed)


# --- reservations and objections -------------------------------------------------------------------------------


def elicit_objections(view: CallView) -> CheckResult:
    """The agent invites the caller to say what holds them back (a question about their doubts)."""
    check = "elicit_objections"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    asked = view.elicitations()
    if asked:
        return _result(check, MET, [view.quote(h, "elicitation") for h in asked[:2]],
                       N_("Invite l'appelé à exprimer ses freins (« %(quote)s »)."), quote=_short(asked[0].text))
    reservations = _reservations(view)
    for reservation in reservations:
        probe = view.probes(reservation, view.p.reservation_window_agent_turns)
        if probe is not None:
            return _result(check, MET, [view.quote(reservation, "reservation"), view.quote(probe, "elicitation")],
                           N_("Fait expliciter la réserve de l'appelé (« %(quote)s »)."), quote=_short(probe.text))
    if reservations:
        first = reservations[0]
        return _result(check, NOT_MET, [view.quote(r, "reservation") for r in reservations[:3]],
                       N_("L'appelé exprime une réserve (« %(quote)s ») sans être invité à l'expliquer."),
                       quote=_short(first.text))
    return _result(check, NOT_ASSESSABLE, [], N_("Aucune hésitation ni objection de l'appelé, et aucune question pour en "
                                                 "faire dire : rien à observer."))


def _treated(view: CallView, objection: Found) -> Found | None:
    """The agent's answer to an objection, in their next turns: an acknowledgement with substance
    (« je comprends… justement… »), an answer that takes up the caller's words, or a question
    exploring the objection followed by an answer. Giving up (« prenez le temps ») is no answer."""
    window = view.following(objection.turn, AGENT, view.p.treatment_window_agent_turns)
    new_words = view.new_from_caller(objection.turn)
    probed = view.probes(objection, 1) is not None
    for position, turn in enumerate(window):
        if view.find("give_up", turn):
            return None
        if view.words(turn) < view.p.treatment_min_words:
            continue
        hit = view.find("treatment", turn)
        if hit is not None:
            return hit
        if view.stems(view.whole[turn.index]) & new_words or (probed and position >= 1):
            return Found(turn, 0, view.sentences[turn.index][0], "")
    return None


def objection_handling(view: CallView) -> CheckResult:
    """Every objection of the caller gets an answer that takes it up (not ignored, not given up on)."""
    check = "objection_handling"
    absent = view.target_absent
    if absent is not None:
        return _result(check, NOT_ASSESSABLE, [view.quote(absent)], _TARGET_ABSENT, quote=_short(absent.text))
    objections = _reservations(view, objections_only=True)
    if not objections:
        return _result(check, NOT_ASSESSABLE, [], N_("Aucune objection de l'appelé à laquelle répondre."))
    untreated, evidence = [], []
    for objection in objections:
        answer = _treated(view, objection)
        evidence.append(view.quote(objection, "objection"))
        if answer is None:
            untreated.append(objection)
            following = view.following(objection.turn, AGENT, 1)
            evidence += [view.quote_turn(t, "no_answer") for t in following]
        else:
            evidence.append(view.quote(answer, "answer"))
    if untreated:
        return _result(check, NOT_MET, evidence, N_("%(untreated)s objection(s) sur %(count)s sans réponse qui la traite "
                                                    "(« %(quote)s »)."), untreated=len(untreated),
                       count=len(objections), quote=_short(untreated[0].text))
    return _result(check, MET, evidence, N_("Répond à chaque objection de l'appelé (%(count)s)."), count=len(objections))


def empathy(view: CallView) -> CheckResult:
    """When the caller voices distress or anger, the agent acknowledges it in their next turns."""
    check = "empathy"
    distress = [hit for turn in view.caller if (hit := view.find("distress", turn)) and view.following(turn, AGENT, 1)]
    shown = [hit for turn in view.agent if (hit := view.find("empathy", turn))]
    if not distress:
        if shown:
            return _result(check, MET, [view.quote(h, "empathy") for h in shown[:2]],
                           N_("Formules d'empathie (« %(quote)s »)."), quote=_short(shown[0].text))
        return _result(check, NOT_ASSESSABLE, [], N_("Aucune émotion ni difficulté exprimée par l'appelé."))
    missed, evidence = [], []
    for hit in distress:
        answer = next((found for turn in view.following(hit.turn, AGENT, 2)
                       if (found := view.find("empathy", turn))), None)
        evidence.append(view.quote(hit, "distress"))
        if answer is None:
            missed.append(hit)
        else:
            evidence.append(view.quote(answer, "empathy"))
    if missed:
        return _result(check, NOT_MET, evidence, N_("L'appelé exprime une difficulté (« %(quote)s ») sans que l'agent "
                                                    "la reconnaisse."), quote=_short(missed[0].text))
    return _result(check, MET, evidence, N_("Reconnaît les difficultés exprimées par l'appelé (« %(quote)s »)."),
                   quote=_short(evidence[1].quote or ""))


# --- proposal, agreement, closing ------------------------------------------------------------------------------


def proposal(view: CallView) -> CheckResult:
    """The agent states an action to take: appointment, order, update, callback, payment plan…"""
    check = "proposal"
    found = _proposals(view)
    actions = view.call.events_of("appointment", "callback", "payment_plan", "sale", "complaint_forwarded")
    evidence = [view.quote(h, "proposal") for h in found[:2]] + [view.event(e) for e in actions[:2]]
    if found:
        return _result(check, MET, evidence, N_("Énonce une proposition d'action (« %(quote)s »)."),
                       quote=_short(found[0].text))
    if not _conversation(view):
        return _unobservable(view, check) or _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION,
                                                     caller=len(view.caller))
    return _result(check, NOT_MET, evidence, N_("Aucune proposition d'action (rendez-vous, commande, mise à jour, "
                                                "rappel) n'est énoncée."))


def agreement(view: CallView) -> CheckResult:
    """The caller explicitly agrees to the proposed action."""
    check = "agreement"
    found = _proposals(view)
    if not found:
        if not _engaged(view):
            return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
        return _result(check, NOT_MET, [], N_("Aucune proposition d'action : pas d'accord à obtenir."))
    first = found[0].turn
    offered = {hit.turn.index for hit in found}
    last_refusal = None
    for turn in view.caller:
        if turn.index < first.index:
            continue
        if view.find("refusal", turn):
            last_refusal = turn
            continue
        agreed = view.find("agreement", turn)
        chose = turn.index - 1 in offered and view.mentions_time(view.whole[turn.index])
        if agreed or chose:
            hit = agreed or Found(turn, 0, turn.text, "")
            return _result(check, MET, [view.quote(found[0], "proposal"), view.quote(hit, "agreement")],
                           N_("L'appelé donne son accord (« %(quote)s »)."), quote=_short(turn.text))
    evidence = [view.quote(found[0], "proposal")] + ([view.quote_turn(last_refusal, "refusal")] if last_refusal else [])
    if last_refusal is not None:
        return _result(check, NOT_MET, evidence, N_("L'appelé refuse la proposition (« %(quote)s »)."),
                       quote=_short(last_refusal.text))
    return _result(check, NOT_MET, evidence, N_("Pas d'accord explicite de l'appelé sur la proposition."))


def recap(view: CallView) -> CheckResult:
    """After the proposal, the agent restates what was agreed (date, time, what happens next)."""
    check = "recap"
    found = _proposals(view)
    if not found:
        if not _engaged(view):
            return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
        return _result(check, NOT_MET, [], N_("Pas de récapitulatif : aucun engagement n'a été proposé."))
    first = found[0].turn
    offered = {hit.turn.index for hit in found}
    for turn in view.agent:
        if turn.index <= first.index or turn.index in offered:
            continue
        for number, (raw, norm) in enumerate(zip(view.sentences[turn.index], view.normalised[turn.index])):
            if len(norm.split()) < view.p.recap_min_words:
                continue
            if view.cue("recap").search(norm) or (not is_question(raw) and view.mentions_time(norm)):
                return _result(check, MET, [view.quote(Found(turn, number, raw, ""), "recap")],
                               N_("Récapitule l'engagement pris (« %(quote)s »)."), quote=_short(raw))
    return _result(check, NOT_MET, [view.quote(found[-1], "proposal")],
                   N_("Ne récapitule pas ce qui a été convenu avant de conclure."))


def leave_taking(view: CallView) -> CheckResult:
    """The agent takes leave with a closing formula (« au revoir », « bonne journée »…)."""
    check = "leave_taking"
    closing = view.agent[-view.p.closing_agent_turns:] if view.agent else []
    hit = next((h for turn in reversed(closing) if (h := view.find("goodbye", turn))), None)
    if hit is not None:
        return _result(check, MET, [view.quote(hit, "goodbye")], N_("Prend congé (« %(quote)s »)."),
                       quote=_short(hit.text))
    if not _engaged(view):
        return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
    return _result(check, NOT_MET, [view.quote_turn(t) for t in closing],
                   N_("Ne prend pas congé : aucune formule de fin d'appel dans ses dernières répliques."))


def satisfaction_question(view: CallView) -> CheckResult:
    """Before leaving, the agent checks the caller is satisfied (« ai-je répondu à votre question ? »)."""
    check = "satisfaction_question"
    if not view.agent:
        return _result(check, NOT_ASSESSABLE, [], N_("L'agent ne parle pas."))
    start = view.agent[len(view.agent) // 2].index
    hit = next((h for turn in view.agent if turn.index >= start
                and (h := view.find("satisfaction_question", turn, questions_only=True))), None)
    if hit is not None:
        return _result(check, MET, [view.quote(hit, "satisfaction")], N_("Vérifie la satisfaction de l'appelé "
                                                                          "(« %(quote)s »)."), quote=_short(hit.text))
    if not _engaged(view):
        return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
    return _result(check, NOT_MET, [], N_("Ne vérifie pas la satisfaction de l'appelé avant de conclure."))


def caller_satisfaction(view: CallView) -> CheckResult:
    """The caller shows satisfaction in their last turns."""
    check = "caller_satisfaction"
    last = view.caller[-3:]
    hit = next((h for turn in reversed(last) if (h := view.find("caller_satisfaction", turn))), None)
    if hit is not None:
        return _result(check, MET, [view.quote(hit, "satisfaction")], N_("L'appelé se dit satisfait (« %(quote)s »)."),
                       quote=_short(hit.text))
    if not _engaged(view):
        return _result(check, NOT_ASSESSABLE, [], _NO_CONVERSATION, caller=len(view.caller))
    return _result(check, NOT_MET, [view.quote_turn(t) for t in last[-1:]],
                   N_("L'appelé n'exprime pas de satisfaction en fin d'appel."))


def argumentation(view: CallView) -> CheckResult:
    """Arguments (benefits) tied to what the caller said they need."""
    check = "argumentation"
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    said_by_caller: set[str] = set()
    argued = []
    for turn in view.turns:
        if turn.speaker == CALLER:
            said_by_caller |= view.stems(view.whole[turn.index])
            continue
        hit = view.find("argument", turn)
        if hit is not None and view.stems(view.whole[turn.index]) & said_by_caller:
            argued.append(hit)
    if argued:
        return _result(check, MET, [view.quote(h, "argument") for h in argued[:2]],
                       N_("Argumente à partir des besoins exprimés (« %(quote)s »)."), quote=_short(argued[0].text))
    return _result(check, NOT_MET, [], N_("Aucun argument rattaché à ce que l'appelé a dit de ses besoins."))


def additional_offer(view: CallView) -> CheckResult:
    """An additional product or service is proposed (« vente additionnelle »)."""
    check = "additional_offer"
    sales = [e for e in view.call.events_of("sale") if (e.get("additional") or 0) > 0]
    hit = next((h for turn in view.agent if (h := view.find("additional_offer", turn))), None)
    evidence = ([view.quote(hit, "additional_offer")] if hit else []) + [view.event(e) for e in sales[:1]]
    if hit or sales:
        return _result(check, MET, evidence, N_("Propose un produit ou service additionnel."))
    if (unobservable := _unobservable(view, check)) is not None:
        return unobservable
    return _result(check, NOT_MET, [], N_("Aucune offre additionnelle proposée."))


# --- records: CRM, qualification, actions -------------------------------------------------------------------------


def crm_trace(view: CallView) -> CheckResult:
    """The call is qualified and what was learnt or agreed is recorded (fields, answers, notes, actions)."""
    check = "crm_trace"
    dispositions = view.call.events_of("disposition")
    records = view.call.events_of("crm_update", "note", "script_answer", "survey_answer", "appointment", "callback",
                                  "payment_plan", "sale", "complaint_forwarded")
    evidence = [view.event(e) for e in dispositions[:1] + records[:4]]
    if not dispositions:
        return _result(check, NOT_MET, evidence, N_("Appel non qualifié : aucune qualification enregistrée."))
    code = dispositions[-1].get("code", "")
    if records:
        return _result(check, MET, evidence, N_("Appel qualifié « %(code)s » et %(count)s enregistrement(s) dans la fiche."),
                       code=code, count=len(records))
    if not _conversation(view):
        return _result(check, MET, evidence, N_("Appel court qualifié « %(code)s »."), code=code)
    return _result(check, NOT_MET, evidence, N_("Seule la qualification « %(code)s » est enregistrée : rien de "
                                                "l'entretien n'est reporté dans la fiche."), code=code)


def crm_updates(view: CallView) -> CheckResult:
    """Information written into the customer file during or right after the call."""
    check = "crm_updates"
    records = view.call.events_of("crm_update", "note", "script_answer", "survey_answer")
    if records:
        return _result(check, MET, [view.event(e) for e in records[:4]],
                       N_("%(count)s information(s) saisie(s) dans la fiche."), count=len(records))
    return _result(check, NOT_MET, [], N_("Rien n'est saisi dans la fiche pendant l'appel."))


def disposition(view: CallView) -> CheckResult:
    """The call has a qualification."""
    check = "disposition"
    found = view.call.events_of("disposition")
    if found:
        return _result(check, MET, [view.event(found[-1])], N_("Appel qualifié « %(code)s »."),
                       code=found[-1].get("code", ""))
    return _result(check, NOT_MET, [], N_("Appel non qualifié."))


def data_entry_timing(view: CallView) -> CheckResult:
    """Entries in the file are made during the call or soon after it (``max_wrap_up_s``)."""
    check = "data_entry_timing"
    records = view.call.events_of("crm_update", "note", "script_answer", "survey_answer", "disposition")
    if not records:
        return _result(check, NOT_ASSESSABLE, [], N_("Aucune saisie à dater."))
    end = duration_of(view.call, view.p.words_per_second)
    late = [e for e in records if e.t > end + view.p.max_wrap_up_s]
    if late:
        return _result(check, NOT_MET, [view.event(e) for e in late[:3]],
                       N_("%(count)s saisie(s) plus de %(max)s s après la fin de l'appel."), count=len(late),
                       max=round(view.p.max_wrap_up_s))
    return _result(check, MET, [view.event(e) for e in records[:2]],
                   N_("Saisies faites pendant l'appel ou dans les %(max)s s qui suivent."), max=round(view.p.max_wrap_up_s))


def sale(view: CallView) -> CheckResult:
    check = "sale"
    found = view.call.events_of("sale")
    if found:
        return _result(check, MET, [view.event(e) for e in found[:2]], N_("Vente enregistrée."))
    return _result(check, NOT_MET, [], N_("Aucune vente enregistrée pour cet appel."))


def payment_arrangement(view: CallView) -> CheckResult:
    check = "payment_arrangement"
    found = view.call.events_of("payment_plan")
    if found:
        return _result(check, MET, [view.event(e) for e in found[:2]],
                       N_("Promesse de paiement ou échéancier enregistré."))
    return _result(check, NOT_MET, [], N_("Ni promesse de paiement ni échéancier obtenu."))


def complaint_forwarding(view: CallView) -> CheckResult:
    """A complaint voiced by the caller is recorded and forwarded."""
    check = "complaint_forwarding"
    forwarded = view.call.events_of("complaint_forwarded")
    voiced = [hit for turn in view.caller if (hit := view.find("complaint", turn))]
    if forwarded:
        return _result(check, MET, [view.event(e) for e in forwarded[:1]] + [view.quote(h) for h in voiced[:1]],
                       N_("Réclamation enregistrée et transmise."))
    if voiced:
        return _result(check, NOT_MET, [view.quote(h, "complaint") for h in voiced[:2]],
                       N_("L'appelé se plaint (« %(quote)s ») mais aucune réclamation n'est transmise."),
                       quote=_short(voiced[0].text))
    return _result(check, NOT_ASSESSABLE, [], N_("Aucune réclamation exprimée."))


# --- words and timings ------------------------------------------------------------------------------------------


def banned_words(view: CallView) -> CheckResult:
    """None of the company's « mots à bannir » in the agent's mouth."""
    check = "banned_words"
    words = view.call.banned_words if view.call.banned_words is not None else view.settings.default_banned_words
    if not words:
        return _result(check, NOT_ASSESSABLE, [], N_("Pas de liste de mots à bannir."))
    cues = view.settings.banned(tuple(words))
    hits: list[Found] = []
    for turn in view.agent:
        if cues.search(view.whole[turn.index]) is None:
            continue
        for number, (raw, norm) in enumerate(zip(view.sentences[turn.index], view.normalised[turn.index])):
            hits += [Found(turn, number, raw, match) for match in cues.findall(norm)]
    if hits:
        found = sorted({hit.match for hit in hits})
        return _result(check, NOT_MET, [view.quote(h, "banned_word") for h in hits],
                       N_("Mots à bannir employés : %(words)s."), words=", ".join(f"« {w} »" for w in found))
    return _result(check, MET, [], N_("Aucun des %(count)s mots à bannir n'est employé."), count=len(words))


def _hold_spans(view: CallView) -> list[tuple[CallEvent, float, CallEvent | None]]:
    spans = []
    end = duration_of(view.call, view.p.words_per_second)
    pending: CallEvent | None = None
    for event in view.events:
        if event.type == "hold" and pending is None:
            pending = event
        elif event.type == "resume" and pending is not None:
            spans.append((pending, event.t, event))
            pending = None
    if pending is not None:
        after = [t.t for t in view.turns if t.t > pending.t]
        spans.append((pending, min(after) if after else end, None))
    return spans


def silences(view: CallView) -> CheckResult:
    """No long silence before the agent speaks (holds aside: they are judged by ``holds``)."""
    check = "silences"
    if len(view.turns) < 2:
        return _result(check, NOT_ASSESSABLE, [], N_("Trop peu de répliques pour mesurer les silences."))
    limit = view.targets.max_silence_s or (view.p.typed_max_silence_s if view.call.media == "text"
                                           else view.p.max_silence_s)
    holds = _hold_spans(view)
    long = []
    for before, turn in zip(view.turns, view.turns[1:]):
        if turn.speaker != AGENT:
            continue
        start = before.t + speaking_time(before.text, view.p.words_per_second)
        on_hold = sum(max(0.0, min(end, turn.t) - max(h.t, start)) for h, end, _r in holds)
        gap = turn.t - start - on_hold
        if gap <= limit:
            continue
        long.append(Evidence("timing", start, duration_s=gap, what="silence", turn=turn.index))
    if long:
        worst = max(e.duration_s or 0 for e in long)
        return _result(check, NOT_MET, long, N_("%(count)s silence(s) de plus de %(max)s s avant que l'agent ne parle "
                                                "(jusqu'à %(worst)s s)."), count=len(long), max=number_text(limit),
                       worst=number_text(round(worst, 1)))
    return _result(check, MET, [], N_("Pas de silence de plus de %(max)s s."), max=number_text(limit))


def holds(view: CallView) -> CheckResult:
    """Each hold announced before, thanked after, and not longer than the limit."""
    check = "holds"
    spans = _hold_spans(view)
    if not spans:
        return _result(check, NOT_ASSESSABLE, [], N_("Aucune mise en attente."))
    limit = view.targets.max_hold_s or view.p.max_hold_s
    problems: list[str] = []
    evidence: list[Evidence] = []
    for hold, end, resume in spans:
        duration = end - hold.t
        evidence.append(Evidence("timing", hold.t, duration_s=duration, what="hold", type="hold", event=hold.index))
        before = [t for t in view.agent if t.t <= hold.t][-1:]
        announced = before and view.find("hold_announce", before[0])
        after = [t for t in view.agent if t.t >= end][:1]
        thanked = after and view.find("hold_thanks", after[0])
        if announced:
            evidence.append(view.quote(announced, "hold_announce"))
        else:
            problems.append(N_("non annoncée"))
        if thanked:
            evidence.append(view.quote(thanked, "hold_thanks"))
        else:
            problems.append(N_("sans remerciement à la reprise"))
        if duration > limit:
            problems.append(N_("trop longue"))
    if problems:
        return _result(check, NOT_MET, evidence, N_("Mise en attente %(problem)s (%(count)s attente(s), la plus longue "
                                                    "%(longest)s s ; %(max)s s au plus)."), problem=tuple(dict.fromkeys(problems)),
                       count=len(spans), longest=number_text(round(max(e - h.t for h, e, _ in spans))), max=number_text(limit))
    return _result(check, MET, evidence, N_("%(count)s mise(s) en attente annoncée(s), remerciée(s) et de moins de "
                                            "%(max)s s."), count=len(spans), max=number_text(limit))


def duration(view: CallView) -> CheckResult:
    """The call's length against the scenario's or campaign's target (with a tolerance)."""
    check = "duration"
    target = view.targets.duration_s
    spent = duration_of(view.call, view.p.words_per_second)
    evidence = [Evidence("timing", 0.0, duration_s=spent, what="call")]
    if not target:
        return _result(check, NOT_ASSESSABLE, evidence, N_("Pas de durée cible pour cet appel."))
    allowed = target * (1 + view.p.duration_tolerance)
    if spent <= allowed:
        return _result(check, MET, evidence, N_("Durée %(spent)s pour une cible de %(target)s."),
                       spent=_clock(spent), target=_clock(target))
    return _result(check, NOT_MET, evidence, N_("Durée %(spent)s : au-delà de la cible de %(target)s (tolérance "
                                                "%(tolerance)s %%)."), spent=_clock(spent), target=_clock(target),
                   tolerance=round(view.p.duration_tolerance * 100))


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60} min {seconds % 60:02d} s"


# --- the registry ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    id: str
    label: str
    run: Callable[[CallView], CheckResult]


def _registry(*entries: tuple[Callable, str]) -> dict[str, Check]:
    return {function.__name__: Check(function.__name__, label, function) for function, label in entries}


#: every check, with its short French name (``docs/assessment.md`` explains each)
CHECKS: dict[str, Check] = _registry(
    (presentation, N_("Présentation")),
    (purpose, N_("Objet de l'appel")),
    (purpose_consent, N_("Objet de l'appel et accord pour poursuivre")),
    (identification, N_("Identification de l'interlocuteur")),
    (greeting_charter, N_("Charte d'accueil")),
    (closing_charter, N_("Charte de prise de congé")),
    (questionnaire, N_("Questionnaire déroulé et adapté")),
    (active_listening, N_("Écoute active : reformulation et vérification")),
    (reformulation, N_("Reformulation")),
    (information_gathering, N_("Recueil d'informations")),
    (discovery, N_("Découverte des besoins")),
    (open_questions, N_("Questions ouvertes")),
    (elicit_objections, N_("Expression des freins")),
    (objection_handling, N_("Traitement des objections")),
    (empathy, N_("Empathie")),
    (proposal, N_("Proposition d'action")),
    (agreement, N_("Accord de l'appelé")),
    (recap, N_("Récapitulatif")),
    (leave_taking, N_("Prise de congé")),
    (satisfaction_question, N_("Vérification de la satisfaction")),
    (caller_satisfaction, N_("Satisfaction exprimée par l'appelé")),
    (argumentation, N_("Argumentation liée aux besoins")),
    (additional_offer, N_("Offre additionnelle")),
    (crm_trace, N_("Traçage dans le CRM")),
    (crm_updates, N_("Saisies dans la fiche")),
    (disposition, N_("Qualification de l'appel")),
    (data_entry_timing, N_("Rapidité de la saisie")),
    (sale, N_("Vente")),
    (payment_arrangement, N_("Promesse ou échéancier")),
    (complaint_forwarding, N_("Réclamation transmise")),
    (banned_words, N_("Mots à bannir")),
    (silences, N_("Silences")),
    (holds, N_("Mises en attente")),
    (duration, N_("Durée")),
)

#: the cue lists the checks read (``data/assessment/cues.yaml`` must define each, and no other)
CUE_NAMES = frozenset({
    "fillers", "self_intro", "purpose", "consent", "ask_for_person", "absent", "identification", "confirmation",
    "open_question", "discovery_question", "short_objection", "feedback", "reformulation", "adaptation", "leading", "non_answer", "refusal", "elicit", "probe",
    "objection", "hesitation", "short_hesitation", "treatment", "give_up", "proposal", "offer", "action", "agreement",
    "recap", "goodbye", "empathy", "distress", "slot_words", "hold_announce", "hold_thanks", "satisfaction_question",
    "caller_satisfaction", "additional_offer", "argument", "complaint", "time_words",
})


__all__ = ["CHECKS", "CUE_NAMES", "CallView", "Check", "CheckResult", "Evidence", "MET", "NOT_ASSESSABLE", "NOT_MET",
           "RESULTS"]
