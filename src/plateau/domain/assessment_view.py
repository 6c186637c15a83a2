"""A call read once for the checks: sentences, normalised text, questions, phases, the caller's words.

The checks (``domain.assessment_checks``) ask the same questions over and
over — is this a proposal? a reformulation? what did the caller just say
that the agent had not? — so ``CallView`` computes each answer once per call
and keeps it. How it reads French is documented in ``docs/assessment.md``
(« How the call is read ») and in ``domain.assessment_language``:

- a *question* is a sentence ending with « ? »; it is sorted into consent,
  feedback, asking for someone, leading, part of a proposal, or information;
- *reusing* the caller's words (the content words of their last turn that
  the agent had not said before) shows that the agent listened: it is how a
  reformulation without a set phrase, or a question that follows up, is seen;
- the phases: the opening (the agent's first turns), the conversation proper
  (once the caller has said enough: ``min_caller_turns``), the proposal and
  what follows it, the last turns; and whether the person asked for was
  there at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .assessment_call import AGENT, CALLER, CallEvent, CallRecord, Targets, Turn
from .assessment_language import CueList, has_clock_time, is_question, normalise, sentences
from .assessment_results import Evidence
from .assessment_settings import AssessmentSettings


@dataclass(frozen=True)
class Found:
    """A cue found in a turn: which sentence, the exact sentence (for the quote), the expression."""

    turn: Turn
    sentence: int
    text: str
    match: str


class CallView:
    """A call with what every check needs precomputed: sentences, normalised text, phases.

    Matching results are memoised per (cue list, turn), so checks that look for
    the same expressions (a proposal, a reformulation) pay once."""

    def __init__(self, call: CallRecord, settings: AssessmentSettings, targets: Targets | None = None):
        self.call = call
        self.settings = settings
        self.p = settings.params
        self.targets = call.targets.merged(targets)
        self.turns = call.turns
        self.sentences = [sentences(turn.text) for turn in self.turns]
        self.normalised = [[normalise(s) for s in parts] for parts in self.sentences]
        # a turn's words are its sentences' words: no need to fold the text twice
        self.whole = [" " + " ".join(n.strip() for n in parts if n.strip()) + " " for parts in self.normalised]
        self.agent = [turn for turn in self.turns if turn.speaker == AGENT]
        self.caller = [turn for turn in self.turns if turn.speaker == CALLER]
        self.events = tuple(sorted(call.events, key=lambda e: (e.t, e.index)))
        self._memo: dict[tuple, object] = {}
        self._stems: dict[str, set[str]] = {}

    # -- cues --------------------------------------------------------------------------------
    def cue(self, name: str) -> CueList:
        return self.settings.cue(name)

    def find(self, name: str | CueList, turn: Turn, questions_only: bool = False) -> Found | None:
        """The first sentence of ``turn`` where the cue list matches (a question, if asked)."""
        cues = self.cue(name) if isinstance(name, str) else name
        key = (cues.name if isinstance(name, str) else f"#{id(cues)}", turn.index, questions_only)
        if key in self._memo:
            return self._memo[key]
        found = None
        if cues.search(self.whole[turn.index]) is not None:
            for number, (raw, norm) in enumerate(zip(self.sentences[turn.index], self.normalised[turn.index])):
                if questions_only and not is_question(raw):
                    continue
                match = cues.search(norm)
                if match is not None:
                    found = Found(turn, number, raw, match)
                    break
        self._memo[key] = found
        return found

    def questions(self, turn: Turn) -> list[int]:
        return [n for n, raw in enumerate(self.sentences[turn.index]) if is_question(raw)]

    def words(self, turn: Turn) -> int:
        return len(self.whole[turn.index].split())

    # -- content words ---------------------------------------------------------------------
    def stems(self, normalised: str) -> set[str]:
        found = self._stems.get(normalised)
        if found is None:
            size, length = self.p.content_word_min_length, self.p.stem_length
            stop = self.settings.stopwords
            found = self._stems[normalised] = {word[:length] for word in normalised.split()
                                               if len(word) >= size and word not in stop and not word.isdigit()}
        return found

    @cached_property
    def _turn_stems(self) -> list[set[str]]:
        return [self.stems(text) for text in self.whole]

    def new_from_caller(self, caller_turn: Turn) -> set[str]:
        """The caller's content words in this turn that the agent had not said in the turn before."""
        stems = set(self._turn_stems[caller_turn.index])
        previous = self.previous(caller_turn, AGENT)
        if previous is not None:
            stems -= self._turn_stems[previous.index]
        return stems

    def shared(self, sentence_norm: str, caller_turn: Turn) -> set[str]:
        return self.stems(sentence_norm) & self.new_from_caller(caller_turn)

    # -- navigation ------------------------------------------------------------------------------
    def previous(self, turn: Turn, speaker: str | None = None) -> Turn | None:
        for index in range(turn.index - 1, -1, -1):
            candidate = self.turns[index]
            if speaker is None or candidate.speaker == speaker:
                return candidate
        return None

    def following(self, turn: Turn, speaker: str, limit: int | None = None) -> list[Turn]:
        found = [t for t in self.turns[turn.index + 1:] if t.speaker == speaker]
        return found[:limit] if limit is not None else found

    def reply_to(self, turn: Turn) -> Turn | None:
        """The caller's turn right after an agent's turn (None if the agent spoke again or nothing followed)."""
        if turn.index + 1 < len(self.turns) and self.turns[turn.index + 1].speaker == CALLER:
            return self.turns[turn.index + 1]
        return None

    # -- phases ---------------------------------------------------------------------------------
    @cached_property
    def engaged(self) -> bool:
        """The conversation got going: the caller said enough for discovery to be judged."""
        return len(self.caller) >= self.p.min_caller_turns

    @cached_property
    def target_absent(self) -> Found | None:
        """The agent asked for someone who turned out to be absent (a switchboard, a colleague)."""
        asked = [t for t in self.agent[:2] if self.find("ask_for_person", t, questions_only=False)]
        if not asked:
            return None
        for turn in [t for t in self.caller[:3] if t.index > asked[0].index]:
            found = self.find("absent", turn)
            if found:
                return found
        return None

    @property
    def conversation(self) -> bool:
        return self.engaged and self.target_absent is None

    # -- what the agent's sentences are -----------------------------------------------------------
    def _memoised(self, key: tuple, compute):
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def is_proposal_turn(self, turn: Turn) -> Found | None:
        """The agent proposes an action: « je vous propose … un rendez-vous / de vous rappeler … »."""
        return self._memoised(("#proposal", turn.index, False), lambda: self._proposal_turn(turn))

    def _proposal_turn(self, turn: Turn) -> Found | None:
        if turn.speaker != AGENT:
            return None
        offer = self.find("proposal", turn)
        if offer is not None and self.cue("action").search(self.whole[turn.index]) is not None:
            return offer
        return None

    def is_slot_offer(self, turn: Turn) -> Found | None:
        """A time offered to choose from (« mardi à 9 h ou jeudi à 9 h 30 ? »)."""
        return self._memoised(("#slot", turn.index, False), lambda: self._slot_offer(turn))

    def _slot_offer(self, turn: Turn) -> Found | None:
        if turn.speaker != AGENT:
            return None
        for number, (raw, norm) in enumerate(zip(self.sentences[turn.index], self.normalised[turn.index])):
            if not self.mentions_slot(norm):
                continue
            if is_question(raw) or " ou " in norm:
                return Found(turn, number, raw, "")
        return None

    def mentions_slot(self, normalised: str) -> bool:
        """A day, a date or a time of day in figures: what a slot offered or agreed names."""
        return has_clock_time(normalised) or normalised in self.cue("slot_words")

    def mentions_time(self, normalised: str) -> bool:
        return self.mentions_slot(normalised) or normalised in self.cue("time_words")

    def is_offer_turn(self, turn: Turn) -> bool:
        """A proposal, or (once an action is booked) a choice of slots: its questions pick an option."""
        return bool(self.is_proposal_turn(turn) or (self._action_done and self.is_slot_offer(turn)))

    @cached_property
    def _action_done(self) -> bool:
        return bool(self.call.events_of("appointment", "callback", "payment_plan", "sale"))

    def sentence_kind(self, turn: Turn, number: int) -> str:
        """What an agent's question is: consent, feedback, proposal, offer, person, leading or info.

        A tag (« …, c'est ça ? ») makes a feedback question only when the sentence is short or
        takes up what the caller said: « vous êtes couvert par votre entreprise, c'est ça ? »
        after « fin mars » is a closed question for information."""
        return self._memoised(("#kind", turn.index, number), lambda: self._sentence_kind(turn, number))

    def _sentence_kind(self, turn: Turn, number: int) -> str:
        norm = self.normalised[turn.index][number]
        for kind in ("consent", "ask_for_person", "leading"):
            if self.cue(kind).search(norm):
                return kind
        if self.cue("feedback").search(norm) and (len(norm.split()) <= 6 or self._echoes(turn, norm)):
            return "feedback"
        if self.cue("proposal").search(norm) or self.cue("offer").search(norm):
            return "proposal"
        if self.reformulation_in(turn, number):
            return "feedback"
        return "info"

    def _echoes(self, turn: Turn, norm: str) -> bool:
        caller_turn = self.previous(turn)
        return caller_turn is not None and caller_turn.speaker == CALLER and bool(self.shared(norm, caller_turn))

    def info_questions(self, turn: Turn) -> list[int]:
        """Questions asking for information; those of a proposal turn choose among its options."""
        if self.is_offer_turn(turn):
            return []
        return [n for n in self.questions(turn) if self.sentence_kind(turn, n) == "info"]

    def reformulation_in(self, turn: Turn, number: int) -> bool:
        """This sentence restates what the caller just said: a set phrase, or two of their new words."""
        return self._memoised(("#restated", turn.index, number), lambda: self._reformulation_in(turn, number))

    def _reformulation_in(self, turn: Turn, number: int) -> bool:
        norm = self.normalised[turn.index][number]
        if self.cue("reformulation").search(norm):
            return True
        caller_turn = self.previous(turn)
        if caller_turn is None or caller_turn.speaker != CALLER:
            return False
        if self.cue("proposal").search(norm) or self.cue("open_question").search(norm):
            return False  # a follow-up question, not a restatement
        return len(self.shared(norm, caller_turn)) >= self.p.reformulation_shared_words

    def reformulations(self) -> list[Found]:
        found = []
        for turn in self.agent:
            for number, raw in enumerate(self.sentences[turn.index]):
                if self.reformulation_in(turn, number):
                    found.append(Found(turn, number, raw, ""))
                    break
        return found

    def substantive(self, reply: Turn | None) -> bool:
        """A real answer: enough words, not « je ne sais pas » nor a refusal to say."""
        if reply is None or self.is_non_answer(reply):
            return False
        return self.words(reply) >= self.p.substantive_answer_words

    def is_non_answer(self, reply: Turn) -> bool:
        """« Je ne sais pas », « non merci » said briefly, or every sentence a question back
        (« Pardon ? Qui êtes-vous ? ») or a way of not answering (« je sais pas, c'est pas à moi de… »)."""
        if self.words(reply) <= self.p.non_answer_max_words and (
                self.find("non_answer", reply) or self.find("refusal", reply)):
            return True
        dodge = (self.cue("non_answer"), self.cue("refusal"))
        return all(is_question(raw) or any(cues.search(norm) for cues in dodge)
                   for raw, norm in zip(self.sentences[reply.index], self.normalised[reply.index]))

    def reservations(self, objections_only: bool = False) -> list[Found]:
        """Caller turns voicing an objection (or, unless told, a hesitation) that the agent could answer."""
        found = []
        for turn in self.caller:
            if not self.following(turn, AGENT, 1):
                continue  # the call ended on it: nothing could be done
            hit = self.find("objection", turn)
            if hit is None:
                hit = self._short_objection(turn)
            if hit is None and not objections_only:
                hit = self.find("hesitation", turn)
                if hit is None and self.words(turn) <= self.p.short_reply_words:
                    hit = self.find("short_hesitation", turn)
            if hit is not None:
                found.append(hit)
        return found

    def _short_objection(self, turn: Turn) -> Found | None:
        """« Le prix, aussi. » : a concern named in a very short sentence."""
        for number, (raw, norm) in enumerate(zip(self.sentences[turn.index], self.normalised[turn.index])):
            if len(norm.split()) <= self.p.short_reply_words:
                match = self.cue("short_objection").search(norm)
                if match is not None:
                    return Found(turn, number, raw, match)
        return None

    def checks_understanding(self, turn: Turn) -> bool:
        """A reformulation put to the caller: restated as a question, or followed by « c'est bien ça ? »."""
        restated = [n for n in range(len(self.sentences[turn.index])) if self.reformulation_in(turn, n)]
        if not restated:
            return False
        return any(is_question(self.sentences[turn.index][n]) for n in restated) or any(
            self.cue("feedback").search(self.normalised[turn.index][n]) for n in self.questions(turn))

    def probes(self, reservation: Found, window: int) -> Found | None:
        """A question in the agent's next turns that invites the caller to say more about a reservation."""
        for turn in self.following(reservation.turn, AGENT, window):
            if self.is_offer_turn(turn):
                continue  # « … mardi ou jeudi : qu'est-ce qui vous arrange ? » belongs to the proposal
            for number in self.questions(turn):
                kind = self.sentence_kind(turn, number)
                if kind in ("feedback", "proposal", "consent"):
                    continue
                norm = self.normalised[turn.index][number]
                if self.cue("probe").search(norm) or self.stems(norm) & self.new_from_caller(reservation.turn):
                    return Found(turn, number, self.sentences[turn.index][number], "")
        return None

    def elicitations(self) -> list[Found]:
        return [hit for turn in self.agent if (hit := self.find("elicit", turn, questions_only=True))]

    def proposals(self) -> list[Found]:
        found = []
        for turn in self.agent:
            hit = self.is_proposal_turn(turn) or (self._action_done and self.is_slot_offer(turn))
            if hit:
                found.append(hit)
        return found

    # -- evidence ------------------------------------------------------------------------------------
    def quote(self, found: Found, what: str | None = None) -> Evidence:
        turn = found.turn
        text = turn.text if len(turn.text) <= 240 else found.text
        return Evidence("turn", turn.t, speaker=turn.speaker, quote=text, turn=turn.index, what=what)

    def quote_turn(self, turn: Turn, what: str | None = None) -> Evidence:
        return self.quote(Found(turn, 0, self.sentences[turn.index][0], ""), what)

    @staticmethod
    def event(event: CallEvent, what: str | None = None) -> Evidence:
        return Evidence("event", event.t, type=event.type, event=event.index, what=what)


__all__ = ["CallView", "Found"]
