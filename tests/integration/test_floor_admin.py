"""Administration of the floor through the services and the pages: queues' routing
rules (validated field by field, then really used by routing), teams, skills, and
the agents' teams and skill levels."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from plateau.domain.errors import ConflictError, DomainError, PermissionDenied, ValidationError
from plateau.services import agents, calls
from plateau.services import floor_admin as admin
from plateau.services.floor_admin import AgentInput, QueueForm, SkillRequirement
from plateau.services.users import actor_for
from plateau.store.models import AgentSkill, Call, CallEvent, Event, Queue, QueueMember, QueueSkill, Skill, Team, User
from tests.helpers import login, make_queue, make_user


@pytest.fixture
def floor(ctx):
    """Two queues, a supervisor, three agents (ana and bilal in the first queue, chloe in the second), two skills."""
    boss = actor_for(make_user(ctx, "formateur", role="supervisor"))
    ana = actor_for(make_user(ctx, "ana", name="Ana Martin"))
    bilal = actor_for(make_user(ctx, "bilal", name="Bilal Haddad"))
    chloe = actor_for(make_user(ctx, "chloe", name="Chloé Roux"))
    first, dispositions = make_queue(ctx, [ana, bilal], code="service-clients", name="Service clients")
    second, _ = make_queue(ctx, [chloe], code="facturation", name="Facturation", dispositions=(("paid", "Payé"),))
    fr = admin.save_skill(ctx, boss, None, "fr", "Français", "language")
    ar = admin.save_skill(ctx, boss, None, "ar", "Arabe", "language")
    return {"boss": boss, "ana": ana, "bilal": bilal, "chloe": chloe, "first": first, "second": second,
            "info": dispositions[0], "fr": fr.id, "ar": ar.id}


def _form(ctx, floor, queue: str = "first", **changes) -> QueueForm:
    form = admin.edit_queue(ctx, floor["boss"], floor[queue]).form
    for name, value in changes.items():
        setattr(form, name, value)
    return form


def _save(ctx, floor, queue: str = "first", **changes):
    edit = admin.edit_queue(ctx, floor["boss"], floor[queue])
    for name, value in changes.items():
        setattr(edit.form, name, value)
    return admin.save_queue(ctx, floor["boss"], floor[queue], edit.form, edit.fingerprint)


def _messages(exc: ValidationError) -> dict[str, str]:
    return {name: error.render() for name, error in exc.errors.items()}


def _available(ctx, *actors):
    for actor in actors:
        agents.set_state(ctx, actor, "available")
        ctx.clock.advance(seconds=1)


def _levels(ctx, floor, **levels_by_agent):
    """Set agents' levels through the agents' grid: ``ana={"ar": 4}``."""
    grid = admin.agents_grid(ctx, floor["boss"])
    rows = []
    for row in grid.rows:
        wanted = levels_by_agent.get(row.user.username)
        if wanted is None:
            continue
        rows.append(AgentInput(row.user.id, row.team_id, {floor[code]: str(level) for code, level in wanted.items()},
                               row.fingerprint))
    return admin.save_agents(ctx, floor["boss"], rows)


# --- permissions -------------------------------------------------------------------------------------


def test_agents_may_not_administer_the_floor(ctx, floor):
    agent = floor["ana"]
    for attempt in (lambda: admin.list_queues(ctx, agent), lambda: admin.edit_queue(ctx, agent, floor["first"]),
                    lambda: admin.save_queue(ctx, agent, floor["first"], QueueForm()),
                    lambda: admin.save_team(ctx, agent, None, "x", "X"), lambda: admin.list_skills(ctx, agent),
                    lambda: admin.save_skill(ctx, agent, None, "x", "X", "language"),
                    lambda: admin.agents_grid(ctx, agent), lambda: admin.save_agents(ctx, agent, [])):
        with pytest.raises(PermissionDenied):
            attempt()


# --- queue settings: validation ------------------------------------------------------------------------


def test_every_refused_field_is_named_with_its_rule(ctx, floor):
    form = _form(ctx, floor, code="Service Clients!", name="", strategy="random", priority="101", ring_timeout_s="2",
                 hours={"mon": "8h-12h", "tue": "12:00-08:00", "wed": "08:00-12:00, 11:00-14:00", "thu": "08:00-18:00"},
                 holiday_country="XX", overflow_after_s="0", max_wait_s="abc", callback_after_s="30",
                 sl_threshold_s="0", sl_target="120", alert_waiting="-1", alert_longest_wait_s="x",
                 alert_abandon_rate="150", skills=[SkillRequirement(str(floor["fr"]), "3"), SkillRequirement(str(floor["fr"]), "2"),
                                                   SkillRequirement(str(floor["ar"]), "6"), SkillRequirement("999", "1")],
                 dispositions=[])
    with pytest.raises(ValidationError) as refused:
        admin.save_queue(ctx, floor["boss"], floor["first"], form)
    assert _messages(refused.value) == {
        "code": "Le code s'écrit en minuscules sans accent, chiffres, tirets et soulignés (64 caractères au plus).",
        "name": "Le nom est obligatoire (200 caractères au plus).",
        "ring_timeout_s": "Indiquez un nombre entre 5 et 300.",
        "strategy": "Choisissez une stratégie de distribution de la liste.",
        "priority": "Indiquez un nombre entre 0 et 100.",
        "hours_mon": "Lundi : chaque plage s'écrit HH:MM-HH:MM.",
        "hours_tue": "Mardi : la plage 12:00-08:00 finit avant de commencer.",
        "hours_wed": "Mercredi : les plages 08:00-12:00 et 11:00-14:00 se chevauchent.",
        "holiday_country": "Pays inconnu du calendrier des jours fériés : XX.",
        "overflow_after_s": "Indiquez un délai en secondes, supérieur à 0 et au plus 86400.",
        "max_wait_s": "Indiquez un délai en secondes, supérieur à 0 et au plus 86400.",
        "sl_threshold_s": "Indiquez un délai en secondes, supérieur à 0 et au plus 86400.",
        "sl_target": "L'objectif est un pourcentage supérieur à 0 et au plus 100.",
        "alert_waiting": "Indiquez un nombre positif ou nul.",
        "alert_longest_wait_s": "Indiquez un nombre entier.",
        "alert_abandon_rate": "Indiquez un pourcentage entre 0 et 100.",
        "skill_1": "La compétence « Français » est demandée deux fois.",
        "skill_2_level": "Le niveau minimum va de 1 à 5.",
        "skill_3": "Compétence inconnue.",
        "dispositions": "Cochez au moins une qualification : sans elle, les agents ne peuvent pas clôturer leurs appels.",
    }
    with ctx.read() as session:  # nothing written
        assert session.get(Queue, floor["first"]).code == "service-clients"


#: (changes, refused field, message); FIRST, SECOND, TEAM and INACTIVE stand for ids
DELAY_CASES = [
    ({"overflow_after_s": "60", "overflow_queue_id": "SECOND", "overflow_team_id": "TEAM"}, "overflow_queue_id",
     "Choisissez une file ou une équipe de débordement, pas les deux."),
    ({"overflow_after_s": "60", "overflow_queue_id": "FIRST"}, "overflow_queue_id",
     "Une file ne peut pas déborder vers elle-même."),
    ({"overflow_after_s": "60", "overflow_queue_id": "INACTIVE"}, "overflow_queue_id",
     "Choisissez une file de débordement active."),
    ({"overflow_after_s": "60"}, "overflow_queue_id", "Choisissez la file ou l'équipe vers laquelle l'appel déborde."),
    ({"overflow_team_id": "TEAM"}, "overflow_after_s", "Indiquez après combien de secondes d'attente l'appel déborde."),
    ({"overflow_team_id": "999", "overflow_after_s": "60"}, "overflow_team_id", "Équipe de débordement inconnue."),
    ({"callback_after_s": "300", "max_wait_s": "300"}, "callback_after_s",
     "Le rappel doit être proposé avant l'attente maximale (300 s) : sinon l'appelant n'en a jamais le choix."),
    ({"overflow_after_s": "400", "overflow_queue_id": "SECOND", "max_wait_s": "300"}, "overflow_after_s",
     "Le débordement doit avoir lieu avant l'attente maximale (300 s) : sinon l'appel est coupé avant de déborder."),
    ({"code": "facturation"}, "code", "Le code « facturation » est déjà pris par une autre file."),
]


def test_overflow_and_delays_must_make_sense(ctx, floor):
    team = admin.save_team(ctx, floor["boss"], None, "technique", "Équipe Technique")
    with ctx.unit() as session:
        inactive = Queue(code="ancienne", name="Ancienne file", active=False)
        session.add(inactive)
        session.flush()
        ids = {"FIRST": floor["first"], "SECOND": floor["second"], "TEAM": team.id, "INACTIVE": inactive.id}
    for changes, field, message in DELAY_CASES:
        with pytest.raises(ValidationError) as refused:
            _save(ctx, floor, **{name: str(ids.get(value, value)) for name, value in changes.items()})
        assert _messages(refused.value) == {field: message}, changes
    # the same rules, respected, are accepted
    _save(ctx, floor, overflow_after_s="90", overflow_queue_id=str(floor["second"]), callback_after_s="60", max_wait_s="300")


def test_a_queue_others_overflow_to_stays_active(ctx, floor):
    _save(ctx, floor, "second", overflow_after_s="90", overflow_queue_id=str(floor["first"]))
    with pytest.raises(ValidationError) as refused:
        _save(ctx, floor, active=False)
    assert _messages(refused.value) == {
        "active": "Ces files débordent vers celle-ci : Facturation. Changez d'abord leur débordement."}


def test_settings_are_saved_and_shown_again(ctx, floor):
    team = admin.save_team(ctx, floor["boss"], None, "technique", "Équipe Technique")
    _save(ctx, floor, strategy="round_robin", priority="3", hours={"mon": "08:30-12:30, 13:30-18:00", "sat": "09:00-12:00"},
          holiday_country="ma", closed_message="Fermé.", overflow_after_s="90", overflow_team_id=str(team.id),
          max_wait_s="600", callback_after_s="60", sl_threshold_s="15", sl_target="90", alert_waiting="3",
          alert_longest_wait_s="45", alert_abandon_rate="7.5", skills=[SkillRequirement(str(floor["ar"]), "3")],
          members=[str(floor["bilal"].id), str(floor["chloe"].id)])
    with ctx.read() as session:
        queue = session.get(Queue, floor["first"])
        assert (queue.strategy, queue.priority, queue.holiday_country, queue.closed_message) == ("round_robin", 3, "MA", "Fermé.")
        assert queue.hours == {"mon": [["08:30", "12:30"], ["13:30", "18:00"]], "sat": [["09:00", "12:00"]]}
        assert (queue.overflow_after_s, queue.overflow_queue_id, queue.overflow_team_id) == (90, None, team.id)
        assert (queue.max_wait_s, queue.callback_after_s, queue.sl_threshold_s) == (600, 60, 15)
        assert (queue.sl_target, queue.alert_waiting, queue.alert_longest_wait_s, queue.alert_abandon_rate) == (0.9, 3, 45, 0.075)
        assert session.execute(select(QueueSkill.skill_id, QueueSkill.min_level)
                               .where(QueueSkill.queue_id == queue.id)).all() == [(floor["ar"], 3)]
        assert set(session.scalars(select(QueueMember.user_id).where(QueueMember.queue_id == queue.id))) == {
            floor["bilal"].id, floor["chloe"].id}
        change = session.scalars(select(Event).where(Event.type == "queue_settings")).one()
    assert change.channel == "floor" and "strategy" in change.payload["changed"]
    again = admin.edit_queue(ctx, floor["boss"], floor["first"]).form
    assert again.hours["mon"] == "08:30-12:30, 13:30-18:00" and again.hours["tue"] == ""
    assert (again.sl_target, again.alert_abandon_rate, again.holiday_country) == ("90", "7.5", "MA")
    summary = {row.queue.id: row for row in admin.list_queues(ctx, floor["boss"])}[floor["first"]]
    assert summary.hours == [("mon", "mon", "08:30-12:30, 13:30-18:00"), ("sat", "sat", "09:00-12:00")]
    assert summary.overflow_team == "Équipe Technique" and summary.members == ["Bilal Haddad", "Chloé Roux"]
    assert summary.served is False, "nobody has Arabic yet"
    _levels(ctx, floor, bilal={"ar": 4})
    summary = {row.queue.id: row for row in admin.list_queues(ctx, floor["boss"])}[floor["first"]]
    assert summary.served is True


def test_two_supervisors_editing_the_same_queue(ctx, floor):
    mine = admin.edit_queue(ctx, floor["boss"], floor["first"])
    theirs = admin.edit_queue(ctx, floor["boss"], floor["first"])
    theirs.form.priority = "5"
    admin.save_queue(ctx, floor["boss"], floor["first"], theirs.form, theirs.fingerprint)
    mine.form.strategy = "most_skilled"
    with pytest.raises(ConflictError):
        admin.save_queue(ctx, floor["boss"], floor["first"], mine.form, mine.fingerprint)
    with ctx.read() as session:
        assert session.get(Queue, floor["first"]).strategy == "longest_idle"
    # routing's own bookkeeping (who was offered the last call) is not an edit
    with ctx.unit() as session:
        session.get(Queue, floor["first"]).last_agent_id = floor["ana"].id
    fresh = admin.edit_queue(ctx, floor["boss"], floor["first"])
    with ctx.unit() as session:
        session.get(Queue, floor["first"]).last_agent_id = floor["bilal"].id
    fresh.form.strategy = "most_skilled"
    admin.save_queue(ctx, floor["boss"], floor["first"], fresh.form, fresh.fingerprint)
    with ctx.read() as session:
        assert (session.get(Queue, floor["first"]).strategy, session.get(Queue, floor["first"]).priority) == ("most_skilled", 5)


def test_a_new_queue_takes_calls(ctx, floor):
    form = QueueForm(code="arabophone", name="Service arabophone", members=[str(floor["bilal"].id)],
                     dispositions=[str(floor["info"])], skills=[SkillRequirement(str(floor["ar"]), "3")])
    queue = admin.save_queue(ctx, floor["boss"], None, form)
    _levels(ctx, floor, bilal={"ar": 5})
    _available(ctx, floor["bilal"])
    call = calls.place_call(ctx, floor["boss"], queue.id, "+212661234567")
    assert call.agent_id == floor["bilal"].id and call.state == "ringing"


# --- what routing does with the saved settings -----------------------------------------------------


def test_required_skills_saved_here_decide_who_rings(ctx, floor):
    _levels(ctx, floor, ana={"fr": 5}, bilal={"fr": 3, "ar": 4})
    _save(ctx, floor, skills=[SkillRequirement(str(floor["ar"]), "3")])
    _available(ctx, floor["ana"], floor["bilal"])  # ana free for longer, but no Arabic
    call = calls.place_call(ctx, floor["boss"], floor["first"], "+212661234567")
    assert call.agent_id == floor["bilal"].id


def test_most_skilled_strategy_saved_here(ctx, floor):
    _levels(ctx, floor, ana={"fr": 2}, bilal={"fr": 5})
    _save(ctx, floor, strategy="most_skilled", skills=[SkillRequirement(str(floor["fr"]), "1")])
    _available(ctx, floor["ana"], floor["bilal"])
    assert calls.place_call(ctx, floor["boss"], floor["first"], "0612345678").agent_id == floor["bilal"].id


def test_overflow_saved_here_moves_the_call_after_the_delay(ctx, floor):
    _save(ctx, floor, overflow_after_s="90", overflow_queue_id=str(floor["second"]), callback_after_s="60",
          max_wait_s="600")
    _available(ctx, floor["chloe"])  # only chloe is free, and she is not in the first queue
    call = calls.place_call(ctx, floor["boss"], floor["first"], "0612345678")
    assert call.state == "offered"
    ctx.clock.advance(seconds=89)
    calls.tick(ctx)
    with ctx.read() as session:
        assert session.get(Call, call.id).state == "offered"
        offered = session.scalars(select(CallEvent.action).where(CallEvent.call_id == call.id)).all()
    assert "callback_offer" in offered, "past 60 s the caller may ask to be called back"
    ctx.clock.advance(seconds=1)
    calls.tick(ctx)
    with ctx.read() as session:
        moved = session.get(Call, call.id)
    assert (moved.queue_id, moved.agent_id, moved.state) == (floor["second"], floor["chloe"].id, "ringing")


def test_hours_saved_here_close_the_queue(ctx, floor):
    # the test clock: Monday 23 November 2026, 09:00 UTC (10:00 in Paris)
    _save(ctx, floor, hours={"mon": "14:00-18:00"}, closed_message="Revenez cet après-midi.")
    _available(ctx, floor["ana"])
    call = calls.place_call(ctx, floor["boss"], floor["first"], "0612345678")
    assert call.state == "deflected"
    _save(ctx, floor, hours={"mon": "08:00-18:00"})
    assert calls.place_call(ctx, floor["boss"], floor["first"], "0612345678").agent_id == floor["ana"].id


def test_a_new_member_is_offered_the_waiting_call_at_once(ctx, floor):
    _available(ctx, floor["chloe"])
    call = calls.place_call(ctx, floor["boss"], floor["first"], "0612345678")
    assert call.state == "offered"
    _save(ctx, floor, members=[str(floor["ana"].id), str(floor["bilal"].id), str(floor["chloe"].id)])
    with ctx.read() as session:
        assert session.get(Call, call.id).agent_id == floor["chloe"].id


# --- teams, skills, agents ------------------------------------------------------------------------------


def test_teams_are_created_renamed_and_deleted_when_unused(ctx, floor):
    team = admin.save_team(ctx, floor["boss"], None, "Technique", "Équipe Technique")
    assert team.code == "technique"
    with pytest.raises(ValidationError) as refused:
        admin.save_team(ctx, floor["boss"], None, "technique", " ")
    assert _messages(refused.value) == {"code": "Le code « technique » est déjà pris par une autre équipe.",
                                        "name": "Le nom est obligatoire (200 caractères au plus)."}
    admin.save_team(ctx, floor["boss"], team.id, "technique", "Équipe Tech")
    grid = admin.agents_grid(ctx, floor["boss"])
    ana_row = next(r for r in grid.rows if r.user.id == floor["ana"].id)
    admin.save_agents(ctx, floor["boss"], [AgentInput(floor["ana"].id, str(team.id), {}, ana_row.fingerprint)])
    rows = admin.list_teams(ctx, floor["boss"])
    assert [(r.team.name, r.members) for r in rows] == [("Équipe Tech", ["Ana Martin"])]
    with pytest.raises(DomainError, match="a encore des agents"):
        admin.delete_team(ctx, floor["boss"], team.id)
    admin.save_agents(ctx, floor["boss"], [AgentInput(floor["ana"].id, "", {}, "")])
    admin.delete_team(ctx, floor["boss"], team.id)
    with ctx.read() as session:
        assert session.scalars(select(Team)).all() == []


def test_skills_are_kept_while_a_queue_requires_them(ctx, floor):
    with pytest.raises(ValidationError) as refused:
        admin.save_skill(ctx, floor["boss"], None, "fr", "Français bis", "dialect")
    assert _messages(refused.value) == {"code": "Le code « fr » est déjà pris par une autre compétence.",
                                        "kind": "Choisissez le type : langue, produit ou activité."}
    _levels(ctx, floor, ana={"ar": 3})
    _save(ctx, floor, skills=[SkillRequirement(str(floor["ar"]), "2")])
    with pytest.raises(DomainError) as kept:
        admin.delete_skill(ctx, floor["boss"], floor["ar"])
    assert kept.value.render() == ("Ces files exigent la compétence « Arabe » : Service clients. "
                                   "Retirez-la d'abord de leurs règles.")
    rows = {r.skill.code: r for r in admin.list_skills(ctx, floor["boss"])}
    assert rows["ar"].agents == 1 and rows["ar"].queues == [("Service clients", 2)]
    _save(ctx, floor, skills=[])
    admin.delete_skill(ctx, floor["boss"], floor["ar"])
    with ctx.read() as session:
        assert session.scalars(select(AgentSkill)).all() == []
        assert session.scalars(select(Skill.code)).all() == ["fr"]


def test_agents_grid_saves_levels_and_refuses_bad_ones_without_writing(ctx, floor):
    changed = _levels(ctx, floor, ana={"fr": 5, "ar": 0}, bilal={"fr": 3, "ar": 4})
    assert sorted(changed) == sorted([floor["ana"].id, floor["bilal"].id])
    with ctx.read() as session:
        levels = {(row.user_id, row.skill_id): row.level for row in session.scalars(select(AgentSkill))}
    assert levels == {(floor["ana"].id, floor["fr"]): 5, (floor["bilal"].id, floor["fr"]): 3,
                      (floor["bilal"].id, floor["ar"]): 4}
    grid = admin.agents_grid(ctx, floor["boss"])
    rows = {r.user.id: r for r in grid.rows}
    bad = [AgentInput(floor["ana"].id, "", {floor["fr"]: "7"}, rows[floor["ana"].id].fingerprint),
           AgentInput(floor["bilal"].id, "999", {floor["fr"]: "1"}, rows[floor["bilal"].id].fingerprint)]
    with pytest.raises(ValidationError) as refused:
        admin.save_agents(ctx, floor["boss"], bad)
    assert _messages(refused.value) == {f"level_{floor['ana'].id}_{floor['fr']}": "Le niveau va de 0 (aucun) à 5.",
                                        f"team_{floor['bilal'].id}": "Équipe inconnue."}
    with ctx.read() as session:
        assert session.get(AgentSkill, (floor["bilal"].id, floor["fr"])).level == 3


def test_agents_grid_of_two_supervisors(ctx, floor):
    """Each writes only the rows they changed; a row changed by both is refused to the second."""
    page_one = {r.user.id: r for r in admin.agents_grid(ctx, floor["boss"]).rows}
    page_two = {r.user.id: r for r in admin.agents_grid(ctx, floor["boss"]).rows}

    def submitted(page, changes):
        return [AgentInput(uid, row.team_id, {**row.levels, **changes.get(uid, {})}, row.fingerprint)
                for uid, row in page.items()]

    admin.save_agents(ctx, floor["boss"], submitted(page_one, {floor["ana"].id: {floor["fr"]: "4"}}))
    # the second page still shows ana without French: its unchanged row must not undo the first save
    assert admin.save_agents(ctx, floor["boss"], submitted(page_two, {floor["bilal"].id: {floor["ar"]: "5"}})) == [
        floor["bilal"].id]
    with pytest.raises(ValidationError) as refused:
        admin.save_agents(ctx, floor["boss"], submitted(page_two, {floor["ana"].id: {floor["fr"]: "1"}}))
    assert _messages(refused.value) == {f"agent_{floor['ana'].id}": (
        "Ana Martin a été modifié par quelqu'un d'autre depuis l'affichage de la page : vérifiez sa ligne, "
        "puis enregistrez à nouveau pour remplacer.")}
    with ctx.read() as session:
        assert session.get(AgentSkill, (floor["ana"].id, floor["fr"])).level == 4
        assert session.get(AgentSkill, (floor["bilal"].id, floor["ar"])).level == 5


# --- the pages ---------------------------------------------------------------------------------------------


def _browser(app, username):
    client = TestClient(app)
    token = login(client, username)
    return client, token


def _post_form(client, url, fields):
    return client.post(url, data=fields, follow_redirects=False)


def test_pages_are_for_supervisors(app, sqlite_ctx):
    make_user(sqlite_ctx, "amina")
    agent, _token = _browser(app, "amina")
    for url in ("/admin/queues", "/admin/queues/new", "/admin/teams", "/admin/skills", "/admin/agents"):
        response = agent.get(url)
        assert response.status_code == 403, url
        assert "Réservé aux superviseurs" in response.text


def test_queue_form_round_trip_with_errors_kept_then_saved(app, sqlite_ctx):
    boss = make_user(sqlite_ctx, "formateur", role="supervisor")
    amina = make_user(sqlite_ctx, "amina", name="Amina Kaci")
    queue_id, dispositions = make_queue(sqlite_ctx, [amina])
    admin.save_skill(sqlite_ctx, actor_for(boss), None, "fr", "Français", "language")
    client, token = _browser(app, "formateur")
    listing = client.get("/admin/queues")
    assert listing.status_code == 200 and "Service clients" in listing.text and 'href="/admin/ivr"' in listing.text
    page = client.get(f"/admin/queues/{queue_id}")
    assert page.status_code == 200
    for legend in ("Routage", "Horaires", "Débordement et attente", "Niveau de service et alertes",
                   "Compétences requises", "Membres"):
        assert f"<legend>{legend}</legend>" in page.text
    fingerprint = page.text.split('name="updated" value="')[1].split('"')[0]
    fields = {"csrf_token": token, "updated": fingerprint, "code": "service-clients", "name": "Service clients",
              "active": "1", "ring_timeout_s": "20", "strategy": "most_skilled", "priority": "2",
              "hours_mon": "8h-12h", "hours_tue": "08:30-12:30, 13:30-18:00", "holiday_country": "FR",
              "overflow_after_s": "", "max_wait_s": "300", "callback_after_s": "400", "sl_threshold_s": "20",
              "sl_target": "80", "alert_waiting": "5", "alert_longest_wait_s": "60", "alert_abandon_rate": "10",
              "skill_0": "1", "skill_0_level": "3", "skill_1": "", "skill_1_level": "1",
              "members": str(amina.id), "dispositions": str(dispositions[0])}
    refused = _post_form(client, f"/admin/queues/{queue_id}", fields)
    assert refused.status_code == 422
    assert "Lundi : chaque plage s&#39;écrit HH:MM-HH:MM." in refused.text
    assert "Le rappel doit être proposé avant l&#39;attente maximale (300 s)" in refused.text
    assert 'value="8h-12h"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'id="queue-error-summary"' in refused.text and 'href="#q-hours_mon"' in refused.text
    fields.update(hours_mon="08:00-12:00", callback_after_s="60")
    saved = _post_form(client, f"/admin/queues/{queue_id}", fields)
    assert saved.status_code == 303 and saved.headers["location"] == f"/admin/queues/{queue_id}?saved=1"
    shown = client.get(saved.headers["location"])
    assert "File enregistrée." in shown.text and 'value="08:00-12:00"' in shown.text
    with sqlite_ctx.read() as session:
        queue = session.get(Queue, queue_id)
        assert (queue.strategy, queue.priority, queue.holiday_country, queue.callback_after_s) == ("most_skilled", 2, "FR", 60)
    # the same stale form again: someone (this very form) saved since
    stale = _post_form(client, f"/admin/queues/{queue_id}", {**fields, "priority": "9"})
    assert stale.status_code == 409 and 'id="queue-conflict"' in stale.text and "Priorité" in stale.text
    fresh = stale.text.split('name="updated" value="')[1].split('"')[0]
    again = _post_form(client, f"/admin/queues/{queue_id}", {**fields, "priority": "9", "updated": fresh})
    assert again.status_code == 303


def test_new_queue_page_and_teams_skills_agents_pages(app, sqlite_ctx):
    make_user(sqlite_ctx, "formateur", role="supervisor")
    amina = make_user(sqlite_ctx, "amina", name="Amina Kaci")
    client, token = _browser(app, "formateur")
    assert client.get("/admin/queues/new").status_code == 200

    created = _post_form(client, "/admin/teams", {"csrf_token": token, "code": "tech", "name": "Équipe Technique"})
    assert created.status_code == 303 and "Équipe enregistrée." in client.get(created.headers["location"]).text
    duplicate = _post_form(client, "/admin/teams", {"csrf_token": token, "code": "tech", "name": "Autre"})
    assert duplicate.status_code == 422 and "Le code « tech » est déjà pris par une autre équipe." in duplicate.text
    assert 'value="Autre"' in duplicate.text

    created = _post_form(client, "/admin/skills", {"csrf_token": token, "code": "ar", "label": "Arabe", "kind": "language"})
    assert created.status_code == 303
    with sqlite_ctx.read() as session:
        team_id = session.scalar(select(Team.id))
        skill_id = session.scalar(select(Skill.id))
    grid = client.get("/admin/agents")
    assert grid.status_code == 200 and f'id="level-{amina.id}-{skill_id}"' in grid.text
    assert '<th scope="col"' in grid.text and "Niveau de Amina Kaci en Arabe" in grid.text
    fingerprint = grid.text.split(f'name="updated_{amina.id}" value="')[1].split('"')[0]
    bad = _post_form(client, "/admin/agents", {"csrf_token": token, "agent": str(amina.id), f"updated_{amina.id}": fingerprint,
                                               f"team_{amina.id}": str(team_id), f"level_{amina.id}_{skill_id}": "9"})
    assert bad.status_code == 422 and "Le niveau va de 0 (aucun) à 5." in bad.text
    good = _post_form(client, "/admin/agents", {"csrf_token": token, "agent": str(amina.id), f"updated_{amina.id}": fingerprint,
                                                f"team_{amina.id}": str(team_id), f"level_{amina.id}_{skill_id}": "4"})
    assert good.status_code == 303
    assert "Équipes et compétences des agents enregistrées." in client.get(good.headers["location"]).text
    with sqlite_ctx.read() as session:
        assert session.get(User, amina.id).team_id == team_id
        assert session.get(AgentSkill, (amina.id, skill_id)).level == 4
    refused = _post_form(client, f"/admin/teams/{team_id}/delete", {"csrf_token": token})
    assert refused.status_code == 409 and "a encore des agents" in refused.text
