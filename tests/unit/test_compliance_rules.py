"""The calling rules (domain/compliance*.py) with the real profiles of data/compliance, by example and by property.

Times are chosen on known days: 2026-11-23 is a Monday; 2026-11-11, 2026-12-25
and 2027-03-29 (Easter Monday) are French public holidays.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from hypothesis import assume, given, settings, strategies as st

from plateau.domain.compliance import (Attempt, Decision, Situation, evaluate, profile_country_for_number, reason_text,
                                       zone_for_number)
from plateau.domain.compliance_input import read_situation
from plateau.domain.compliance_profiles import ProfileError, parse_profile
from plateau.domain.errors import ValidationError
from plateau.services.compliance import load_profile, load_profiles

PARIS = ZoneInfo("Europe/Paris")
FR = load_profile("FR")
MA = load_profile("MA")
DZ = load_profile("DZ")
ARCEP = "+33162000000"
MONDAY = date(2026, 11, 23)


def paris(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), tzinfo=PARIS)


def fr(at: datetime | None = None, **kw) -> Situation:
    """A French situation every rule lets through, changed by ``kw``."""
    base = dict(country="FR", at=at or paris(MONDAY, 11), consent=True, presented_number=ARCEP)
    base.update(kw)
    return Situation(**base)


def only(profile, *rule_ids):
    """The profile with every other rule switched off."""
    return profile.with_switches({r.id: r.id in rule_ids for r in profile.rules})


def rules_of(decision: Decision) -> list[str]:
    return [r.rule for r in decision.reasons]


# --- hours ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("hh", "mm", "allowed"), [
    (9, 59, False), (10, 0, True), (12, 59, True), (13, 0, False),
    (13, 59, False), (14, 0, True), (19, 59, True), (20, 0, False),
])
def test_weekday_hours_around_every_boundary(hh, mm, allowed):
    decision = evaluate(fr(paris(MONDAY, hh, mm)), FR)
    assert decision.allowed is allowed
    if not allowed:
        assert rules_of(decision) == ["fr.hours"]
        reason = decision.reasons[0]
        assert reason.reference == "Code de la consommation, art. D.223-9 ; décret n° 2022-1313"
        assert f"{hh:02d}:{mm:02d}" in reason.message


@pytest.mark.parametrize(("at", "retry"), [
    (paris(MONDAY, 9, 59), paris(MONDAY, 10)),
    (paris(MONDAY, 13), paris(MONDAY, 14)),
    (paris(MONDAY, 13, 59), paris(MONDAY, 14)),
    (paris(MONDAY, 20), paris(MONDAY + timedelta(days=1), 10)),
    (paris(date(2026, 11, 27), 20, 30), paris(date(2026, 11, 30), 10)),  # Friday evening → Monday
    (paris(date(2026, 11, 28), 11), paris(date(2026, 11, 30), 10)),  # Saturday
    (paris(date(2026, 11, 29), 15), paris(date(2026, 11, 30), 10)),  # Sunday
])
def test_retry_at_is_the_next_legal_window(at, retry):
    decision = evaluate(fr(at), FR)
    assert not decision.allowed
    assert decision.retry_at == retry
    assert evaluate(fr(decision.retry_at), FR).allowed


@pytest.mark.parametrize(("holiday", "next_open"), [
    (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas, a Friday
    (date(2026, 11, 11), date(2026, 11, 12)),  # Armistice, a Wednesday
    (date(2027, 3, 29), date(2027, 3, 30)),  # Easter Monday
])
def test_public_holidays_are_closed(holiday, next_open):
    decision = evaluate(fr(paris(holiday, 11)), FR)
    assert rules_of(decision) == ["fr.hours"]
    assert decision.retry_at == paris(next_open, 10)
    assert evaluate(fr(paris(holiday - timedelta(days=1) if holiday.weekday() else holiday + timedelta(days=1), 11)),
                    FR).allowed


@pytest.mark.parametrize(("at", "allowed"), [
    ("2026-11-23T09:30:00-05:00", True),  # 15:30 in Paris
    ("2026-11-23T10:30:00+09:00", False),  # 02:30 in Paris
    ("2026-11-23T09:30:00Z", True),  # 10:30 in Paris (winter, UTC+1)
    ("2026-11-23T08:59:00Z", False),  # 09:59 in Paris
    ("2026-07-01T08:00:00Z", True),  # 10:00 in Paris (summer, UTC+2)
    ("2026-07-01T07:59:00Z", False),  # 09:59 in Paris
    ("2026-07-01T18:00:00+00:00", False),  # 20:00 in Paris
    ("2026-11-23T22:30:00+03:00", False),  # 20:30 in Paris
    ("2026-11-23T19:59:00+01:00", True),
])
def test_at_may_carry_any_offset_the_rule_applies_in_paris(at, allowed):
    assert evaluate(fr(datetime.fromisoformat(at)), FR).allowed is allowed


def test_overseas_departments_use_their_own_zone():
    zone = zone_for_number("+590590123456")
    assert zone == "America/Guadeloupe"
    assert profile_country_for_number("+590590123456") == "FR"
    # 14:30 UTC: 15:30 in Paris, 10:30 in Guadeloupe; 13:30 UTC: 09:30 in Guadeloupe
    assert evaluate(fr(datetime(2026, 11, 23, 14, 30, tzinfo=timezone.utc), timezone=zone), FR).allowed
    late = evaluate(fr(datetime(2026, 11, 23, 13, 30, tzinfo=timezone.utc), timezone=zone), FR)
    assert rules_of(late) == ["fr.hours"] and "America/Guadeloupe" in late.reasons[0].message
    assert late.retry_at == datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
    assert evaluate(fr(datetime(2026, 11, 23, 13, 30, tzinfo=timezone.utc)), FR).allowed  # a Paris line
    assert zone_for_number("+262262123456") == "Indian/Reunion"
    assert zone_for_number("+33612345678") == "Europe/Paris"


def test_express_agreement_to_other_hours_lifts_the_hours_only():
    sunday = paris(date(2026, 11, 29), 21)
    assert evaluate(fr(sunday, hours_agreed=True), FR).allowed
    assert rules_of(evaluate(fr(sunday, hours_agreed=True, opposition_listed=True), FR)) == ["fr.opposition"]


def test_hours_apply_under_a_contract_in_progress_but_not_to_businesses_surveys_or_debt_collection():
    sunday = paris(date(2026, 11, 29), 11)
    assert rules_of(evaluate(fr(sunday, existing_contract=True), FR)) == ["fr.hours"]
    for changed in ({"party": "business"}, {"purpose": "survey"}, {"purpose": "debt_collection"},
                    {"purpose": "contract"}):
        assert evaluate(fr(sunday, **changed), FR).allowed, changed


# --- 4 calls in 30 days ---------------------------------------------------------------------------


def attempts(*days_hours, outcome="no_answer", **kw):
    return tuple(Attempt(at=paris(d, h), outcome=outcome, **kw) for d, h in days_hours)


def test_the_fifth_call_in_thirty_days_is_refused():
    nov = [(date(2026, 11, d), 11) for d in (2, 3, 4, 5)]
    assert evaluate(fr(previous_attempts=attempts(*nov[:3])), FR).allowed
    decision = evaluate(fr(previous_attempts=attempts(*nov)), FR)
    assert rules_of(decision) == ["fr.frequency"]
    assert decision.reasons[0].reference == "Code de la consommation, art. D.223-9 ; décret n° 2022-1313"
    assert "4 appels" in decision.reasons[0].message
    # unanswered, busy, connected: all calls or attempts count
    outcomes = ("busy", "connected", "answering_machine", "in_progress")
    mixed = tuple(replace(a, outcome=o) for a, o in zip(attempts(*nov), outcomes))
    assert not evaluate(fr(previous_attempts=mixed), FR).allowed


def test_the_thirty_day_window_slides_by_calendar_day():
    calls = attempts(*[(date(2026, 11, 2), 19), (date(2026, 11, 3), 10), (date(2026, 11, 4), 10),
                       (date(2026, 11, 5), 10)])
    # 2 November + 30 days = 2 December: the first call leaves the window at midnight, Paris time
    day_29 = evaluate(fr(paris(date(2026, 12, 1), 19, 59), previous_attempts=calls), FR)
    assert rules_of(day_29) == ["fr.frequency"]
    assert day_29.retry_at == paris(date(2026, 12, 2), 10)  # midnight, then the next legal window
    assert evaluate(fr(paris(date(2026, 12, 2), 10), previous_attempts=calls), FR).allowed
    assert "02/12/2026" in day_29.reasons[0].message


def test_dials_the_rules_refused_and_other_purposes_do_not_count():
    nov = [(date(2026, 11, d), 11) for d in (2, 3, 4, 5)]
    assert evaluate(fr(previous_attempts=attempts(*nov, outcome="blocked")), FR).allowed
    assert evaluate(fr(previous_attempts=attempts(*nov, purpose="debt_collection")), FR).allowed
    assert not evaluate(fr(previous_attempts=attempts(*nov, purpose="prospecting")), FR).allowed
    assert not evaluate(fr(previous_attempts=attempts(*nov, purpose=None)), FR).allowed  # unknown: counts
    future = attempts(*[(date(2026, 11, 24), 11)] * 4)
    assert evaluate(fr(previous_attempts=future), FR).allowed  # attempts after ``at`` are not history


# --- 60 days after a refusal ---------------------------------------------------------------------


def test_sixty_full_calendar_days_after_a_refusal():
    refusal = attempts((date(2026, 10, 1), 11), outcome="refused")
    quiet = evaluate(fr(paris(date(2026, 11, 30), 19), previous_attempts=refusal), FR)
    assert rules_of(quiet) == ["fr.refusal_quiet"]
    assert "01/10/2026" in quiet.reasons[0].message and "01/12/2026" in quiet.reasons[0].message
    assert quiet.retry_at == paris(date(2026, 12, 1), 10)
    assert evaluate(fr(paris(date(2026, 12, 1), 10), previous_attempts=refusal), FR).allowed
    assert not evaluate(fr(paris(date(2026, 10, 2), 11), previous_attempts=refusal), FR).allowed


def test_do_not_call_is_a_refusal_and_a_refusal_in_a_debt_collection_call_is_not():
    assert not evaluate(fr(previous_attempts=attempts((date(2026, 11, 20), 11), outcome="do_not_call")), FR).allowed
    debt = attempts((date(2026, 11, 20), 11), outcome="refused", purpose="debt_collection")
    assert evaluate(fr(previous_attempts=debt), FR).allowed


# --- opposition, consent, sectors, businesses ---------------------------------------------------


def test_opposition_list_and_the_contract_exception():
    blocked = evaluate(fr(opposition_listed=True), FR)
    assert rules_of(blocked) == ["fr.opposition"]
    assert blocked.reasons[0].reference == "Code de la consommation, art. L.223-1"
    assert blocked.retry_at is None
    assert evaluate(fr(opposition_listed=True, existing_contract=True), FR).allowed
    assert evaluate(fr(opposition_listed=True, purpose="survey"), FR).allowed
    assert evaluate(fr(opposition_listed=True, purpose="debt_collection"), FR).allowed


@pytest.mark.parametrize(("day", "consent", "contract", "allowed"), [
    (date(2026, 8, 10), None, False, True),  # the day before the law: no consent needed
    (date(2026, 8, 10), False, False, True),
    (date(2026, 8, 11), None, False, False),
    (date(2026, 8, 11), False, False, False),
    (date(2026, 8, 11), True, False, True),
    (date(2026, 8, 11), None, True, True),  # contract in progress
    (date(2027, 3, 1), None, False, False),
])
def test_prior_consent_since_11_august_2026(day, consent, contract, allowed):
    decision = evaluate(fr(paris(day, 11), consent=consent, existing_contract=contract), FR)
    assert decision.allowed is allowed
    if not allowed:
        assert rules_of(decision) == ["fr.consent"]
        assert decision.reasons[0].reference == "Code de la consommation, art. L.223-1 ; loi n° 2025-594, art. 13"
        assert decision.retry_at is None


def test_consent_law_starts_at_midnight_in_the_called_partys_zone():
    # 10 August 23:30 UTC is already 11 August in Paris (and outside the hours: agreed to other hours)
    late = datetime(2026, 8, 10, 23, 30, tzinfo=timezone.utc)
    assert rules_of(evaluate(fr(late, consent=None, hours_agreed=True), FR)) == ["fr.consent"]


@pytest.mark.parametrize(("sector", "rule", "reference"), [
    ("energy_renovation", "fr.energy_renovation", "Code de la consommation, art. L.223-1"),
    ("personal_training_account", "fr.personal_training_account", "Code du travail, art. L.6323-8-1 (loi n° 2022-1587)"),
])
def test_banned_sectors_except_under_a_contract(sector, rule, reference):
    decision = evaluate(fr(sector=sector), FR)
    assert rules_of(decision) == [rule] and decision.reasons[0].reference == reference
    assert decision.retry_at is None
    assert evaluate(fr(sector=sector, existing_contract=True), FR).allowed
    assert evaluate(fr(sector=sector, party="business"), FR).allowed
    assert evaluate(fr(sector="insurance"), FR).allowed


def test_businesses_are_not_subject_to_the_consumer_rules():
    everything_wrong = dict(at=paris(date(2026, 11, 29), 22), consent=False, opposition_listed=True,
                            sector="energy_renovation",
                            previous_attempts=attempts(*[(date(2026, 11, d), 11) for d in (20, 23, 24, 25, 26)])
                            + attempts((date(2026, 11, 27), 11), outcome="refused"))
    assert evaluate(fr(party="business", **everything_wrong), FR).allowed
    assert set(rules_of(evaluate(fr(**everything_wrong), FR))) == {
        "fr.hours", "fr.frequency", "fr.refusal_quiet", "fr.consent", "fr.opposition", "fr.energy_renovation"}


# --- presented number ---------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "dialer", "rules"), [
    (None, "manual", ["fr.presented_number"]),
    ("+3312", "manual", ["fr.presented_number"]),
    ("n'importe quoi", "preview", ["fr.presented_number"]),
    ("+33612345678", "manual", []),
    ("+33142000000", "preview", []),
    ("+33612345678", "progressive", ["fr.automated_number"]),
    ("+33142000000", "predictive", ["fr.automated_number"]),
    ("+212612345678", "predictive", ["fr.automated_number"]),
    (None, "predictive", ["fr.presented_number", "fr.automated_number"]),
])
def test_presented_number_rules(number, dialer, rules):
    decision = evaluate(fr(presented_number=number, dialer=dialer), FR)
    assert rules_of(decision) == rules
    if rules:
        assert decision.retry_at is None
        assert evaluate(fr(presented_number=number, dialer=dialer, party="business"), FR).allowed is False


@pytest.mark.parametrize("prefix", ["0162", "0163", "0270", "0271", "0377", "0378", "0424", "0425", "0568", "0569",
                                    "0948", "0949"])
@pytest.mark.parametrize("dialer", ["progressive", "predictive"])
def test_automated_dialing_presents_an_arcep_reserved_number(prefix, dialer):
    decision = evaluate(fr(presented_number=f"+33{prefix[1:]}123456", dialer=dialer), FR)
    assert decision.allowed, decision.reasons
    wrong = evaluate(fr(presented_number="+33161123456", dialer=dialer), FR)
    assert rules_of(wrong) == ["fr.automated_number"]
    assert wrong.reasons[0].reference == "ARCEP, décision n° 2022-1583"


# --- the Ofcom-style safeguard after a dropped call ----------------------------------------------


def test_no_new_dial_within_72_hours_of_a_dropped_call_unless_an_agent_is_reserved():
    drop = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)
    history = (Attempt(at=drop, outcome="dropped"),)
    # businesses: no hours rule, so the 72 hours alone decide the retry time
    before = evaluate(fr(drop + timedelta(hours=71, minutes=59), party="business", previous_attempts=history), FR)
    assert rules_of(before) == ["fr.dropped_quiet"]
    assert before.reasons[0].reference == "Garde-fou inspiré des règles de l'Ofcom (appels abandonnés)"
    assert before.retry_at == drop + timedelta(hours=72)
    assert evaluate(fr(drop + timedelta(hours=72), party="business", previous_attempts=history), FR).allowed
    assert evaluate(fr(drop + timedelta(hours=1), party="business", previous_attempts=history, agent_reserved=True),
                    FR).allowed
    flagged = (Attempt(at=drop, outcome="no_answer", dropped=True),)
    assert not evaluate(fr(drop + timedelta(hours=1), party="business", previous_attempts=flagged), FR).allowed
    for profile in (MA, DZ):
        situation = Situation(country=profile.country, at=drop + timedelta(hours=2), party="business",
                              previous_attempts=history)
        assert [r.rule for r in evaluate(situation, profile).reasons] == [f"{profile.country.lower()}.dropped_quiet"]


def test_retry_at_is_none_when_one_blocking_rule_cannot_be_waited_out():
    decision = evaluate(fr(paris(date(2026, 11, 29), 11), opposition_listed=True), FR)
    assert set(rules_of(decision)) == {"fr.hours", "fr.opposition"}
    assert decision.retry_at is None


def test_retry_at_combines_the_rules_a_consumer_after_a_drop_on_friday_evening():
    drop = paris(date(2026, 11, 27), 19, 30)
    decision = evaluate(fr(drop + timedelta(minutes=5), previous_attempts=(Attempt(drop, "dropped"),)), FR)
    assert rules_of(decision) == ["fr.dropped_quiet"]
    # 72 h later is Monday 19:30: inside the hours
    assert decision.retry_at == drop + timedelta(hours=72)
    # a drop on Thursday 19:55: the 72 hours end on Sunday, so Monday 10:00
    thursday = paris(date(2026, 11, 26), 19, 55)
    decision = evaluate(fr(thursday + timedelta(minutes=1), previous_attempts=(Attempt(thursday, "dropped"),)), FR)
    assert decision.retry_at == paris(date(2026, 11, 30), 10)


# --- Morocco and Algeria --------------------------------------------------------------------------


def test_morocco_consent_for_automated_prospecting_and_objection():
    at = datetime(2026, 11, 29, 21, 0, tzinfo=timezone.utc)  # a Sunday night: no hours rule in Morocco
    base = Situation(country="MA", at=at, presented_number="+212522000000")
    assert evaluate(base, MA).allowed
    assert [r.rule for r in evaluate(replace(base, dialer="predictive"), MA).reasons] == ["ma.automated_consent"]
    assert evaluate(replace(base, dialer="predictive", consent=True), MA).allowed
    objection = evaluate(replace(base, opposition_listed=True), MA)
    assert [r.reference for r in objection.reasons] == ["Loi n° 09-08, art. 9 (sanctions : art. 59 et 60)"]
    assert any("Aucune règle de jours ou d'heures" in s for s in MA.statements)


def test_algeria_express_consent_whatever_the_dialer():
    at = datetime(2026, 11, 27, 20, 0, tzinfo=timezone.utc)
    base = Situation(country="DZ", at=at)
    assert [r.rule for r in evaluate(base, DZ).reasons] == ["dz.consent"]
    assert evaluate(replace(base, consent=True), DZ).allowed
    assert evaluate(replace(base, purpose="debt_collection"), DZ).allowed
    assert any("Aucune règle de jours ou d'heures" in s for s in DZ.statements)


# --- switches, messages --------------------------------------------------------------------------


def test_a_rule_switched_off_is_skipped():
    sunday = fr(paris(date(2026, 11, 29), 11))
    assert not evaluate(sunday, FR).allowed
    assert evaluate(sunday, FR.with_switches({"fr.hours": False})).allowed


def test_reason_text_translates_the_msgid_then_fills_it():
    reason = evaluate(fr(paris(MONDAY, 9)), FR).reasons[0]
    assert reason_text(reason) == reason.message
    shout = reason_text(reason, lambda s: s.upper().replace("%(LOCAL_TIME)S", "%(local_time)s")
                        .replace("%(ZONE)S", "%(zone)s").replace("%(NEXT)S", "%(next)s"))
    assert shout.startswith("DÉMARCHAGE") and "23/11/2026 09:00" in shout
    stored = {"rule": reason.rule, "reference": reason.reference, "message": reason.message}
    assert reason_text(stored) == reason.message


# --- properties -------------------------------------------------------------------------------------

WINDOWS = ((10 * 60, 13 * 60), (14 * 60, 20 * 60))
FRENCH_HOLIDAYS = holidays.country_holidays("FR", years=range(2026, 2029))
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31),
                       timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5)),
                                                  timezone(timedelta(hours=5, minutes=30)), ZoneInfo("Europe/Paris"),
                                                  ZoneInfo("America/Guadeloupe")]))


def legal_in_paris(at: datetime) -> bool:
    local = at.astimezone(PARIS)
    minute = local.hour * 60 + local.minute
    return local.weekday() < 5 and local.date() not in FRENCH_HOLIDAYS and any(a <= minute < b for a, b in WINDOWS)


@settings(max_examples=300, deadline=None)
@given(moments)
def test_property_hours_match_the_paris_calendar_whatever_the_offset(at):
    assert evaluate(fr(at), only(FR, "fr.hours")).allowed is legal_in_paris(at)


@settings(max_examples=150, deadline=None)
@given(moments, st.lists(st.tuples(st.integers(0, 70 * 24 * 60), st.sampled_from(["no_answer", "refused", "dropped",
                                                                                    "busy", "connected"])),
                         max_size=8),
       st.booleans())
def test_property_retry_at_is_the_earliest_moment_everything_allows(at, history, business):
    past = tuple(Attempt(at - timedelta(minutes=m), outcome) for m, outcome in history)
    situation = fr(at, previous_attempts=past, party="business" if business else "consumer")
    decision = evaluate(situation, FR)
    assume(not decision.allowed and decision.retry_at is not None)
    assert decision.retry_at > at
    assert evaluate(replace(situation, at=decision.retry_at), FR).allowed
    just_before = decision.retry_at - timedelta(minutes=1)
    if just_before >= at:
        assert not evaluate(replace(situation, at=just_before), FR).allowed


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 120 * 24 * 60), min_size=1, max_size=40, unique=True))
def test_property_calling_whenever_allowed_never_puts_five_calls_in_thirty_days(offsets):
    start = datetime(2026, 9, 1, tzinfo=timezone.utc)
    profile = only(FR, "fr.frequency")
    made: list[Attempt] = []
    for minute in sorted(offsets):
        at = start + timedelta(minutes=minute)
        if evaluate(fr(at, previous_attempts=tuple(made)), profile).allowed:
            made.append(Attempt(at, "no_answer"))
    days = [a.at.astimezone(PARIS).date() for a in made]
    for first in days:
        assert sum(1 for d in days if 0 <= (d - first).days < 30) <= 4


@settings(max_examples=150, deadline=None)
@given(moments, st.one_of(st.integers(58, 62), st.integers(0, 90)), st.integers(0, 24 * 60 - 1))
def test_property_nothing_within_sixty_full_days_of_a_refusal(refused_at, gap, minute):
    day = refused_at.astimezone(PARIS).date() + timedelta(days=gap)
    at = datetime.combine(day, time(0), tzinfo=PARIS) + timedelta(minutes=minute)
    assume(at >= refused_at)
    decision = evaluate(fr(at, previous_attempts=(Attempt(refused_at, "refused"),)), only(FR, "fr.refusal_quiet"))
    assert decision.allowed is (gap > 60)


# --- profiles as data: validated at load --------------------------------------------------------


def test_every_profile_file_loads():
    assert list(load_profiles()) == ["FR", "MA", "DZ"]
    references = {r.reference for r in FR.rules}
    for text in ("L.221-17", "L.223-1", "D.223-9", "décret n° 2022-1313", "loi n° 2025-594, art. 13",
                 "ARCEP, décision n° 2022-1583"):
        assert any(text in ref for ref in references), text


GOOD = """
country: FR
name: France
timezone: Europe/Paris
holidays: FR
rules:
  - id: fr.opposition
    kind: opposition
    label: Liste
    reference: L.223-1
    message: Sur liste.
"""


def bad(change: str, old: str = "    message: Sur liste.\n") -> str:
    return GOOD.replace(old, change)


@pytest.mark.parametrize(("text", "expected"), [
    (bad("    kind: oposition\n", "    kind: opposition\n"),
     "rules[0] (fr.opposition) : kind : sorte de règle inconnue « oposition »"),
    (bad("    message: Sur liste.\n    contract_exeption: true\n"), "champ inconnu « contract_exeption »"),
    (bad("    message: Sur liste %(number)s.\n"), "variable inconnue « %(number)s »"),
    (bad("    message: Sur liste à 3 %.\n"), "mal formé"),
    (bad("    message: Sur liste.\n    purposes: [prospection]\n"), "purposes : valeur inconnue « prospection »"),
    (bad("  - id: ma.opposition\n", "  - id: fr.opposition\n"), "doit commencer par « fr. »"),
    (bad("    message: Sur liste.\n    enabled: oui\n"), "enabled : attendu true ou false"),
    (GOOD.replace("timezone: Europe/Paris", "timezone: Europe/Lutece"), "timezone : fuseau horaire inconnu"),
    (GOOD + "  - id: fr.freq\n    kind: frequency\n    label: F\n    reference: D.223-9\n    message: Trop.\n"
            "    params: {max_attempts: 4}\n", "rules[1] (fr.freq) : params : days : paramètre obligatoire"),
    (GOOD + "  - id: fr.freq\n    kind: frequency\n    label: F\n    reference: D.223-9\n    message: Trop.\n"
            "    params: {max_attempts: 0, days: 30}\n", "max_attempts : attendu : un nombre entier"),
    (GOOD + "  - id: fr.h\n    kind: hours\n    label: H\n    reference: D.223-9\n    message: Non.\n"
            "    params: {windows: {mon: [[\"14:00\", \"13:00\"]]}}\n", "windows : Lundi : la plage 14:00-13:00"),
    (GOOD + "  - id: fr.opposition\n    kind: opposition\n    label: L\n    reference: R\n    message: M.\n",
     "identifiant « fr.opposition » déjà utilisé"),
])
def test_a_wrong_profile_is_refused_with_where_and_why(text, expected):
    with pytest.raises(ProfileError) as caught:
        parse_profile(yaml.safe_load(text), "fr.yaml")
    assert expected in str(caught.value)
    assert str(caught.value).startswith("fr.yaml : ")


# --- described situations (the CLI's input) -------------------------------------------------------


def test_the_issues_situation_format():
    situation = read_situation({"country": "FR", "at": "2026-12-24T11:30:00+01:00", "party": "consumer",
                                "purpose": "prospecting", "sector": "energy_renovation", "existing_contract": False,
                                "opposition_listed": False, "consent": None,
                                "previous_attempts": [{"at": "2026-12-20T10:00:00Z", "outcome": "refused"}],
                                "presented_number": "+33162000000"})
    assert situation.dialer == "manual" and situation.at.utcoffset() == timedelta(hours=1)
    assert situation.previous_attempts == (Attempt(datetime(2026, 12, 20, 10, tzinfo=timezone.utc), "refused"),)
    assert set(rules_of(evaluate(situation, FR))) == {"fr.refusal_quiet", "fr.consent", "fr.energy_renovation"}
    assert read_situation({"country": "fr", "at": "2026-12-24T11:30:00+01:00", "number": "+590590123456"}).timezone \
        == "America/Guadeloupe"


def test_a_wrong_situation_names_every_field():
    with pytest.raises(ValidationError) as caught:
        read_situation({"at": "2026-12-24 11:30", "party": "someone", "dialer": "robot", "consent": "yes",
                        "existing_contract": "no", "opposition_list": True,
                        "previous_attempts": [{"at": "2026-12-20T10:00:00Z"}, "x"]})
    assert set(caught.value.errors) == {"country", "at", "party", "dialer", "consent", "existing_contract",
                                        "opposition_list", "previous_attempts[0].outcome", "previous_attempts[1]"}
    assert "décalage horaire" in caught.value.errors["at"].render()
    with pytest.raises(ValidationError):
        read_situation([1, 2])


def test_seventy_two_hours_across_the_change_to_summer_time():
    # 27 March 2026, 12:00 Paris (UTC+1); clocks go forward on 29 March: 72 h later is 30 March 13:00 Paris
    drop = paris(date(2026, 3, 27), 12)
    history = (Attempt(drop, "dropped"),)
    decision = evaluate(fr(paris(date(2026, 3, 30), 12, 30), party="business", previous_attempts=history), FR)
    assert decision.retry_at == datetime(2026, 3, 30, 11, tzinfo=timezone.utc)
    assert evaluate(fr(paris(date(2026, 3, 30), 13), party="business", previous_attempts=history), FR).allowed
