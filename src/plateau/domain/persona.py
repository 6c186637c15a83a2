"""The simulated caller: a scenario's persona, reacting turn by turn to what the agent says and does.

``Persona.start(scenario, seed)`` gives a ``PersonaState``; the desktop (or the
terminal, or a test) then feeds it the agent's turns (``on_agent_turn(text, t)``),
call events (``on_event("hold" | "resume" | "transfer" | "hangup", t)``) and
silences (``on_silence(seconds)``), and gets ``Reply`` objects back: what the
caller says, in the persona's style and language, drawn from the scenario's
templates (never from Python strings) with ``random.Random(seed)`` alone, so
that the same seed and the same agent give the same call, word for word.

How the caller reacts (``docs/scenarios.md`` tells it for trainers):

- it listens with ``persona_cues.read``: greeting and presentation (company and
  agent names), identification, open / closed / alternative questions,
  reformulation, empathy, proposal, recap, leave-taking, hold and transfer
  announcements, rudeness, tutoiement, the script's « mots à bannir »;
- its mood is a number from −5 (furious) to +5 (delighted) that each cue moves
  (``EFFECTS``, tunable per persona); irritants (rudeness, banned words, an
  unannounced or too long hold, a long silence, a question asked twice, an
  objection ignored, a call that drags on) use up its patience, after which
  it hangs up or asks for a supervisor;
- it reveals a fact when a question's words match the fact's cues: briefly to
  a closed or alternative question, fully to an open one; « open » facts (needs,
  motivations) only come out on open questions;
- it raises each objection when its trigger comes (start of the call, a cue
  such as the proposal, a fact discovered, a step done) and holds to it until
  an answer matches the objection's cues (with the cues it ``needs``, such as
  empathy, heard at some point);
- it follows the agent's manipulations one at a time, in order;
- it agrees as soon as every condition of ``agree_when`` holds, refuses after
  too many premature proposals or when the agent takes leave first.

Every agent turn leaves a ``LogEntry``: the cues heard with the words that
triggered them, what was revealed, raised, answered, the irritants and the
mood before and after — the explanation shown to the trainee and evidence
for the evaluator.
"""

from __future__ import annotations

import random
import string
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .contacts import CIVILITIES
from .errors import N_, DomainError
from .persona_cues import (AGENT_NAME, BANNED_WORD, COMPANY, EMPATHY, FEEDBACK, GREETING, HOLD_ANNOUNCE, HOLD_THANKS,
                           IDENTIFICATION, LEAVE_TAKING, PERMISSION, PROPOSAL, PURPOSE, RECAP, REFORMULATION, RUDENESS,
                           TRANSFER_ANNOUNCE, TUTOIEMENT, Cue, Listener, Reading, match_any, read)
from .scenarios import EFFECTS, INBOUND, OUTBOUND, Fact, Objection, Scenario

MOOD_MIN, MOOD_MAX = -5.0, 5.0
#: mood bands, for people (the value is shown beside)
MOOD_BANDS = ((-4.0, N_("furieux")), (-2.5, N_("en colère")), (-1.0, N_("agacé")), (1.0, N_("neutre")),
              (3.0, N_("satisfait")), (MOOD_MAX + 1, N_("ravi")))
#: what uses up a caller's patience, with its French label
IRRITANTS = {
    "rudeness": N_("propos désobligeant"),
    "banned_word": N_("mot à bannir"),
    "tutoiement": N_("tutoiement"),
    "silence": N_("silence prolongé"),
    "hold_unannounced": N_("mise en attente sans prévenir"),
    "hold_long": N_("attente trop longue"),
    "repeat": N_("question déjà posée"),
    "objection_ignored": N_("objection restée sans réponse"),
    "wrong_language": N_("le conseiller ne parle pas la langue de l'appelant"),
    "what_about": N_("objet de l'appel jamais annoncé"),
    "too_long": N_("appel trop long"),
    "transfer_cold": N_("transfert sans explication"),
}
#: words per second when a turn is spoken, for the timings of ``play``
WORDS_PER_SECOND = 2.5
AGREED, REFUSED, HUNG_UP, ASKED_SUPERVISOR = "agreed", "refused", "hung_up", "asked_supervisor"


@dataclass(frozen=True)
class Reply:
    """What the caller says (``text`` may be empty: the caller only listens) and what it did (``kinds``).

    ``kinds`` are short tags: « opening », « identity », « fact:<id> », « objection:<id> »,
    « satisfied:<id> », « step:<id> », « agree », « refuse », « hang_up »… in the order said."""

    text: str
    kinds: tuple[str, ...]
    mood: float
    outcome: str | None
    ended: bool
    language: str

    @property
    def said(self) -> bool:
        return bool(self.text)


@dataclass(frozen=True)
class LogEntry:
    """One agent turn or event as the caller lived it: why it replied as it did."""

    t: float
    source: str                        # agent | event | silence
    text: str
    cues: tuple[Cue, ...] = ()
    questions: tuple[str, ...] = ()    # open / closed / alternative, one per question asked
    revealed: tuple[str, ...] = ()
    repeated: tuple[str, ...] = ()
    reformulated: tuple[str, ...] = ()
    raised: tuple[str, ...] = ()
    answered: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    irritants: tuple[str, ...] = ()
    mood_before: float = 0.0
    mood_after: float = 0.0
    reply: Reply | None = None

    @property
    def cue_kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cue.kind for cue in self.cues))


class _Fill(dict):
    def __missing__(self, key):
        return "{" + key + "}"


@dataclass
class _Turn:
    """What is being built while the caller reacts to one turn or event."""

    t: float
    source: str
    text: str
    mood_before: float
    reading: Reading | None = None
    fragments: list = field(default_factory=list)      # (kind, text)
    revealed: list = field(default_factory=list)
    repeated: list = field(default_factory=list)
    reformulated: list = field(default_factory=list)
    raised: list = field(default_factory=list)
    answered: list = field(default_factory=list)
    steps: list = field(default_factory=list)
    irritants: list = field(default_factory=list)

    def add(self, kind: str, text: str) -> None:
        if text:
            self.fragments.append((kind, text))

    @property
    def silent(self) -> bool:
        return not self.fragments


class Persona:
    """The entry point: ``Persona.start(scenario, seed)``."""

    @staticmethod
    def start(scenario: Scenario, seed: int, agent_name: str = "") -> "PersonaState":
        return PersonaState(scenario, seed, agent_name)


class PersonaState:
    """A caller during one call. Read ``mood``, ``discovered``, ``objections_raised``,
    ``objections_answered``, ``steps_done``, ``outcome``, ``ended``, ``irritants`` and ``log``."""

    def __init__(self, scenario: Scenario, seed: int, agent_name: str = ""):
        self.scenario = scenario
        self.persona = scenario.persona
        self.seed = seed
        self.agent_name = agent_name
        self._rng = random.Random(seed)
        self._last_template: dict[str, int] = {}
        self._effects = {**EFFECTS, **dict(self.persona.effects)}
        contact = scenario.contact
        self._listener = Listener(company=scenario.company.names, agent=agent_name,
                                  contact=tuple(n for n in (contact.get("last_name"), contact.get("company_name")) if n),
                                  banned=self.persona.banned_words)
        self._values = {
            "agent": agent_name, "company": scenario.company.name, "persona": self.persona.name,
            "civility": CIVILITIES.get(contact.get("civility"), ""), "first_name": contact.get("first_name"),
            "last_name": contact.get("last_name"), "customer_number": contact.get("customer_number"),
            "postcode": contact.get("postcode"), "city": contact.get("city"),
            "company_name": contact.get("company_name"), "answer": "", "word": "",
        }
        self.mood = float(self.persona.mood_value)
        self.irritants: list[str] = []
        self._discovered: dict[str, float] = {}
        self.reformulated: list[str] = []
        self._raised: list[str] = []
        self._answered: list[str] = []
        self.pending: str | None = None
        self._tries: Counter = Counter()
        self._steps_done: list[str] = []
        self.outcome: str | None = None
        self.ended = False
        self.ended_by: str | None = None
        self.turns = 0
        self.heard: Counter = Counter()
        self.identified = False
        self.proposals_rejected = 0
        self.repeats = 0
        self.what_about = 0
        self.wrong_language = 0
        self.empathy_count = 0
        self.recapped = False
        self.t = 0.0
        self._silence = 0.0
        self._silence_warned = False
        self.on_hold = False
        self._hold_started = 0.0
        self._hold_elapsed = 0.0
        self._hold_announced = False
        self._announced_last_turn = False
        self._just_resumed = False
        self._hurried = False
        self._calmed = False
        self._opened = False
        self._proposal_open = False
        self._log: list[LogEntry] = []
        self.first_words: Reply | None = None
        if scenario.direction == OUTBOUND:
            turn = _Turn(0.0, "event", "", self.mood)
            turn.add("pickup", self._say("pickup"))
            self.first_words = self._finish(turn)

    # --- what the state shows -----------------------------------------------------------------------

    @property
    def discovered(self) -> tuple[str, ...]:
        return tuple(self._discovered)

    @property
    def objections_raised(self) -> tuple[str, ...]:
        return tuple(self._raised)

    @property
    def objections_answered(self) -> tuple[str, ...]:
        return tuple(self._answered)

    @property
    def steps_done(self) -> tuple[str, ...]:
        return tuple(self._steps_done)

    @property
    def log(self) -> tuple[LogEntry, ...]:
        return tuple(self._log)

    @property
    def mood_label(self) -> str:
        return next(label for limit, label in MOOD_BANDS if self.mood < limit)

    @property
    def patience_left(self) -> int:
        return max(0, self.persona.patience.irritants - len(self.irritants))

    def snapshot(self) -> dict:
        """Where the caller stands, for a trainer's view or a debrief (plain data, JSON-ready)."""
        return {"mood": round(self.mood, 2), "mood_label": self.mood_label, "outcome": self.outcome,
                "ended": self.ended, "ended_by": self.ended_by, "discovered": list(self.discovered),
                "reformulated": list(self.reformulated), "objections_raised": list(self._raised),
                "objections_answered": list(self._answered), "pending": self.pending,
                "steps_done": list(self._steps_done), "irritants": list(self.irritants),
                "patience_left": self.patience_left,
                "missing": {key: list(value) for key, value in self.agreement_missing().items()}}

    def agreement_missing(self) -> dict[str, tuple[str, ...]]:
        """What still stands between the caller and an agreement (empty when it holds)."""
        agree = self.persona.agree_when
        missing = {
            "facts": tuple(f for f in agree.facts if f not in self._discovered),
            "objections": tuple(o for o in agree.objections if o not in self._answered),
            "steps": tuple(s for s in agree.steps if s not in self._steps_done),
            "cues": tuple(k for k in agree.cues if not self._cue_done(k)),
        }
        if agree.min_mood is not None and self.mood < agree.min_mood:
            missing["mood"] = (f"{self.mood:.1f}",)
        return {key: value for key, value in missing.items() if value}

    # --- the agent speaks ------------------------------------------------------------------------------

    def on_agent_turn(self, text: str, t: float) -> Reply:
        """The caller hears one turn of the agent at ``t`` seconds and answers."""
        if self.ended:
            raise DomainError(N_("L'appel est terminé : le correspondant n'est plus en ligne."), "text")
        text = (text or "").strip()
        if not text:
            raise DomainError(N_("Écrivez ce que vous dites au correspondant."), "text")
        reading = read(text, self._listener)
        turn = _Turn(float(t), "agent", text, self.mood, reading)
        self.turns += 1
        self.t = float(t)
        self._silence, self._silence_warned = 0.0, False
        for kind in reading.kinds:
            self.heard[kind] += 1
        if self.on_hold:  # speaking to the caller takes them off hold
            self._resume(turn, float(t))
        if self.turns == 1:
            self._move(self._effects["greeting"] if reading.has(GREETING) and reading.has(COMPANY)
                       and reading.has(AGENT_NAME) else self._effects["no_greeting"])
        if not self.ended:
            self._react(turn, reading)
        call_s = self.persona.patience.call_s
        if call_s is not None and t > call_s and not self._hurried and not self.ended:
            self._hurried = True  # once: the call drags on
            self._irritate(turn, "too_long")
            if not self.ended:
                turn.add("hurry", self._say("hurry"))
        self._announced_last_turn = reading.has(HOLD_ANNOUNCE)
        self._just_resumed = False
        return self._finish(turn)

    def _react(self, turn: _Turn, reading: Reading) -> None:
        """The caller's reaction, in the order a person reacts; stops as soon as the caller is gone."""
        persona = self.persona
        if persona.language == "en" and reading.language != "en":
            self.wrong_language += 1
            turn.add("wrong_language", self._say("wrong_language"))
            if self.wrong_language >= 2:
                self._irritate(turn, "wrong_language")
            return
        if reading.has(RUDENESS):
            self._irritate(turn, "rudeness", effect="rudeness")
            if "rudeness" in persona.patience.hang_up_on:
                self._end_with(turn, HUNG_UP, "hang_up")
            if not self.ended:
                turn.add("rude", self._say("rude"))
            return
        if reading.has(BANNED_WORD):
            word = reading.words(BANNED_WORD) or ""
            self._irritate(turn, "banned_word")
            if "banned_word" in persona.patience.hang_up_on:
                self._end_with(turn, HUNG_UP, "hang_up")
                return
            if self.ended:
                return
            turn.add("banned", self._say("banned", word=word))
        if reading.has(TUTOIEMENT) and persona.style != "familiar":
            self._irritate(turn, "tutoiement")
            if "tutoiement" in persona.patience.hang_up_on:
                self._end_with(turn, HUNG_UP, "hang_up")
            if self.ended:
                return
            turn.add("tutoiement", self._say("tutoiement"))
        if not self._opened:
            self._first_turn(turn, reading)
        if self.scenario.direction == OUTBOUND and not self.heard[PURPOSE]:
            # the callee wants to know why they are called before answering anything else
            if reading.has(IDENTIFICATION) and not self.identified:
                self._identify(turn)
            self.what_about += 1
            if self.what_about >= 3:
                self._irritate(turn, "what_about")
            if not self.ended:
                turn.add("what_about", self._say("what_about"))
            return
        if self.scenario.direction == OUTBOUND and self.heard[PURPOSE] == 1 and reading.has(PURPOSE):
            self._start_objections(turn, reading)
            if not self.pending and persona.opening:
                turn.add("opening", self._say_from("opening", persona.opening))
        if reading.has(IDENTIFICATION):
            self._identify(turn, again_ok=any(_identification_in(s.folded, reading) for s in reading.questions))
        answered_now = self._answer_pending(turn, reading)
        self._reformulation(turn, reading)
        unanswered = self._questions(turn, reading)
        if self.ended:
            return
        self._steps(turn, reading)
        self._empathy(turn, reading)
        if reading.has(FEEDBACK) and not self.pending:
            turn.add("understood", self._say("understood"))
        if reading.has(HOLD_THANKS) and self._just_resumed:
            self._move(self._effects["hold_thanks"])
        if self.mood >= -1.5 > turn.mood_before and not self._calmed:
            self._calmed = True
            turn.add("calmer", self._say("calmer"))
        if not self.pending:
            self._raise_objection(turn, reading)
        proposing = reading.has(PROPOSAL) or reading.has(TRANSFER_ANNOUNCE)
        if proposing and not answered_now:  # « je peux vous rappeler » answering « pas le temps » proposes nothing
            self._proposal_open = True
        agreed_before = self.outcome == AGREED
        if self.outcome is None and self._agreement_holds():
            self.outcome = AGREED
            self._move(0.5)
            turn.add("agree", self._say("agree"))
        if self.pending and not answered_now and self.pending not in turn.raised and (turn.silent or proposing):
            self._insist(turn)
            if self.ended:
                return
        elif proposing and self.outcome is None and not answered_now and not (self.pending and self.pending in turn.raised):
            self._proposal_open = False  # turned down: the next proposal must come when the caller is ready
            self.proposals_rejected += 1
            if self.proposals_rejected >= persona.refuse_after:
                self._end_with(turn, REFUSED, "refuse")
                return
            turn.add("too_early", self._say("too_early"))
        if agreed_before and reading.has(RECAP) and not self.recapped:
            self.recapped = True
            turn.add("recap_ok", self._say("recap_ok"))
        if reading.has(LEAVE_TAKING) and not reading.asks:
            if self.outcome == AGREED:
                turn.add("goodbye", self._say("goodbye"))
                self._end("agent")
            else:
                self._end_with(turn, REFUSED, "refuse")
            return
        if turn.silent:
            key = unanswered or "ack"
            turn.add(key, self._say(key))

    def _first_turn(self, turn: _Turn, reading: Reading) -> None:
        """The first turn the caller understands: an inbound caller says why it calls; a callee asks who
        calls when the agent did not say it."""
        self._opened = True
        if self.scenario.direction == INBOUND:
            turn.add("opening", self._say_from("opening", self.persona.opening))
            for fact in self.persona.facts:
                if fact.given:
                    self._discovered[fact.id] = turn.t
            self._start_objections(turn, reading)
        elif not (reading.has(COMPANY) or reading.has(AGENT_NAME)):
            turn.add("who", self._say("who"))

    def _start_objections(self, turn: _Turn, reading: Reading) -> None:
        for objection in self.persona.objections:
            if objection.when.kind == "start" and objection.id not in self._raised and not self.pending:
                self._raise(turn, objection)

    def _identify(self, turn: _Turn, again_ok: bool = False) -> None:
        """The first time, the caller says who it is; asked again (a question, not a statement
        quoting the customer number), it says it again, less pleased."""
        if not self.identified:
            self.identified = True
            turn.add("identity", self._say("identity"))
        elif again_ok and not any(kind == "identity" for kind, _ in turn.fragments):
            self._move(-0.3)
            turn.add("identity_again", self._say("identity_again"))

    def _answer_pending(self, turn: _Turn, reading: Reading) -> bool:
        if not self.pending:
            return False
        objection = self.persona.objection(self.pending)
        hit = match_any(objection.answers, reading.folded)
        if hit is None or not all(self._cue_done(kind) for kind in objection.needs):
            return False
        self.pending = None
        self._answered.append(objection.id)
        turn.answered.append(objection.id)
        self._move(self._effects["objection_answered"])
        turn.add(f"satisfied:{objection.id}", self._say_from(f"satisfied:{objection.id}", objection.satisfied))
        return True

    def _insist(self, turn: _Turn) -> None:
        objection = self.persona.objection(self.pending)
        self._tries[objection.id] += 1
        turn.add(f"unsatisfied:{objection.id}", self._say_from(f"unsatisfied:{objection.id}", objection.unsatisfied))
        if self._tries[objection.id] >= objection.max_tries:
            self._irritate(turn, "objection_ignored")

    def _reformulation(self, turn: _Turn, reading: Reading) -> None:
        if not reading.has(REFORMULATION):
            return
        said = " ".join(s.folded for s in reading.sentences if s.reformulation) or reading.folded
        known = [f for f in self.persona.facts if f.id in self._discovered and match_any(f.keywords, said)]
        wrong = [f for f in self.persona.facts if f.id not in self._discovered and match_any(f.keywords, said)]
        if wrong:  # the agent puts words in the caller's mouth: it was never said
            self._move(-0.5)
            turn.add("correct", self._say("correct"))
        elif known:
            for fact in known:
                if fact.id not in self.reformulated:
                    self.reformulated.append(fact.id)
                turn.reformulated.append(fact.id)
            self._move(self._effects["reformulation"])
            turn.add("confirm", self._say("confirm"))

    def _questions(self, turn: _Turn, reading: Reading) -> str | None:
        """Answer the questions the facts answer; return how to answer a question nothing answers
        (« unknown_open » / « unknown_closed »), said only if the caller has nothing else to say."""
        fallback = None
        for sentence in reading.questions:
            if any(_asked_in(kind, sentence.folded, reading) for kind in (PERMISSION, FEEDBACK)):
                continue
            is_open = sentence.question == "open"
            candidates = [f for f in self.persona.facts if f.id not in self._discovered and self._can_reveal(f, is_open)]
            matched = [f for f in candidates if match_any(f.cues, sentence.folded)]
            if not matched and _identification_in(sentence.folded, reading):
                continue  # « vous êtes bien Monsieur … ? » is answered by the identity
            if not matched and is_open and not any(kind == "opening" for kind, _ in turn.fragments):
                # a general open question (« que puis-je pour vous ? ») brings out what the caller has at
                # heart — once it has said why it calls
                matched = [f for f in candidates if f.open][:1]
            if matched:
                for fact in matched[:2 if is_open else 1]:
                    self._reveal(turn, fact, is_open)
                continue
            asked = sentence.text.rstrip().endswith("?")  # « dites-moi quand c'est fait » asks nothing again
            again = [f for f in self.persona.facts if asked and f.id in self._discovered and not f.given
                     and f.id not in turn.revealed and match_any(f.cues, sentence.folded)]
            if again:
                fact = again[0]
                self.repeats += 1
                turn.repeated.append(fact.id)
                turn.add("repeat_fact", self._say("repeat_fact", answer=self._fill(fact.short)))
                if self.repeats >= 2:
                    self._irritate(turn, "repeat")
                continue
            if asked:
                fallback = fallback or ("unknown_open" if is_open else "unknown_closed")
        return fallback

    def _can_reveal(self, fact: Fact, is_open: bool) -> bool:
        return (is_open or not fact.open) and all(r in self._discovered for r in fact.requires)

    def _reveal(self, turn: _Turn, fact: Fact, is_open: bool) -> None:
        self._discovered[fact.id] = turn.t
        turn.revealed.append(fact.id)
        self._move(self._effects["discovery"])
        turn.add(f"fact:{fact.id}", self._fill(fact.answer if is_open else fact.short))

    def _steps(self, turn: _Turn, reading: Reading) -> None:
        done_now = False
        for index, step in enumerate(self.persona.steps):
            if step.id in self._steps_done or not match_any(step.cues, reading.folded):
                continue
            in_order = (not self.persona.steps_in_order
                        or all(s.id in self._steps_done for s in self.persona.steps[:index]))
            ready = in_order and all(f in self._discovered for f in step.after)
            if ready and not done_now:
                done_now = True
                self._steps_done.append(step.id)
                turn.steps.append(step.id)
                self._move(self._effects["step_done"])
                turn.add(f"step:{step.id}", self._say_from(f"step:{step.id}", step.done))
            else:
                self._move(-0.3)
                text = self._say_from(f"early:{step.id}", step.early) if step.early else self._say("step_early")
                turn.add(f"early:{step.id}", text)
                break

    def _empathy(self, turn: _Turn, reading: Reading) -> None:
        if not reading.has(EMPATHY) or self.empathy_count >= 3:
            return
        self.empathy_count += 1
        effect = self._effects["empathy"]
        self._move(effect if self.mood < 0 else effect / 2)

    def _raise_objection(self, turn: _Turn, reading: Reading) -> None:
        for objection in self.persona.objections:
            if objection.id in self._raised:
                continue
            when = objection.when
            due = ((when.kind == "start" and self._started())
                   or (when.kind == "cue" and self.heard[when.value] > 0)
                   or (when.kind == "fact" and when.value in self._discovered)
                   or (when.kind == "step" and when.value in self._steps_done)
                   or (when.kind == "turn" and self.turns >= int(when.value)))
            if due:
                self._raise(turn, objection)
                return

    def _started(self) -> bool:
        return self.scenario.direction == INBOUND or self.heard[PURPOSE] > 0

    def _raise(self, turn: _Turn, objection: Objection) -> None:
        """The caller raises an objection — unless the agent's turn already answered it (« traiter
        l'objection avant qu'elle ne soit formulée »): then it is raised and answered at once, silently."""
        self._raised.append(objection.id)
        turn.raised.append(objection.id)
        reading = turn.reading
        if (reading is not None and match_any(objection.answers, reading.folded) is not None
                and all(self._cue_done(kind) for kind in objection.needs)):
            self._answered.append(objection.id)
            turn.answered.append(objection.id)
            self._move(self._effects["objection_answered"])
            return
        self.pending = objection.id
        turn.add(f"objection:{objection.id}", self._say_from(f"objection:{objection.id}", objection.text))

    def _cue_done(self, kind: str) -> bool:
        """A cue the caller counts: a faithful reformulation, an identification it answered, a proposal
        still on the table (one turned down as premature must be made again); any other cue once heard."""
        if kind == REFORMULATION:
            return bool(self.reformulated)
        if kind in (PROPOSAL, TRANSFER_ANNOUNCE):
            return self._proposal_open and self.heard[kind] > 0
        if kind == IDENTIFICATION:
            return self.identified
        return self.heard[kind] > 0

    def _agreement_holds(self) -> bool:
        return not self.pending and not self.agreement_missing()

    # --- silences and events -----------------------------------------------------------------------------

    def on_silence(self, seconds: float) -> Reply | None:
        """Nobody spoke for ``seconds`` more (on hold: the caller waits on hold)."""
        if self.ended or seconds <= 0:
            return None
        patience = self.persona.patience
        self.t += seconds
        turn = _Turn(self.t, "silence", "", self.mood)
        if self.on_hold:
            self._hold_elapsed += seconds
            if self._hold_elapsed > 2 * patience.hold_s:
                self._end_with(turn, HUNG_UP, None)
                return self._finish(turn)
            return None
        self._silence += seconds
        if self._silence_warned and self._silence >= 2 * patience.silence_s:
            self._end_with(turn, HUNG_UP, "hang_up")
        elif not self._silence_warned and self._silence >= patience.silence_s:
            self._silence_warned = True
            self._irritate(turn, "silence")
            if not self.ended:
                turn.add("silence", self._say("silence"))
        else:
            return None
        return self._finish(turn)

    def on_event(self, event: str | Mapping, t: float) -> Reply | None:
        """A call event at ``t``: hold, resume, transfer, hangup; other types (CRM, disposition…) are only noted."""
        kind = event if isinstance(event, str) else str(event.get("type", ""))
        if self.ended:
            return None
        self.t = max(self.t, float(t))
        turn = _Turn(float(t), "event", kind, self.mood)
        if kind == "hold":
            if self.on_hold:
                return None
            self.on_hold = True
            self._hold_started, self._hold_elapsed = float(t), 0.0
            self._hold_announced = self._announced_last_turn
        elif kind == "resume":
            if not self.on_hold:
                return None
            self._resume(turn, float(t))
        elif kind == "transfer":
            if self.outcome == AGREED:
                self._end("transfer")
                turn.fragments.append(("transferred", ""))
            else:
                self._irritate(turn, "transfer_cold")
                self._end_with(turn, REFUSED, "transfer_cold")
        elif kind == "hangup":
            if self.outcome is None:
                self.outcome = REFUSED
            self._end("agent_hangup")
        self._log_turn(turn)
        return self._reply(turn) if turn.fragments else None

    def _resume(self, turn: _Turn, t: float) -> None:
        waited = max(t - self._hold_started, self._hold_elapsed)
        self.on_hold = False
        self._just_resumed = True
        if waited > self.persona.patience.hold_s:
            self._irritate(turn, "hold_long")
            if not self.ended:
                turn.add("hold_long", self._say("hold_long"))
        elif not self._hold_announced:
            self._irritate(turn, "hold_unannounced")
            if not self.ended:
                turn.add("hold_unannounced", self._say("hold_unannounced"))

    # --- mood, patience, the end ---------------------------------------------------------------------------

    def _move(self, delta: float) -> None:
        self.mood = min(MOOD_MAX, max(MOOD_MIN, self.mood + delta))

    def _irritate(self, turn: _Turn, reason: str, effect: str = "irritant") -> None:
        self.irritants.append(reason)
        turn.irritants.append(reason)
        self._move(self._effects[effect])
        if self.ended:
            return
        if len(self.irritants) >= self.persona.patience.irritants or self.mood <= MOOD_MIN:
            if self.persona.patience.on_exhausted == "supervisor":
                self._end_with(turn, ASKED_SUPERVISOR, "supervisor")
            else:
                self._end_with(turn, HUNG_UP, "hang_up")

    def _end_with(self, turn: _Turn, outcome: str, key: str | None) -> None:
        if self.ended:
            return
        self.outcome = outcome
        if key:
            turn.add(key, self._say(key))
        self._end(outcome)

    def _end(self, by: str) -> None:
        self.ended = True
        self.ended_by = by

    def _finish(self, turn: _Turn) -> Reply:
        if turn.fragments and self.persona.replies.get("tone_low") and self.mood <= -2 and self._rng.random() < 0.5:
            turn.fragments.insert(0, ("tone_low", self._say("tone_low")))
        elif turn.fragments and self.persona.replies.get("tone_high") and self.mood >= 2 and self._rng.random() < 0.3:
            turn.fragments.insert(0, ("tone_high", self._say("tone_high")))
        self._log_turn(turn)
        return self._log[-1].reply

    def _reply(self, turn: _Turn) -> Reply:
        return Reply(text=" ".join(text for _kind, text in turn.fragments if text),
                     kinds=tuple(kind for kind, _text in turn.fragments), mood=round(self.mood, 2),
                     outcome=self.outcome, ended=self.ended, language=self.persona.language)

    def _log_turn(self, turn: _Turn) -> None:
        reading = turn.reading
        self._log.append(LogEntry(
            t=turn.t, source=turn.source, text=turn.text, cues=reading.cues if reading else (),
            questions=tuple(s.question for s in reading.questions) if reading else (),
            revealed=tuple(turn.revealed), repeated=tuple(turn.repeated), reformulated=tuple(turn.reformulated),
            raised=tuple(turn.raised), answered=tuple(turn.answered), steps=tuple(turn.steps),
            irritants=tuple(turn.irritants), mood_before=round(turn.mood_before, 2), mood_after=round(self.mood, 2),
            reply=self._reply(turn)))

    # --- words ------------------------------------------------------------------------------------------------

    def _say(self, key: str, **extra: str) -> str:
        return self._say_from(key, self.persona.replies.get(key, ()), **extra)

    def _say_from(self, memo: str, templates: tuple[str, ...], **extra: str) -> str:
        """One of ``templates``, drawn with the seeded generator, never the same one twice in a row."""
        if not templates:
            return ""
        index = self._rng.randrange(len(templates))
        if len(templates) > 1 and self._last_template.get(memo) == index:
            index = (index + 1) % len(templates)
        self._last_template[memo] = index
        return self._fill(templates[index], **extra)

    def _fill(self, template: str, **extra: str) -> str:
        values = _Fill({k: v or "" for k, v in self._values.items()})
        values.update(extra)
        try:
            return string.Formatter().vformat(template, (), values).strip()
        except (ValueError, IndexError, KeyError):
            return template


def _asked_in(kind: str, folded: str, reading: Reading) -> bool:
    """Whether a question sentence is the one that carried a cue (who are you, does the moment suit,
    is it clear): those are answered by the identity, the opening, « c'est clair » — not by a fact."""
    words = reading.words(kind)
    return bool(words) and words in folded


def _identification_in(folded: str, reading: Reading) -> bool:
    return _asked_in(IDENTIFICATION, folded, reading)


# --- playing a whole call from a list of agent actions ----------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One thing the agent does: say a line, stay silent (or wait on hold) for a while, or an event."""

    say: str = ""
    silence: float = 0.0
    event: Mapping | None = None


def actions(items: Iterable) -> list[Action]:
    """Agent lines as written in test files and ``plateau scenarios play --script``: a text is a line;
    ``{say: …}``, ``{silence: 20}`` (or ``wait``), ``{event: hold}`` or ``{event: disposition, code: sale}``."""
    result = []
    for item in items:
        if isinstance(item, str):
            result.append(Action(say=item))
        elif isinstance(item, Mapping) and "say" in item:
            result.append(Action(say=str(item["say"])))
        elif isinstance(item, Mapping) and ("silence" in item or "wait" in item):
            result.append(Action(silence=float(item.get("silence", item.get("wait")))))
        elif isinstance(item, Mapping) and "event" in item:
            detail = {str(k): v for k, v in item.items() if k != "event"}
            result.append(Action(event={"type": str(item["event"]), **detail}))
        else:
            raise DomainError(N_("Action d'agent illisible : %(item)s (une phrase, {say: …}, {silence: n} ou "
                                 "{event: …})."), "script", item=str(item))
    return result


def speaking_time(text: str) -> float:
    return round(max(1.0, len(text.split()) / WORDS_PER_SECOND), 1)


@dataclass(frozen=True)
class Transcript:
    """A played call: the turns (t, speaker, text), the events, and the caller's final state."""

    turns: tuple[Mapping, ...]
    events: tuple[Mapping, ...]
    state: PersonaState
    duration: float

    @property
    def outcome(self) -> str | None:
        return self.state.outcome

    def lines(self) -> list[str]:
        """The call as a reader follows it: « [00:12] Conseiller : … », events in brackets."""
        rows = [(turn["t"], 0, n, f"{'Conseiller' if turn['speaker'] == 'agent' else 'Correspondant'} : {turn['text']}")
                for n, turn in enumerate(self.turns)]
        rows += [(event["t"], 1, n, f"[{event['type']}]") for n, event in enumerate(self.events)]
        return [f"[{int(t) // 60:02d}:{int(t) % 60:02d}] {text}" for t, _order, _n, text in sorted(rows)]

    def as_call(self, agent_name: str = "") -> dict:
        """The call in the evaluator's exchange format (CALL.json of ``plateau assess``)."""
        scenario = self.state.scenario
        return {"direction": scenario.direction, "company": {"name": scenario.company.name},
                "agent": {"name": agent_name or self.state.agent_name}, "scenario": scenario.code,
                "turns": [dict(turn) for turn in self.turns], "events": [dict(event) for event in self.events]}


class RolePlay:
    """A call being played: the caller, the clock (time runs as people speak, ``WORDS_PER_SECOND``,
    plus silences), and what was said and done. ``play`` and the terminal role play both drive it.

    ``wording(reply, turns)`` may give the caller's reply other words before it is said (the optional
    language model of ``services.llm``); what the caller does never changes."""

    def __init__(self, scenario: Scenario, seed: int, agent_name: str = "", wording=None):
        self.state = Persona.start(scenario, seed, agent_name)
        self.t = 0.0
        self.turns: list[dict] = []
        self.events: list[dict] = []
        self._wording = wording
        if self.state.first_words is not None:
            self._caller(self.state.first_words)

    def _caller(self, reply: Reply | None) -> Reply | None:
        if reply is not None and reply.text and self._wording is not None:
            reply = self._wording(reply, list(self.turns))
        if reply is not None and reply.text:
            self.turns.append({"t": round(self.t, 1), "speaker": "caller", "text": reply.text})
            self.t += speaking_time(reply.text) + 0.5
        return reply

    def act(self, action: Action) -> Reply | None:
        """Do one thing as the agent; the caller's answer (None when it says nothing)."""
        if action.say:
            self.turns.append({"t": round(self.t, 1), "speaker": "agent", "text": action.say})
            reply = self.state.on_agent_turn(action.say, self.t)
            self.t += speaking_time(action.say) + 0.5
            return self._caller(reply)
        if action.silence:
            self.t += action.silence
            return self._caller(self.state.on_silence(action.silence))
        if action.event is not None:
            self.events.append({"t": round(self.t, 1), **action.event})
            return self._caller(self.state.on_event(action.event, self.t))
        return None

    def hang_up(self) -> None:
        """The line is released: a ``hangup`` event closes the record (``by`` the agent, or the caller
        when it hung up, refused or asked for someone else), unless the call was transferred."""
        if any(event["type"] in ("hangup", "transfer") for event in self.events):
            return
        if not self.state.ended:
            self.act(Action(event={"type": "hangup", "by": "agent"}))
            return
        by = "agent" if self.state.ended_by in ("agent", "agent_hangup") else "caller"
        self.events.append({"t": round(self.t, 1), "type": "hangup", "by": by})

    def transcript(self) -> Transcript:
        return Transcript(turns=tuple(self.turns), events=tuple(self.events), state=self.state,
                          duration=round(self.t, 1))


def play(scenario: Scenario, seed: int, items: Iterable, agent_name: str = "") -> Transcript:
    """Play a call from the agent's actions; the agent hangs up after the last one if the call is still on.

    The same scenario, seed and actions always give the same transcript."""
    call = RolePlay(scenario, seed, agent_name)
    for action in actions(items):
        if call.state.ended:
            break
        call.act(action)
    call.hang_up()
    return call.transcript()


__all__ = [
    "ASKED_SUPERVISOR", "AGREED", "Action", "EFFECTS", "HUNG_UP", "IRRITANTS", "LogEntry", "MOOD_BANDS", "Persona",
    "PersonaState", "REFUSED", "Reply", "RolePlay", "Transcript", "actions", "play", "speaking_time",
]
