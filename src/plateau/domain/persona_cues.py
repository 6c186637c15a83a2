"""What a simulated caller hears in an agent's turn: the French language rules of the trade.

A trainee's sentence is read the way a trainer listens to it: did the agent
greet, name the company and themselves, ask who is calling, ask open, closed
or alternative questions, reformulate, show empathy, make a proposal, sum up,
take leave, announce a hold or a transfer — or were they rude, did they use a
word the company bans? ``read`` answers with a ``Reading``: the turn split into
sentences (each with its question type) and the cues found, each with the
words that triggered it, so that an explanation (and later the evaluator) can
quote them.

The rules are written for spoken French as trainees type it (accents and
case optional, « ? » sometimes missing), with the English equivalents for the
English-speaking caller (MC ACVD S5) and the usual Arabic greetings and
transliterations for the caller who prefers Arabic. Patterns are matched on a
folded copy of the text (``normalise``: no accents, lower case, punctuation
as spaces except « ? »).

Scenario files write their own cues (what reveals a fact, what answers an
objection) in a small notation compiled by ``compile_cue``: words, ``*`` at
the end of a word for any ending (« factur* »), ``|`` between alternatives,
`` + `` between parts that must all be present in any order
(« disjoncteur + baiss*|abaiss* »).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from unidecode import unidecode

from .errors import N_

# --- cue kinds ---------------------------------------------------------------------------------

GREETING = "greeting"
COMPANY = "company"                   # the company's name is said
AGENT_NAME = "agent_name"             # the agent says who they are
IDENTIFICATION = "identification"     # asks or checks who the caller is
PURPOSE = "purpose"                   # outbound: says why they call
PERMISSION = "permission"             # outbound: asks whether the moment suits
OPEN_QUESTION = "open_question"
CLOSED_QUESTION = "closed_question"
ALTERNATIVE_QUESTION = "alternative_question"
REFORMULATION = "reformulation"
FEEDBACK = "feedback"                 # checks the caller follows (« est-ce clair pour vous ? »)
EMPATHY = "empathy"
PROPOSAL = "proposal"
RECAP = "recap"
THANKS = "thanks"
HOLD_ANNOUNCE = "hold_announce"
HOLD_THANKS = "hold_thanks"
TRANSFER_ANNOUNCE = "transfer_announce"
LEAVE_TAKING = "leave_taking"
RUDENESS = "rudeness"
TUTOIEMENT = "tutoiement"
BANNED_WORD = "banned_word"
ENGLISH = "english"
ARABIC = "arabic"

#: every kind a scenario may name (in ``agree_when.cues``, ``needs``, ``when: {cue: …}``), with its French label
CUE_LABELS = {
    GREETING: N_("salutation"),
    COMPANY: N_("nom de l'entreprise"),
    AGENT_NAME: N_("présentation du conseiller"),
    IDENTIFICATION: N_("identification de l'interlocuteur"),
    PURPOSE: N_("annonce de l'objet de l'appel"),
    PERMISSION: N_("demande d'accord pour poursuivre"),
    OPEN_QUESTION: N_("question ouverte"),
    CLOSED_QUESTION: N_("question fermée"),
    ALTERNATIVE_QUESTION: N_("question alternative"),
    REFORMULATION: N_("reformulation"),
    FEEDBACK: N_("vérification de la compréhension"),
    EMPATHY: N_("empathie"),
    PROPOSAL: N_("proposition"),
    RECAP: N_("récapitulatif"),
    THANKS: N_("remerciement"),
    HOLD_ANNOUNCE: N_("annonce de mise en attente"),
    HOLD_THANKS: N_("remerciement après l'attente"),
    TRANSFER_ANNOUNCE: N_("annonce du transfert"),
    LEAVE_TAKING: N_("prise de congé"),
    RUDENESS: N_("propos désobligeant"),
    TUTOIEMENT: N_("tutoiement"),
    BANNED_WORD: N_("mot à bannir"),
    ENGLISH: N_("anglais"),
    ARABIC: N_("arabe"),
}
CUE_KINDS = tuple(CUE_LABELS)

QUESTION_KINDS = {"open": OPEN_QUESTION, "closed": CLOSED_QUESTION, "alternative": ALTERNATIVE_QUESTION}


# --- normalisation ---------------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[^a-z0-9?]+")
_ARABIC_SCRIPT = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")


@lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """« Qu'est-ce qui s'est passé ? » → « qu est ce qui s est passe ? »: what every pattern is matched on."""
    return " ".join(_NOT_WORD.sub(" ", unidecode(text or "").lower()).split())


def _rx(*alternatives: str) -> re.Pattern:
    """Alternatives (already folded regex pieces) as one pattern with word boundaries on both sides."""
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(alternatives) + r")(?![a-z0-9])")


# --- the rules ---------------------------------------------------------------------------------------

GREETING_RX = _rx(r"bonjour", r"bonsoir", r"bon apres midi", r"salut", r"hello", r"hi", r"good (?:morning|afternoon|evening)",
                  r"salam\w*", r"assalam\w*", r"as salam\w*", r"marhaba", r"ahlan", r"sbah (?:el )?(?:l)?khir")
AGENT_INTRO_RX = _rx(r"je m appelle \w+", r"mon nom est \w+", r"\w+ a votre ecoute", r"a votre ecoute", r"moi c est \w+",
                     r"my name is \w+", r"this is \w+", r"\w+ speaking", r"je suis \w+ (?:d|de|du|au|chez|pour)",
                     r"ici \w+ (?:d|de|du)")
IDENTIFICATION_RX = _rx(
    r"numero (?:de )?client", r"reference client", r"numero de (?:contrat|compte|dossier)", r"votre (?:nom|prenom)",
    r"vos nom et prenom", r"nom du titulaire", r"titulaire du contrat", r"votre identite", r"date de naissance",
    r"code postal", r"votre adresse", r"a qui ai je", r"qui ai je l honneur", r"de la part de qui",
    r"c est de la part", r"vous etes bien", r"suis je bien", r"je suis bien (?:avec|chez)", r"etes vous bien",
    r"je parle bien (?:a|avec)", r"parler a (?:monsieur|madame|m|mme)", r"customer (?:number|reference)",
    r"account number", r"your (?:full )?name", r"date of birth", r"post ?code", r"am i speaking (?:to|with)",
    r"confirm your (?:name|address|identity)", r"vos coordonnees", r"la personne (?:qui s occupe|en charge|responsable)",
    r"(?:le|la) (?:responsable|gerant|gerante|directeur|directrice) (?:des|de l|de la|du)", r"qui suis je en ligne",
    r"avec qui (?:ai je|je parle)", r"who am i speaking (?:to|with)", r"can i have your name")
PURPOSE_RX = _rx(r"je vous appelle", r"je vous contacte", r"je vous telephone", r"l objet de mon appel",
                 r"le but de mon appel", r"le motif de mon appel", r"je me permets de vous (?:appeler|contacter|deranger)",
                 r"je vous appelais", r"i m calling", r"i am calling", r"the reason (?:for|of) my call")
PERMISSION_RX = _rx(r"(?:avez|auriez) vous (?:quelques|deux|trois|cinq|un|une) (?:minutes?|instants?|moment)",
                    r"vous avez (?:quelques|deux|trois|cinq|un) (?:minutes?|instants?|moment)",
                    r"(?:est ce que )?je vous derange", r"je ne vous derange pas", r"c est un bon moment",
                    r"est ce (?:le|un) bon moment", r"m accorder (?:quelques|deux|trois|cinq) minutes",
                    r"(?:pouvez|pourriez) vous m accorder", r"c est le bon moment",
                    r"do you have (?:a|a few|two|five) (?:minutes?|moments?)", r"is (?:this|it) a good time")
OPEN_START_RX = re.compile(r"^(?:comment|pourquoi|quel|quelle|quels|quelles|combien|quand|ou|qui|que|quoi|lequel|"
                           r"laquelle|a quel|a quelle|de quel|de quelle|depuis quand|depuis combien|what|why|how|which|"
                           r"when|where|who)(?![a-z0-9])")
OPEN_ANY_RX = _rx(r"qu est ce qu\w*", r"de quelle (?:maniere|facon)", r"en quoi", r"de quoi", r"pour quelle raison",
                  r"racontez(?: moi)?", r"expliquez moi", r"decrivez(?: moi)?", r"dites moi", r"parlez moi",
                  r"precisez moi", r"je vous ecoute", r"que puis je", r"que pensez vous", r"qu en pensez vous",
                  r"(?:pouvez|pourriez) vous (?:me |m |nous )?(?:decrire|expliquer|raconter|preciser|detailler)",
                  r"(?:m|nous) en dire (?:plus|davantage)", r"dites m en (?:plus|davantage)",
                  r"(?:me|nous) dire (?:ce|comment|pourquoi|quel|quelle|quels|quelles|ou|combien|quand|qui|a quel)",
                  r"tell me", r"describe", r"explain", r"what", r"why", r"how", r"which")
PROMPT_RX = _rx(r"racontez(?: moi)?", r"expliquez moi", r"decrivez(?: moi)?", r"dites moi", r"parlez moi",
                r"precisez moi", r"je vous ecoute", r"tell me", r"describe", r"explain")
INVERSION_START_RX = re.compile(
    r"^(?:est ce qu\w*|avez vous|etes vous|pouvez vous|voulez vous|souhaitez vous|desirez vous|preferez vous|"
    r"acceptez vous|auriez vous|seriez vous|pourriez vous|voudriez vous|connaissez vous|savez vous|habitez vous|"
    r"utilisez vous|payez vous|"
    r"(?:do|does|did|are|is|can|could|would|will|have|has|shall|may) (?:you|i|we|they|it|he|she|there|that|this))"
    r"(?![a-z0-9])")
ALTERNATIVE_RX = re.compile(r"(?<![\wà-ÿ])(?:ou|or)\s+(?!pas\b|non\b|not\b|autre chose\b|bien\b|rien\b)\w")
REFORMULATION_RX = _rx(
    r"si je (?:vous )?comprends bien", r"si j ai bien compris", r"si je vous ai bien compris", r"vous me dites que",
    r"vous m avez dit que", r"vous m indiquez que", r"autrement dit", r"en d autres termes", r"vous voulez dire",
    r"si je vous suis bien", r"je reformule", r"pour etre sur d avoir bien compris", r"pour etre sure d avoir bien compris",
    r"c est bien (?:ca|cela)", r"c est bien ce que", r"donc vous (?:avez|etes|souhaitez|voulez|pouvez|payez|habitez)",
    r"vous souhaitez donc", r"vous voulez donc", r"vous avez donc", r"vous etes donc", r"vous pouvez donc",
    r"if i understand(?: you)? correctly", r"so you (?:re|are|want|need|have|will|would)", r"in other words",
    r"let me make sure", r"just to confirm", r"is that (?:right|correct)")
EMPATHY_RX = _rx(
    r"je (?:vous )?comprends", r"je comprends (?:bien |tout a fait )?votre \w+", r"je comprends tout a fait",
    r"je suis (?:vraiment |sincerement |tres )?(?:desole|desolee|navre|navree)", r"toutes nos excuses",
    r"(?:je|nous) vous (?:presente|presentons|prie d accepter) (?:nos|mes|toutes nos) excuses",
    r"veuillez (?:nous |m )?excuser", r"je m excuse", r"nous nous excusons",
    r"c est (?:tout a fait )?(?:normal|legitime|comprehensible) que vous", r"a votre place", r"je mesure",
    r"je vous rassure", r"rassurez vous", r"je m en occupe", r"je vais m en occuper", r"je m occupe personnellement",
    r"ne vous inquietez pas", r"c est (?:vraiment |effectivement |tres )?(?:desagreable|penible|agacant|genant|"
    r"inquietant|stressant)", r"je vous entends", r"i understand", r"i m sorry", r"i am sorry", r"i apologi[sz]e",
    r"don t worry", r"i can imagine")
FEEDBACK_RX = _rx(r"(?:est ce que )?c est (?:clair|bon) pour vous", r"est ce clair", r"c est clair", r"vous me suivez",
                  r"ai je ete (?:clair|claire)", r"(?:avez|auriez) vous (?:des|d autres) questions",
                  r"vous avez (?:des|d autres) questions", r"vous comprenez", r"ca vous parait clair",
                  r"(?:est ce que )?(?:ca|cela) vous (?:va|parait clair)", r"je suis clair", r"je suis claire",
                  r"is that clear", r"does that make sense", r"any (?:other )?questions", r"are you with me")
PROPOSAL_RX = _rx(
    r"je (?:vous )?propose", r"je vous (?:la|le|les) propose", r"je peux vous proposer", r"je vais vous proposer",
    r"je voudrais vous proposer",
    r"nous (?:pouvons|pourrions) vous proposer", r"je vous suggere", r"je vous conseille", r"je vous recommande",
    r"que diriez vous", r"que pensez vous (?:de|d)", r"ca vous (?:dirait|interesse|irait|convient)",
    r"(?:cela|ceci) vous (?:convient|interesse|irait)", r"seriez vous (?:interesse|interessee|d accord)",
    r"est ce que (?:ca|cela) vous (?:convient|irait|interesse)", r"(?:on|nous) (?:peut|pouvons) (?:mettre en place|convenir|"
    r"prevoir|fixer|organiser|etaler)", r"je peux (?:mettre en place|vous faire|vous envoyer|vous inscrire|activer|"
    r"programmer|organiser|vous rappeler|fixer|reserver|vous reserver|enregistrer|vous ouvrir)",
    r"je vous (?:offre|reserve)", r"i (?:can )?(?:suggest|propose|recommend|offer)",
    r"i can (?:set up|send|arrange|book|open|sign you up)", r"would you like", r"how about")
RECAP_RX = _rx(r"je recapitule", r"pour recapituler", r"recapitulons", r"je resume", r"pour resumer", r"en resume",
               r"si je resume", r"je vous confirme", r"pour confirmer", r"je vous redis", r"to sum up",
               r"to summari[sz]e", r"let me recap", r"so to confirm", r"i confirm")
THANKS_RX = _rx(r"merci", r"je vous remercie", r"thank you", r"thanks", r"choukran", r"chokran", r"shukran")
HOLD_THANKS_RX = _rx(r"merci (?:de|pour) (?:votre|cette) (?:patience|attente)", r"merci d avoir patiente",
                     r"merci de m avoir attendu", r"je vous remercie (?:de|pour) (?:votre )?(?:patience|attente)",
                     r"thank you for (?:your patience|waiting|holding)", r"merci de votre patience")
HOLD_ANNOUNCE_RX = _rx(r"je vous (?:mets|met|place) en attente", r"(?:puis je|je peux|je vais) vous mettre en attente",
                       r"ne quittez pas", r"patientez", r"un (?:petit )?instant s il vous plait",
                       r"quelques (?:instants|secondes)", r"restez en ligne", r"please hold", r"bear with me",
                       r"one moment", r"hold the line", r"je vais verifier", r"je verifie")
TRANSFER_RX = _rx(r"je (?:vous )?(?:transfere|transmets votre appel|passe votre appel)", r"je vais vous transferer",
                  r"je vous mets en relation", r"je vais vous mettre en relation", r"transferer votre appel",
                  r"mettre en relation", r"je vous passe (?:le|la|un|une|mon|ma) (?:service|conseill\w*|collegue|"
                  r"responsable)", r"i ll transfer you", r"i will transfer", r"put you through",
                  r"transfer your call", r"connect you (?:to|with)")
LEAVE_RX = _rx(r"au revoir", r"bonne (?:journee|soiree|fin de journee|fin d apres midi|apres midi|continuation|semaine|"
               r"fin de semaine)", r"a bientot", r"a tres bientot", r"goodbye", r"good bye",
               r"have a (?:nice|good|great|lovely) (?:day|evening|afternoon|weekend)", r"bye", r"bslama", r"besslama",
               r"beslama", r"ma a salama", r"bissalama")
RUDENESS_RX = _rx(
    r"calmez vous", r"vous avez tort", r"vous avez mal compris", r"c est pas (?:mon|notre) (?:probleme|affaire)",
    r"ce n est pas (?:mon|notre) (?:probleme|affaire)", r"c est pas de (?:ma|notre) faute", r"debrouillez vous",
    r"n importe quoi", r"taisez vous", r"tais toi", r"la ferme", r"ta gueule", r"vous (?:ne )?comprenez rien",
    r"c est (?:de )?votre faute", r"vous n avez qu a", r"j ai pas que ca a faire", r"je n ai pas que ca a faire",
    r"vous etes (?:bete|idiot|stupide|penible|lourd|lourde|sourd|sourde)", r"idiot", r"imbecile", r"cretin", r"abruti",
    r"connard", r"merde", r"putain", r"degage", r"fichez moi la paix", r"foutez moi la paix", r"shut up", r"stupid",
    r"not my problem", r"whatever", r"get lost", r"calm down", r"tant pis pour vous", r"c est votre probleme")
TUTOIEMENT_RX = _rx(r"tu", r"toi", r"t as", r"t es", r"t inquiete", r"ta (?:facture|commande|demande|situation|question)",
                    r"ton (?:compteur|contrat|numero|dossier)")
ARABIC_WORDS_RX = _rx(r"salam\w*", r"assalam\w*", r"alaykoum", r"alaikoum", r"alaykum", r"alikoum", r"marhaba", r"ahlan",
                      r"chokran", r"choukran", r"shukran", r"inchallah", r"hamdoulillah", r"labas", r"bslama",
                      r"besslama", r"iyeh", r"naam", r"wakha", r"smahli", r"smehli", r"mezyan", r"bezzaf", r"daba",
                      r"khalti", r"lalla", r"hajja", r"sbah (?:el )?(?:l)?khir", r"msa (?:el )?(?:l)?khir", r"yallah",
                      r"bi (?:l )?arabiya", r"bel arbiya", r"b darija", r"bdarija", r"darija")

_EN_WORDS = frozenset("the you your is are i my can please what how do have will this that with for and to of it "
                      "we yes hello sorry would could help me our may here there be".split())
_FR_WORDS = frozenset("le la les vous votre vos je de des est et pour que qui une un avec pas ce c j d l qu du au sur "
                      "mon ma nous il elle oui bonjour merci tres bien quel quelle a y en ne si me m".split())


# --- cues from scenario files -------------------------------------------------------------------------


class CueSyntaxError(ValueError):
    """A cue a scenario file wrote that cannot be compiled (empty part, stray character)."""


_CUE_WORD = re.compile(r"^[a-z0-9]+\*?$")


@lru_cache(maxsize=8192)
def compile_cue(cue: str) -> tuple[re.Pattern, ...]:
    """« disjoncteur + baiss*|abaiss* » → one pattern per part (all must match, in any order)."""
    parts = []
    for part in cue.split(" + "):
        alternatives = []
        for alternative in part.split("|"):
            words = unidecode(alternative).lower().replace("'", " ").replace("’", " ").replace("-", " ").split()
            if not words or not all(_CUE_WORD.match(w) for w in words):
                raise CueSyntaxError(cue)
            alternatives.append(r"\s+".join(re.escape(w[:-1]) + r"[a-z0-9]*" if w.endswith("*") else re.escape(w)
                                            for w in words))
        parts.append(_rx(*alternatives))
    return tuple(parts)


def match_cue(cue: str, folded: str) -> str | None:
    """The words of ``folded`` that satisfy ``cue`` (joined by « … »), or None."""
    found = []
    for pattern in compile_cue(cue):
        hit = pattern.search(folded)
        if hit is None:
            return None
        found.append(hit.group(0))
    return " … ".join(found)


def match_any(cues: tuple[str, ...], folded: str) -> str | None:
    """The first of ``cues`` found in ``folded`` (its matched words), or None."""
    for cue in cues:
        hit = match_cue(cue, folded)
        if hit is not None:
            return hit
    return None


def cue_error(cue: str) -> bool:
    """True when a scenario's cue cannot be compiled (for the file checks)."""
    try:
        compile_cue(cue)
    except CueSyntaxError:
        return True
    return False


# --- reading a turn ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cue:
    """A cue heard in a turn: its kind and the words that triggered it (folded)."""

    kind: str
    words: str


@dataclass(frozen=True)
class Sentence:
    """One sentence of the turn: as typed, folded, and its question type (open, closed, alternative, or None)."""

    text: str
    folded: str
    question: str | None = None
    reformulation: bool = False


@dataclass(frozen=True)
class Reading:
    """What the caller heard: the sentences, the cues in order of kind, and the language spoken."""

    text: str
    folded: str
    sentences: tuple[Sentence, ...]
    cues: tuple[Cue, ...]
    language: str | None

    def has(self, kind: str) -> bool:
        return any(cue.kind == kind for cue in self.cues)

    def words(self, kind: str) -> str | None:
        return next((cue.words for cue in self.cues if cue.kind == kind), None)

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cue.kind for cue in self.cues))

    @property
    def questions(self) -> tuple[Sentence, ...]:
        """The sentences that ask something (reformulations, which check rather than ask, left out)."""
        return tuple(s for s in self.sentences if s.question and not s.reformulation)

    @property
    def asks(self) -> bool:
        return bool(self.questions)


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def split_sentences(text: str) -> list[str]:
    return [piece.strip() for piece in _SENTENCE_END.split(text or "") if piece and piece.strip()]


def question_kind(raw: str, folded: str) -> str | None:
    """open / closed / alternative for a question, None for a statement.

    A question ends with « ? », starts with an interrogative word or an
    inversion (« avez-vous », « est-ce que »), or is a prompt to speak
    (« racontez-moi », « je vous écoute »). An alternative question offers
    choices joined by « ou » (not « ou pas », not « où »); an open one uses an
    interrogative word or a prompt; any other question is closed."""
    body = folded.rstrip("? ").strip()
    asked = raw.rstrip().endswith("?") or bool(OPEN_START_RX.search(body)) or bool(INVERSION_START_RX.search(body))
    prompt = bool(PROMPT_RX.search(body))
    if not (asked or prompt):
        return None
    if asked and ALTERNATIVE_RX.search(raw.lower()):
        return "alternative"
    if OPEN_START_RX.search(body) or OPEN_ANY_RX.search(body) or prompt:
        return "open"
    return "closed"


def language_of(text: str, folded: str) -> str | None:
    """« en » when the turn is mostly English, « ar » when it holds Arabic (script or usual words), else « fr »."""
    if _ARABIC_SCRIPT.search(text or ""):
        return "ar"
    tokens = folded.replace("?", " ").split()
    english = sum(1 for t in tokens if t in _EN_WORDS)
    french = sum(1 for t in tokens if t in _FR_WORDS)
    if english > french and english >= 1:
        return "en"
    if ARABIC_WORDS_RX.search(folded):
        return "ar"
    return "fr" if tokens else None


@dataclass(frozen=True)
class Listener:
    """What the caller knows to listen for: the company's names, the agent's and the caller's own, banned words."""

    company: tuple[str, ...] = ()
    agent: str = ""
    contact: tuple[str, ...] = ()
    banned: tuple[str, ...] = ()

    @property
    def company_rx(self) -> re.Pattern | None:
        return _names_rx(self.company)

    @property
    def banned_rx(self) -> tuple[tuple[str, re.Pattern], ...]:
        return _banned_rx(self.banned)


@lru_cache(maxsize=256)
def _names_rx(names: tuple[str, ...]) -> re.Pattern | None:
    folded = [re.escape(normalise(n)).replace(r"\ ", r"\s+") for n in names if normalise(n)]
    return _rx(*folded) if folded else None


@lru_cache(maxsize=256)
def _banned_rx(words: tuple[str, ...]) -> tuple[tuple[str, re.Pattern], ...]:
    """A banned word also in the feminine and plural (« impayé » bans « impayée », « impayés »)."""
    return tuple((word, _rx(re.escape(normalise(word)).replace(r"\ ", r"\s+") + r"(?:e|s|es|x)?"))
                 for word in words if normalise(word))


def _search(pattern: re.Pattern, folded: str) -> str | None:
    hit = pattern.search(folded)
    return hit.group(0) if hit else None


def read(text: str, listener: Listener = Listener()) -> Reading:
    """Read an agent's turn: sentences with their question type, and every cue found."""
    folded = normalise(text)
    sentences = []
    for raw in split_sentences(text):
        sentence_folded = normalise(raw)
        sentences.append(Sentence(text=raw, folded=sentence_folded, question=question_kind(raw, sentence_folded),
                                  reformulation=bool(REFORMULATION_RX.search(sentence_folded))))
    cues: list[Cue] = []

    def add(kind: str, words: str | None) -> None:
        if words is not None:
            cues.append(Cue(kind, words))

    add(GREETING, _search(GREETING_RX, folded))
    if listener.company_rx is not None:
        add(COMPANY, _search(listener.company_rx, folded))
    agent = normalise(listener.agent).split()
    if agent and re.search(r"(?<![a-z0-9])" + re.escape(agent[0]) + r"(?![a-z0-9])", folded):
        add(AGENT_NAME, agent[0])
    else:
        add(AGENT_NAME, _search(AGENT_INTRO_RX, folded))
    identification = _search(IDENTIFICATION_RX, folded)
    if identification is None and listener.contact:
        named = _names_rx(listener.contact)
        asking = any(s.question for s in sentences)
        if named is not None and asking:
            identification = _search(named, " ".join(s.folded for s in sentences if s.question))
    add(IDENTIFICATION, identification)
    add(PURPOSE, _search(PURPOSE_RX, folded))
    add(PERMISSION, _search(PERMISSION_RX, folded))
    for sentence in sentences:
        if sentence.question and not sentence.reformulation:
            add(QUESTION_KINDS[sentence.question], sentence.folded[:60])
    reformulation = _search(REFORMULATION_RX, folded)
    add(REFORMULATION, reformulation)
    add(FEEDBACK, _search(FEEDBACK_RX, folded))
    # « si je comprends bien » is a reformulation, not empathy: look for empathy elsewhere
    rest = REFORMULATION_RX.sub(" ", folded) if reformulation else folded
    add(EMPATHY, _search(EMPATHY_RX, rest))
    add(PROPOSAL, _search(PROPOSAL_RX, folded))
    add(RECAP, _search(RECAP_RX, folded))
    add(HOLD_THANKS, _search(HOLD_THANKS_RX, folded))
    add(THANKS, _search(THANKS_RX, folded))
    add(HOLD_ANNOUNCE, _search(HOLD_ANNOUNCE_RX, folded))
    add(TRANSFER_ANNOUNCE, _search(TRANSFER_RX, folded))
    add(LEAVE_TAKING, _search(LEAVE_RX, folded))
    add(RUDENESS, _search(RUDENESS_RX, folded))
    add(TUTOIEMENT, _search(TUTOIEMENT_RX, folded))
    for word, pattern in listener.banned_rx:
        if pattern.search(folded):
            add(BANNED_WORD, word)
            break
    language = language_of(text, folded)
    if language == "en":
        add(ENGLISH, "en")
    if _ARABIC_SCRIPT.search(text or "") or ARABIC_WORDS_RX.search(folded):
        add(ARABIC, _search(ARABIC_WORDS_RX, folded) or "ar")
    return Reading(text=text, folded=folded, sentences=tuple(sentences), cues=tuple(cues), language=language)


__all__ = [
    "CUE_KINDS", "CUE_LABELS", "Cue", "CueSyntaxError", "Listener", "Reading", "Sentence", "compile_cue", "cue_error",
    "language_of", "match_any", "match_cue", "normalise", "question_kind", "read", "split_sentences",
]
