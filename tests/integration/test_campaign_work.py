"""Campaign work on a call, on real databases: booking an advisor's slot (free slots, past and
taken ones, a double booking refused even when two transactions race), promises to pay and
payment plans, sales; who may record and when; the notes left in the contact's history; the
advisors' calendars; and the panel and its forms over HTTP."""

from __future__ import annotations

import html
import threading
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from plateau.domain.errors import ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from plateau.domain.sales import TypedLine
from plateau.services import campaign_work as work
from plateau.services.users import actor_for
from plateau.store.models import Advisor, Appointment, Call, Campaign, Contact, Note, PaymentPlan, Product, Sale
from tests.helpers import login, make_user

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS = {day: [["09:00", "12:00"], ["14:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def paris(day: date, hhmm: str) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hours, minutes, tzinfo=PARIS).astimezone(timezone.utc)


MONDAY = date(2026, 11, 23)  # the fixed clock: 09:00 UTC, 10:00 in Paris
TUESDAY = date(2026, 11, 24)


def _campaign(session, now, code: str, kind: str, products=()) -> Campaign:
    campaign = Campaign(code=code, name=f"Campagne {code}", kind=kind, status="running", products=list(products),
                        country="FR", created_at=now, updated_at=now)
    session.add(campaign)
    session.flush()
    return campaign


def _call(session, now, campaign: Campaign, agent, contact: Contact | None, state="connected") -> int:
    call = Call(direction="outbound", media="voice", state=state, caller_number="+33612345678",
                contact_id=contact.id if contact else None, agent_id=agent.id, campaign_id=campaign.id,
                created_at=now, state_since=now, answered_at=now)
    session.add(call)
    session.flush()
    return call.id


@pytest.fixture
def floor(ctx):
    return _floor(ctx)


def _floor(ctx):
    """Ana and Bilal on calls of four campaigns (appointments, debt collection, sales, survey), a supervisor,
    two contacts, two products, the advisor Mme Roy (weekdays 09:00-12:00 and 14:00-16:00, 30 min slots)
    and an inactive one."""
    boss = actor_for(make_user(ctx, "formateur", role="supervisor", name="Fanny Formatrice"))
    ana = actor_for(make_user(ctx, "ana", name="Ana Martin"))
    bilal = actor_for(make_user(ctx, "bilal", name="Bilal Haddad"))
    with ctx.unit() as session:
        now = ctx.now()
        karim = Contact(kind="person", civility="M.", first_name="Karim", last_name="Benali",
                        search_name="benali karim", created_at=now, updated_at=now, tags=[])
        lea = Contact(kind="person", civility="Mme", first_name="Léa", last_name="Roy", search_name="roy lea",
                      created_at=now, updated_at=now, tags=[])
        session.add_all([karim, lea, Product(code="box", name="Box Fibre", price_label="29,99 € par mois"),
                         Product(code="tv", name="Option TV")])
        session.flush()
        rdv = _campaign(session, now, "rdv", "appointment")
        debt = _campaign(session, now, "recouvrement", "debt_collection")
        sale = _campaign(session, now, "vente", "sale", products=["box", "tv"])
        survey = _campaign(session, now, "enquete", "survey")
        advisor = Advisor(name="Mme Roy", hours=WEEKDAYS, slot_minutes=30, location="Agence de Lyon")
        other = Advisor(name="M. Petit", hours={"mon": [["09:00", "10:00"]]}, slot_minutes=60, active=False)
        session.add_all([advisor, other])
        session.flush()
        ids = {
            "rdv_call": _call(session, now, rdv, ana, karim),
            "rdv_call_lea": _call(session, now, rdv, bilal, lea),
            "rdv_closed": _call(session, now, rdv, ana, karim, state="closed"),
            "rdv_dialing": _call(session, now, rdv, ana, karim, state="dialing"),
            "debt_call": _call(session, now, debt, ana, karim),
            "sale_call": _call(session, now, sale, ana, karim),
            "survey_call": _call(session, now, survey, ana, karim),
        }
    return {"boss": boss, "ana": ana, "bilal": bilal, "karim": karim.id, "lea": lea.id, "advisor": advisor.id,
            "inactive": other.id, "rdv": rdv.id, "sale": sale.id, "debt": debt.id, "ctx": ctx, **ids}


def _notes(ctx, contact_id) -> list[str]:
    with ctx.read() as session:
        return list(session.scalars(select(Note.body).where(Note.contact_id == contact_id).order_by(Note.id)))


# --- appointments ---------------------------------------------------------------------------------


def test_free_slots_leave_out_past_and_booked_ones(ctx, floor):
    slots = work.free_slots(ctx, floor["advisor"], MONDAY)
    assert [s.astimezone(PARIS).strftime("%H:%M") for s in slots] == [
        "10:30", "11:00", "11:30", "14:00", "14:30", "15:00", "15:30"]
    work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"], paris(MONDAY, "11:00"), "visit")
    assert paris(MONDAY, "11:00") not in work.free_slots(ctx, floor["advisor"], MONDAY)
    assert len(work.free_slots(ctx, floor["advisor"], TUESDAY)) == 10
    assert work.free_slots(ctx, floor["advisor"], date(2026, 11, 28)) == []  # a Saturday


def test_booking_records_the_appointment_and_a_note_in_the_contacts_history(ctx, floor):
    appointment = work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"],
                                        paris(TUESDAY, "14:30"), "phone", "  Rappeler la veille  ")
    with ctx.read() as session:
        row = session.get(Appointment, appointment.id)
    assert (row.advisor_id, row.contact_id, row.call_id, row.campaign_id) == (
        floor["advisor"], floor["karim"], floor["rdv_call"], floor["rdv"])
    assert row.ends_at - row.starts_at == timedelta(minutes=30)
    assert (row.mode, row.note, row.status, row.created_by) == ("phone", "Rappeler la veille", "booked", floor["ana"].id)
    assert _notes(ctx, floor["karim"]) == [
        "Rendez-vous pris avec Mme Roy le 24/11/2026 à 14:30 (Téléphone).\nNote : Rappeler la veille"]
    recorded = work.work_of_call(ctx, floor["rdv_call"])
    assert [(v.advisor_name, v.appointment.id) for v in recorded.appointments] == [("Mme Roy", appointment.id)]


def test_a_taken_slot_is_refused_by_name_and_nothing_is_written(ctx, floor):
    work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"], paris(TUESDAY, "09:00"), "visit")
    with pytest.raises(ConflictError) as info:
        work.book_appointment(ctx, floor["bilal"], floor["rdv_call_lea"], floor["advisor"], paris(TUESDAY, "09:00"),
                              "video")
    assert info.value.render() == ("Le créneau du 24/11/2026 à 09:00 est déjà pris chez Mme Roy : choisissez-en "
                                   "un autre.")
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert _notes(ctx, floor["lea"]) == []


def test_bad_bookings_name_their_field(ctx, floor):
    for hhmm, mode, field in (("12:00", "visit", "starts_at"),   # outside the hours
                              ("09:15", "visit", "starts_at"),   # not on the slot grid
                              ("09:30", "visit", "starts_at"),   # already past (now is 10:00 in Paris)
                              ("10:30", "visio", "mode")):       # unknown mode
        with pytest.raises(ValidationError) as info:
            work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"], paris(MONDAY, hhmm), mode)
        assert list(info.value.errors) == [field], hhmm
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_inactive_or_unknown_advisor_is_refused(ctx, floor):
    for advisor_id in (floor["inactive"], 999):
        with pytest.raises(ValidationError) as info:
            work.book_appointment(ctx, floor["ana"], floor["rdv_call"], advisor_id, paris(TUESDAY, "09:00"), "visit")
        assert info.value.errors["advisor_id"].render() == "Conseiller introuvable."


def test_a_cancelled_appointment_frees_its_slot(ctx, floor):
    first = work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"], paris(TUESDAY, "10:00"),
                                  "visit")
    with ctx.unit() as session:
        session.get(Appointment, first.id).status = "cancelled"
    assert paris(TUESDAY, "10:00") in work.free_slots(ctx, floor["advisor"], TUESDAY)
    again = work.book_appointment(ctx, floor["bilal"], floor["rdv_call_lea"], floor["advisor"],
                                  paris(TUESDAY, "10:00"), "video")
    with ctx.read() as session:
        rows = session.scalars(select(Appointment)).all()
    assert [(r.id, r.status, r.contact_id, r.mode) for r in rows] == [(again.id, "booked", floor["lea"], "video")]


def _lock_waiters(ctx) -> int:
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar()


def test_double_booking_is_refused_when_two_transactions_race(ctx, floor):
    """Another transaction holds an uncommitted booking of the slot while ours checks it: on PostgreSQL
    ours saw the slot free and waits on the unique index, then loses; on SQLite it waits for the write
    lock and then sees the slot taken. Either way: refused, one appointment."""
    starts = paris(TUESDAY, "15:00")
    outcome: dict = {}
    with ctx.unit() as holder:
        holder.add(Appointment(advisor_id=floor["advisor"], contact_id=floor["lea"], starts_at=starts,
                               ends_at=starts + timedelta(minutes=30), mode="visit", created_at=ctx.now()))
        holder.flush()

        def book():
            try:
                work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"], starts, "visit")
            except ConflictError as exc:
                outcome["refused"] = exc.render()

        worker = threading.Thread(target=book)
        worker.start()
        if ctx.db.is_sqlite:
            time.sleep(0.2)  # ordering does not change the result, only which check refuses
        else:
            deadline = time.monotonic() + 10
            while _lock_waiters(ctx) == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
            assert _lock_waiters(ctx) >= 1, "the booking should wait on the uncommitted one"
    worker.join(timeout=30)
    assert outcome["refused"].startswith("Le créneau du 24/11/2026 à 15:00 est déjà pris chez Mme Roy")
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert _notes(ctx, floor["karim"]) == []


def test_two_agents_booking_the_same_slot_at_once_get_one_appointment(ctx, floor):
    starts = paris(TUESDAY, "11:30")
    barrier = threading.Barrier(2)
    results: list = []

    def book(actor, call_id):
        barrier.wait()
        try:
            work.book_appointment(ctx, actor, call_id, floor["advisor"], starts, "visit")
            results.append("booked")
        except ConflictError:
            results.append("refused")

    threads = [threading.Thread(target=book, args=(floor["ana"], floor["rdv_call"])),
               threading.Thread(target=book, args=(floor["bilal"], floor["rdv_call_lea"]))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["booked", "refused"]
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1


# --- who records, and when ------------------------------------------------------------------------------------


def test_only_the_agent_on_the_call_or_a_supervisor_records(ctx, floor):
    with pytest.raises(PermissionDenied):
        work.book_appointment(ctx, floor["bilal"], floor["rdv_call"], floor["advisor"], paris(TUESDAY, "09:00"), "visit")
    with pytest.raises(PermissionDenied):
        work.panel(ctx, floor["bilal"], floor["rdv_call"])
    work.book_appointment(ctx, floor["boss"], floor["rdv_call"], floor["advisor"], paris(TUESDAY, "09:00"), "visit")
    with pytest.raises(NotFoundError):
        work.book_appointment(ctx, floor["ana"], 9999, floor["advisor"], paris(TUESDAY, "09:30"), "visit")


def test_a_closed_call_is_for_supervisors_and_a_call_not_answered_for_nobody(ctx, floor):
    with pytest.raises(DomainError) as info:
        work.book_appointment(ctx, floor["ana"], floor["rdv_closed"], floor["advisor"], paris(TUESDAY, "09:00"), "visit")
    assert "seul un superviseur" in info.value.render()
    assert not work.panel(ctx, floor["ana"], floor["rdv_closed"]).can_record
    work.book_appointment(ctx, floor["boss"], floor["rdv_closed"], floor["advisor"], paris(TUESDAY, "09:00"), "visit")
    for actor in (floor["ana"], floor["boss"]):
        with pytest.raises(DomainError) as info:
            work.book_appointment(ctx, actor, floor["rdv_dialing"], floor["advisor"], paris(TUESDAY, "09:30"), "visit")
        assert info.value.render() == "Rien ne s'enregistre tant que la personne appelée n'est pas en ligne."


def test_each_campaign_type_records_its_own_work(ctx, floor):
    with pytest.raises(DomainError) as info:
        work.record_promise(ctx, floor["ana"], floor["rdv_call"], "50", "2026-12-01")
    assert info.value.render() == "Ce type de campagne ne prévoit pas de promesse de paiement."
    with pytest.raises(DomainError):
        work.record_sale(ctx, floor["ana"], floor["debt_call"], [TypedLine("box", "1", "10")], "carte")
    with pytest.raises(DomainError):
        work.book_appointment(ctx, floor["ana"], floor["survey_call"], floor["advisor"], paris(TUESDAY, "09:00"), "visit")
    assert work.panel(ctx, floor["ana"], floor["survey_call"]).kinds == ()
    assert work.panel(ctx, floor["ana"], floor["debt_call"]).kinds == ("promise", "plan")
    with ctx.unit() as session:
        inbound = Call(direction="inbound", state="connected", caller_number="+33600000000", agent_id=floor["ana"].id,
                       created_at=ctx.now(), state_since=ctx.now())
        session.add(inbound)
        session.flush()
        inbound_id = inbound.id
    with pytest.raises(DomainError) as info:
        work.record_promise(ctx, floor["ana"], inbound_id, "50", "2026-12-01")
    assert info.value.render() == "Cet appel ne fait partie d'aucune campagne."


# --- debt collection ------------------------------------------------------------------------------------------


def test_a_promise_to_pay_is_recorded_with_its_note(ctx, floor):
    plan = work.record_promise(ctx, floor["ana"], floor["debt_call"], "120,50", "15/12/2026", debt="480",
                               method="transfer", note="Après le versement du salaire")
    with ctx.read() as session:
        row = session.get(PaymentPlan, plan.id)
    assert (row.kind, row.total_cents, row.debt_cents, row.campaign_id, row.payment_method) == (
        "promise", 12050, 48000, floor["debt"], "transfer")
    assert row.instalments == [{"due": "2026-12-15", "amount_cents": 12050}]
    assert _notes(ctx, floor["karim"]) == [
        "Promesse de paiement : 120,50\u00a0€ au plus tard le 15/12/2026.\nMoyen de paiement : Virement\n"
        "Note : Après le versement du salaire"]


def test_bad_promises_are_refused_by_field(ctx, floor):
    for amount, due, debt, field, message in (
            ("0", "2026-12-15", "", "amount", "Le montant doit être supérieur à zéro."),
            ("douze", "2026-12-15", "", "amount", "Montant illisible « douze » : écrivez par exemple 120 ou 120,50."),
            ("50", "2026-11-22", "", "due", "Le 22/11/2026 est déjà passé."),
            ("50", "", "", "due", "Indiquez une date."),
            ("500", "2026-12-15", "100", "debt",
             "La dette (100,00) ne peut pas être inférieure au montant promis (500,00).")):
        with pytest.raises(ValidationError) as info:
            work.record_promise(ctx, floor["ana"], floor["debt_call"], amount, due, debt)
        assert info.value.errors[field].render() == message
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 0


def test_a_payment_plan_is_proposed_then_recorded_as_edited(ctx, floor):
    debt, lines = work.propose_plan(ctx, "1 000", "3", "2026-12-05")
    assert debt == 100000
    assert [(i.due.isoformat(), i.amount_cents) for i in lines] == [
        ("2026-12-05", 33334), ("2027-01-05", 33333), ("2027-02-05", 33333)]
    plan = work.record_payment_plan(ctx, floor["ana"], floor["debt_call"], "1000",
                                    [("2026-12-05", "400"), ("2027-01-05", "300"), ("2027-02-05", "300")],
                                    method="direct_debit")
    with ctx.read() as session:
        row = session.get(PaymentPlan, plan.id)
    assert (row.kind, row.debt_cents, row.total_cents) == ("plan", 100000, 100000)
    assert [i["amount_cents"] for i in row.instalments] == [40000, 30000, 30000]
    assert _notes(ctx, floor["karim"]) == [
        "Échéancier : 1\u202f000,00\u00a0€ en 3 échéances, du 05/12/2026 au 05/02/2027.\nMoyen de paiement : Prélèvement"]
    assert [p.plan.id for p in work.work_of_call(ctx, floor["debt_call"]).plans] == [plan.id]


def test_a_payment_plan_that_breaks_a_rule_says_which_row(ctx, floor):
    with pytest.raises(ValidationError) as info:
        work.record_payment_plan(ctx, floor["ana"], floor["debt_call"], "1000",
                                 [("2026-12-05", "400"), ("2026-12-01", "300"), ("2027-02-05", "-3")])
    errors = info.value.errors
    assert set(errors) == {"due_1", "amount_2"}
    assert errors["due_1"].render() == ("Échéance n° 2 : sa date (01/12/2026) doit suivre celle de l'échéance "
                                        "précédente (05/12/2026).")
    with pytest.raises(ValidationError) as info:
        work.record_payment_plan(ctx, floor["ana"], floor["debt_call"], "1000", [("2026-12-05", "400")])
    assert info.value.errors["total"].render() == (
        "Les échéances totalisent 400,00 alors que la dette est de 1\u202f000,00 : écart de 600,00.")
    with pytest.raises(ValidationError) as info:
        work.propose_plan(ctx, "1000", "30", "2026-12-05")
    assert "entre 1 et 24" in info.value.errors["count"].render()
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 0


# --- sales ------------------------------------------------------------------------------------------------------


def test_a_sale_records_its_lines_amount_and_additional_part(ctx, floor):
    sale = work.record_sale(ctx, floor["ana"], floor["sale_call"],
                            [TypedLine("box", "2", "29,99"), TypedLine("tv", "1", "5", additional=True)],
                            "Carte bancaire", "Envoi en point relais")
    with ctx.read() as session:
        row = session.get(Sale, sale.id)
    assert (row.amount_cents, row.additional_cents, row.campaign_id) == (6498, 500, floor["sale"])
    assert row.lines == [{"product": "box", "quantity": 2, "unit_price_cents": 2999, "additional": False},
                         {"product": "tv", "quantity": 1, "unit_price_cents": 500, "additional": True}]
    assert _notes(ctx, floor["karim"]) == [
        "Vente : 64,98\u00a0€ (2 × Box Fibre, 1 × Option TV).\nDont vente additionnelle : 5,00\u00a0€.\n"
        "Paiement : Carte bancaire\nLivraison : Envoi en point relais"]


def test_a_bad_sale_names_each_row(ctx, floor):
    with pytest.raises(ValidationError) as info:
        work.record_sale(ctx, floor["ana"], floor["sale_call"],
                         [TypedLine("box", "1,5", "10"), TypedLine("tv", "1", ""), TypedLine("modem", "1", "3")], "")
    errors = info.value.errors
    assert set(errors) == {"quantity_0", "price_1", "product_2", "payment_terms"}
    assert errors["product_2"].render() == "Le produit « modem » n'est pas proposé par cette campagne."
    with pytest.raises(ValidationError) as info:
        work.record_sale(ctx, floor["ana"], floor["sale_call"], [TypedLine("box", "", "")], "Chèque")
    assert list(info.value.errors) == ["lines"]
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == 0


# --- advisors -----------------------------------------------------------------------------------------------------


def test_advisors_are_set_up_with_the_queue_hours_format(ctx, floor):
    form = work.AdvisorForm(name="  M. Durand ", location="Casablanca", slot_minutes="45", timezone="Africa/Casablanca",
                            hours={"mon": "09:00-12:00, 14:00-17:00", "wed": "10:00-11:30"})
    advisor = work.save_advisor(ctx, floor["boss"], None, form)
    assert (advisor.name, advisor.slot_minutes, advisor.timezone) == ("M. Durand", 45, "Africa/Casablanca")
    assert advisor.hours == {"mon": [["09:00", "12:00"], ["14:00", "17:00"]], "wed": [["10:00", "11:30"]]}
    assert work.advisor_form(ctx, floor["boss"], advisor.id).hours["mon"] == "09:00-12:00, 14:00-17:00"
    bad = work.AdvisorForm(name="", slot_minutes="2", timezone="Lune/Base", hours={"tue": "14:00-09:00"})
    with pytest.raises(ValidationError) as info:
        work.save_advisor(ctx, floor["boss"], advisor.id, bad)
    assert set(info.value.errors) == {"name", "slot_minutes", "timezone", "hours_tue"}
    assert work.get_advisor(ctx, advisor.id).name == "M. Durand"
    with pytest.raises(PermissionDenied):
        work.save_advisor(ctx, floor["ana"], None, form)


def test_an_advisors_day_shows_each_slot_free_or_booked_with_whom(ctx, floor):
    work.book_appointment(ctx, floor["ana"], floor["rdv_call"], floor["advisor"], paris(MONDAY, "11:00"), "visit")
    day = work.advisor_day(ctx, floor["boss"], floor["advisor"], MONDAY)
    rows = [(r.starts_at.astimezone(PARIS).strftime("%H:%M"), r.contact_name, r.past) for r in day.rows]
    assert rows[:6] == [("09:00", "", True), ("09:30", "", True), ("10:00", "", True), ("10:30", "", False),
                        ("11:00", "Monsieur Karim Benali", False), ("11:30", "", False)]
    assert len(rows) == 10 and day.free_count == 6
    with pytest.raises(PermissionDenied):
        work.advisor_day(ctx, floor["ana"], floor["advisor"], MONDAY)


# --- over HTTP ----------------------------------------------------------------------------------------------------

HX = {"HX-Request": "true"}
#: what htmx sends when a form of the panel posts: only the panel's content comes back
FORM = {"HX-Request": "true", "HX-Target": "campaign-work"}


@pytest.fixture
def web(client, sqlite_ctx):
    return client, _floor(sqlite_ctx)


def test_the_panel_is_a_fragment_for_htmx_and_a_page_otherwise(web):
    client, f = web
    login(client, "ana")
    fragment = client.get(f"/calls/{f['rdv_call']}/work", headers=HX)
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="campaign-work"')
    assert "<h1" not in fragment.text and 'id="campaign-work-title"' in fragment.text
    assert "Créneaux libres de Mme Roy le lundi 23 novembre 2026" in html.unescape(fragment.text)
    assert f'value="{paris(MONDAY, "10:30").isoformat()}"' in fragment.text
    assert paris(MONDAY, "09:30").isoformat() not in fragment.text
    whole = client.get(f"/calls/{f['rdv_call']}/work")
    assert whole.status_code == 200 and whole.text.count("<h1") == 1
    tuesday = client.get(f"/calls/{f['rdv_call']}/work", params={"advisor": f["advisor"], "day": "2026-11-24"},
                         headers=HX)
    assert html.unescape(tuesday.text).count('name="starts_at"') == 10
    assert client.get(f"/calls/{f['rdv_call_lea']}/work", headers=HX).status_code == 403
    assert 'id="cw-sale-quantity_1"' in client.get(f"/calls/{f['sale_call']}/work", headers=HX).text


def test_booking_through_the_panel_and_the_double_booking_message(web):
    client, f = web
    token = login(client, "ana")
    slot = paris(TUESDAY, "09:00").isoformat()
    form = {"csrf_token": token, "advisor_id": f["advisor"], "day": "2026-11-24", "starts_at": slot, "mode": "video",
            "note": "Apporter les factures"}
    done = client.post(f"/calls/{f['rdv_call']}/work/appointment", data=form, headers=FORM)
    assert done.status_code == 200
    assert 'id="campaign-work"' not in done.text and 'id="campaign-work-title"' in done.text
    page = html.unescape(done.text)
    assert 'data-announce="Rendez-vous enregistré."' in page
    assert "Rendez-vous avec Mme Roy le 24/11/2026 à 09:00 (Visio)." in page
    assert f'value="{slot}"' not in done.text  # no longer offered
    client.post("/logout", data={"csrf_token": token})
    token = login(client, "bilal")
    taken = client.post(f"/calls/{f['rdv_call_lea']}/work/appointment", data={**form, "csrf_token": token},
                        headers=FORM)
    assert taken.status_code == 409
    assert "Le créneau du 24/11/2026 à 09:00 est déjà pris chez Mme Roy : choisissez-en un autre." in html.unescape(taken.text)
    assert 'role="alert"' in taken.text and "Apporter les factures" in taken.text  # what was typed is kept
    bad = client.post(f"/calls/{f['rdv_call_lea']}/work/appointment",
                      data={**form, "csrf_token": token, "starts_at": "n'importe quoi", "mode": "fax"}, headers=FORM)
    assert bad.status_code == 422
    text = html.unescape(bad.text)
    assert "Créneau : Choisissez un créneau libre." in text
    assert "Type de rendez-vous : Choisissez le type de rendez-vous : visite, téléphone ou visio." in text
    assert 'aria-invalid="true"' in bad.text
    plain = client.post(f"/calls/{f['rdv_call_lea']}/work/appointment",
                        data={**form, "csrf_token": token, "starts_at": paris(TUESDAY, "09:30").isoformat()},
                        follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"] == f"/calls/{f['rdv_call_lea']}/work?done=appointment"


def test_plan_promise_and_sale_through_the_panel(web):
    client, f = web
    token = login(client, "ana")
    url = f"/calls/{f['debt_call']}/work"
    proposed = client.post(f"{url}/plan", data={"csrf_token": token, "action": "propose", "debt": "600", "count": "3",
                                                "first_due": "2026-12-10"}, headers=FORM)
    assert proposed.status_code == 200
    assert 'name="due_2" value="2027-02-10"' in proposed.text and 'name="amount_0" value="200,00"' in proposed.text
    lines = {"due_0": "2026-12-10", "amount_0": "100", "due_1": "2027-01-10", "amount_1": "200", "due_2": "2027-02-10",
             "amount_2": "200"}
    wrong = client.post(f"{url}/plan", data={"csrf_token": token, "action": "save", "debt": "600", **lines},
                        headers=FORM)
    assert wrong.status_code == 422
    assert "Total des échéances : Les échéances totalisent 500,00 alors que la dette est de 600,00" in html.unescape(wrong.text)
    saved = client.post(f"{url}/plan", data={"csrf_token": token, "action": "save", "debt": "600",
                                             **lines, "amount_0": "200"}, headers=FORM)
    assert saved.status_code == 200 and "Échéancier enregistré." in saved.text
    promise = client.post(f"{url}/promise", data={"csrf_token": token, "amount": "", "due": "2026-12-01"}, headers=FORM)
    assert promise.status_code == 422 and "Montant promis : Indiquez un montant." in html.unescape(promise.text)
    sale_url = f"/calls/{f['sale_call']}/work/sale"
    sale = client.post(sale_url, data={"csrf_token": token, "product_0": "box", "quantity_0": "1", "price_0": "29,99",
                                       "product_1": "tv", "quantity_1": "2", "price_1": "4,50", "additional_1": "1",
                                       "payment_terms": "Prélèvement"}, headers=FORM)
    assert sale.status_code == 200
    assert "Vente : 38,99\u00a0€, dont 9,00\u00a0€ en vente additionnelle." in html.unescape(sale.text)
    bad_sale = client.post(sale_url, data={"csrf_token": token, "product_0": "box", "quantity_0": "trois",
                                           "price_0": "1", "product_1": "tv", "payment_terms": "x"}, headers=FORM)
    assert bad_sale.status_code == 422
    assert "Quantité de « Box Fibre » : La quantité est un nombre entier entre 1 et 9999." in html.unescape(bad_sale.text)
    assert 'value="trois"' in bad_sale.text
    with f["ctx"].read() as session:
        assert session.scalar(select(func.count()).select_from(Sale)) == 1
        assert session.scalar(select(func.count()).select_from(PaymentPlan)) == 1


def test_advisor_pages(web):
    client, f = web
    token = login(client, "formateur")
    listing = client.get("/campaigns/advisors")
    assert listing.status_code == 200 and "Mme Roy" in listing.text
    refused = client.post("/campaigns/advisors/new", data={"csrf_token": token, "name": "M. Blanc", "slot_minutes": "30",
                                                           "timezone": "Europe/Paris", "hours_mon": "9h-12h"})
    assert refused.status_code == 422
    assert "Lundi : chaque plage s'écrit HH:MM-HH:MM." in html.unescape(refused.text)
    assert 'value="9h-12h"' in refused.text
    created = client.post("/campaigns/advisors/new", data={"csrf_token": token, "name": "M. Blanc", "slot_minutes": "30",
                                                           "timezone": "Europe/Paris", "hours_mon": "09:00-12:00",
                                                           "active": "1"}, follow_redirects=False)
    assert created.status_code == 303
    day = client.get(f"/campaigns/advisors/{f['advisor']}", params={"day": "2026-11-24"})
    assert day.status_code == 200
    assert "mardi 24 novembre 2026 : 10 créneaux libres sur 10" in html.unescape(day.text)
    client.post("/logout", data={"csrf_token": token})
    login(client, "ana")
    assert client.get("/campaigns/advisors").status_code == 403
