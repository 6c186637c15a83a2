"""Rules of the campaign work on a call: an advisor's slots (clock changes included), bookings,
payment plans and promises (each rule), sale lines and their amounts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from plateau.domain import appointments as slots
from plateau.domain import payment_plans as plans
from plateau.domain import sales
from plateau.domain.errors import ConflictError, DomainError, ValidationError

PARIS = ZoneInfo("Europe/Paris")
UTC = timezone.utc
HOURS = {"mon": [["09:00", "12:00"], ["14:00", "15:00"]], "sun": [["01:00", "04:00"]]}
MONDAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Paris


def local(values: list[datetime], tz=PARIS) -> list[str]:
    return [v.astimezone(tz).strftime("%H:%M %Z") for v in values]


# --- slots -----------------------------------------------------------------------------------------------


def test_a_days_slots_fill_each_range_and_are_utc():
    day = slots.day_slots(HOURS, 30, MONDAY, PARIS)
    assert local(day) == ["09:00 CET", "09:30 CET", "10:00 CET", "10:30 CET", "11:00 CET", "11:30 CET",
                          "14:00 CET", "14:30 CET"]
    assert day[0] == datetime(2026, 11, 23, 8, 0, tzinfo=UTC) and all(s.tzinfo is UTC for s in day)
    summer = slots.day_slots(HOURS, 30, date(2026, 6, 1), PARIS)
    assert summer[0] == datetime(2026, 6, 1, 7, 0, tzinfo=UTC)


def test_a_slot_must_fit_wholly_in_a_range_and_closed_days_have_none():
    assert local(slots.day_slots(HOURS, 45, MONDAY, PARIS)) == [
        "09:00 CET", "09:45 CET", "10:30 CET", "11:15 CET", "14:00 CET"]
    assert slots.day_slots(HOURS, 240, MONDAY, PARIS) == []
    assert slots.day_slots(HOURS, 30, date(2026, 11, 24), PARIS) == []  # Tuesday: no hours
    assert slots.day_slots({}, 30, MONDAY, PARIS) == []


def test_the_day_clocks_go_forward_skips_the_times_that_do_not_exist():
    day = slots.day_slots(HOURS, 30, date(2026, 3, 29), PARIS)
    assert local(day) == ["01:00 CET", "01:30 CET", "03:00 CEST", "03:30 CEST"]
    assert [s.strftime("%H:%M") for s in day] == ["00:00", "00:30", "01:00", "01:30"]


def test_the_day_clocks_go_back_offers_each_printed_time_once():
    day = slots.day_slots(HOURS, 30, date(2026, 10, 25), PARIS)
    assert local(day) == ["01:00 CEST", "01:30 CEST", "02:00 CEST", "02:30 CEST", "03:00 CET", "03:30 CET"]
    assert day == sorted(set(day))
    assert day[2] == datetime(2026, 10, 25, 0, 0, tzinfo=UTC)


def test_free_slots_leave_out_started_ones_and_any_overlap():
    day = slots.day_slots(HOURS, 30, MONDAY, PARIS)
    straddling = (datetime(2026, 11, 23, 9, 45, tzinfo=UTC), datetime(2026, 11, 23, 10, 30, tzinfo=UTC))  # 10:45-11:30
    free = slots.free_slots(day, 30, [straddling], NOW)
    assert local(free) == ["11:30 CET", "14:00 CET", "14:30 CET"]  # 10:00 starts now: gone too
    assert slots.free_slots(day, 30, [], NOW - timedelta(hours=2)) == day


@settings(max_examples=60, deadline=None)
@given(start=st.integers(0, 22 * 60), length=st.integers(5, 8 * 60), step=st.integers(5, 240),
       day=st.dates(date(2026, 1, 1), date(2027, 12, 31)))
def test_slots_are_on_the_grid_inside_the_hours(start, length, step, day):
    end = min(start + length, 24 * 60)
    hours = {"mon": [[f"{start // 60:02d}:{start % 60:02d}", "24:00" if end == 24 * 60 else f"{end // 60:02d}:{end % 60:02d}"]]}
    monday = day - timedelta(days=day.weekday())
    tz = ZoneInfo("Africa/Casablanca")
    found = slots.day_slots(hours, step, monday, tz)
    assert found == sorted(set(found))
    for value in found:
        wall = value.astimezone(tz)
        minute = wall.hour * 60 + wall.minute
        assert wall.date() == monday and start <= minute and minute + step <= end and (minute - start) % step == 0


def test_a_booking_is_checked_field_by_field_then_against_the_bookings():
    day = slots.day_slots(HOURS, 30, MONDAY, PARIS)
    ok = slots.check_booking("Mme Roy", day, 30, [], day[4], "video", "  à rappeler  ", NOW, PARIS)
    assert (ok.starts_at, ok.ends_at - ok.starts_at, ok.mode, ok.note) == (day[4], timedelta(minutes=30), "video",
                                                                         "à rappeler")
    cases = [(None, "visit", "", "starts_at"), (day[4] + timedelta(minutes=5), "visit", "", "starts_at"),
             (day[1], "visit", "", "starts_at"), (day[4], "fax", "", "mode"), (day[4], "visit", "x" * 2001, "note")]
    for starts, mode, note, field in cases:
        with pytest.raises(ValidationError) as info:
            slots.check_booking("Mme Roy", day, 30, [], starts, mode, note, NOW, PARIS)
        assert list(info.value.errors) == [field]
    with pytest.raises(ValidationError) as info:
        slots.check_booking("Mme Roy", day, 30, [], day[1], "visit", "", NOW, PARIS)
    assert info.value.errors["starts_at"].render() == "Ce créneau est déjà passé : choisissez-en un plus tard."
    with pytest.raises(ConflictError) as info:
        slots.check_booking("Mme Roy", day, 30, [(day[4], day[5])], day[4], "visit", "", NOW, PARIS)
    assert info.value.render() == "Le créneau du 23/11/2026 à 11:00 est déjà pris chez Mme Roy : choisissez-en un autre."
    far = slots.day_slots(HOURS, 30, date(2027, 11, 29), PARIS)
    with pytest.raises(ValidationError) as info:
        slots.check_booking("Mme Roy", far, 30, [], far[0], "visit", "", NOW, PARIS)
    assert "366 jours" in info.value.errors["starts_at"].render()


def test_an_advisors_settings_are_checked():
    settings_ = slots.check_advisor(" Mme Roy ", {"tue": [["14:00", "18:00"], ["09:00", "12:00"]]}, "20",
                                    "Africa/Algiers", " Alger ")
    assert settings_ == slots.AdvisorSettings("Mme Roy", {"tue": [["09:00", "12:00"], ["14:00", "18:00"]]}, 20,
                                              "Africa/Algiers", "Alger")
    with pytest.raises(ValidationError) as info:
        slots.check_advisor("", {"tue": [["09:00", "12:00"], ["11:00", "13:00"]]}, "241", "Mars/Olympus", "x" * 201)
    assert set(info.value.errors) == {"name", "slot_minutes", "timezone", "location", "hours"}
    assert "se chevauchent" in info.value.errors["hours"].render()
    for bad in ("4", "", "trente", "-5"):
        with pytest.raises(ValidationError) as info:
            slots.check_advisor("A", {}, bad, "Europe/Paris", "")
        assert list(info.value.errors) == ["slot_minutes"]


# --- payment plans and promises ------------------------------------------------------------------------------

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("text, cents", [("120", 12000), ("120,5", 12050), ("120.50", 12050), ("1 200,50", 120050),
                                         ("1\u202f200,50 €", 120050), ("0,01", 1), ("75 DH", 7500)])
def test_amounts_are_read_the_french_way_in_cents(text, cents):
    assert plans.parse_cents(text, "amount") == cents


@pytest.mark.parametrize("text, message", [
    ("", "Indiquez un montant."), ("0", "Le montant doit être supérieur à zéro."),
    ("-12", "Le montant doit être supérieur à zéro."),
    ("12,345", "Montant illisible « 12,345 » : écrivez par exemple 120 ou 120,50."),
    ("douze", "Montant illisible « douze » : écrivez par exemple 120 ou 120,50."),
    ("10000001", "Le montant dépasse la limite de 10\u202f000\u202f000,00."),
])
def test_bad_amounts_say_why(text, message):
    with pytest.raises(DomainError) as info:
        plans.parse_cents(text, "amount")
    assert (info.value.render(), info.value.field) == (message, "amount")


def test_money_is_shown_in_the_campaigns_currency():
    assert plans.format_money(120050, "EUR") == "1\u202f200,50\u00a0€"
    assert plans.currency_of("MA") == "MAD" and plans.currency_of("DZ") == "DZD" and plans.currency_of(None) == "EUR"
    assert plans.plain(5) == "0,05"


def test_monthly_split_keeps_the_day_inside_short_months_and_adds_up():
    lines = plans.split(10000, 3, date(2026, 12, 31))
    assert [(i.due.isoformat(), i.amount_cents) for i in lines] == [
        ("2026-12-31", 3334), ("2027-01-31", 3333), ("2027-02-28", 3333)]
    assert plans.add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    with pytest.raises(DomainError):
        plans.split(2, 3, TODAY)
    with pytest.raises(DomainError):
        plans.split(10000, 25, TODAY)


@given(total=st.integers(1, plans.MAX_CENTS), count=st.integers(1, plans.MAX_INSTALMENTS),
       first=st.dates(date(2026, 1, 1), date(2030, 12, 31)))
def test_a_split_always_adds_up_to_the_cent_in_ascending_months(total, count, first):
    if total < count:
        return
    lines = plans.split(total, count, first)
    assert len(lines) == count and sum(i.amount_cents for i in lines) == total
    assert max(i.amount_cents for i in lines) - min(i.amount_cents for i in lines) <= 1
    assert all(a.due < b.due for a, b in zip(lines, lines[1:]))


def test_a_valid_plan():
    debt, lines = plans.check_plan("900", [("2026-12-01", "300"), ("", ""), ("15/01/2027", "300"),
                                           ("2027-02-01", "300,00")], TODAY)
    assert debt == 90000 and [i.to_json() for i in lines] == [
        {"due": "2026-12-01", "amount_cents": 30000}, {"due": "2027-01-15", "amount_cents": 30000},
        {"due": "2027-02-01", "amount_cents": 30000}]


@pytest.mark.parametrize("debt, rows, field, message", [
    ("900", [], "instalments", "Indiquez au moins une échéance (date et montant)."),
    ("2500", [(f"{2027 + n // 12}-{n % 12 + 1:02d}-01", "100") for n in range(25)], "instalments",
     "Un échéancier compte au plus 24 échéances (ici 25)."),
    ("900", [("2026-12-01", "0"), ("2027-01-01", "900")], "amount_0", "Le montant doit être supérieur à zéro."),
    ("900", [("2026-11-22", "900")], "due_0", "Le 22/11/2026 est déjà passé."),
    ("900", [("2026-12-01", "450"), ("2026-12-01", "450")], "due_1",
     "Échéance n° 2 : sa date (01/12/2026) doit suivre celle de l'échéance précédente (01/12/2026)."),
    ("900", [("2026-12-01", "450"), ("2027-01-01", "449,99")], "total",
     "Les échéances totalisent 899,99 alors que la dette est de 900,00 : écart de 0,01."),
    ("", [("2026-12-01", "450")], "debt", "Indiquez un montant."),
    ("900", [("2031-12-01", "900")], "due_0", "Pas plus de 3 ans à l'avance."),
    ("900", [("31/02/2027", "900")], "due_0", "Date illisible « 31/02/2027 » : utilisez le format JJ/MM/AAAA."),
])
def test_each_plan_rule_names_its_row(debt, rows, field, message):
    with pytest.raises(ValidationError) as info:
        plans.check_plan(debt, rows, TODAY)
    assert info.value.errors[field].render() == message


def test_today_is_a_valid_due_date_and_a_proposal_checks_its_three_fields():
    assert plans.check_promise("10", TODAY.isoformat(), TODAY) == (1000, TODAY, 0)
    with pytest.raises(ValidationError) as info:
        plans.propose("abc", "0", "hier", TODAY)
    assert set(info.value.errors) == {"debt", "count", "first_due"}
    with pytest.raises(ValidationError) as info:
        plans.propose("0,02", "3", "2026-12-01", TODAY)
    assert list(info.value.errors) == ["count"]
    debt, lines = plans.propose("100", "24", "2026-12-01", TODAY)
    assert debt == 10000 and len(lines) == 24


def test_promise_and_terms_rules():
    assert plans.check_promise("50", "2026-12-15", TODAY, "200") == (5000, date(2026, 12, 15), 20000)
    with pytest.raises(ValidationError) as info:
        plans.check_promise("500", "2026-12-15", TODAY, "200")
    assert list(info.value.errors) == ["debt"]
    assert plans.check_terms("card", "  ok ") == ("card", "ok")
    with pytest.raises(ValidationError) as info:
        plans.check_terms("bitcoin", "x" * 2001)
    assert set(info.value.errors) == {"method", "note"}


# --- sales -----------------------------------------------------------------------------------------------------

T = sales.TypedLine


def test_sale_amounts_and_the_additional_part():
    lines = sales.parse_lines([T("box", "2", "29,99"), T("tv", "", ""), T("tv", "3", "4,50", True),
                               T("box", "1", "10", True)], ["box", "tv"])
    assert [(l.product, l.quantity, l.unit_price_cents, l.additional, l.amount_cents) for l in lines] == [
        ("box", 2, 2999, False, 5998), ("tv", 3, 450, True, 1350), ("box", 1, 1000, True, 1000)]
    assert sales.amounts(lines) == sales.Amounts(8348, 2350)
    assert sales.amounts([]) == sales.Amounts(0, 0)


def test_each_sale_rule_names_its_row():
    with pytest.raises(ValidationError) as info:
        sales.parse_lines([T("box", "0", "5"), T("tv", "10000", "1"), T("box", "1", "gratuit", True),
                           T("cable", "1", "1"), T("tv", "2", "1", True), T("tv", "1", "1", True)], ["box", "tv"])
    errors = info.value.errors
    assert set(errors) == {"quantity_0", "quantity_1", "price_2", "product_3", "product_5"}
    assert errors["quantity_1"].render() == "La quantité est un nombre entier entre 1 et 9999."
    assert errors["product_5"].render() == "Le produit « tv » figure deux fois : regroupez les quantités sur une ligne."
    with pytest.raises(ValidationError) as info:
        sales.parse_lines([T("box", "", "")], ["box"])
    assert list(info.value.errors) == ["lines"]
    with pytest.raises(ValidationError) as info:
        sales.parse_lines([T("box", "9999", "9 000 000")], ["box"])
    assert info.value.errors["lines"].render() == "Le montant de la vente dépasse la limite autorisée."


def test_sale_terms():
    assert sales.check_terms(" CB ", "") == ("CB", "")
    with pytest.raises(ValidationError) as info:
        sales.check_terms("", "x" * 201)
    assert set(info.value.errors) == {"payment_terms", "delivery_terms"}
