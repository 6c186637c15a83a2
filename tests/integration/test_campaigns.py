"""Campaign management through the service: parameters checked field by field, the
change log, the lifecycle and what launching needs, the test sample, the target
list built from a CRM selection, optimistic locking and permissions."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from plateau.domain import campaign_settings as rules
from plateau.domain.campaigns import CampaignStatus, ContactState
from plateau.domain.contacts import PhoneInput
from plateau.domain.errors import ConflictError, DomainError, NotFoundError, PermissionDenied, ValidationError
from plateau.services import campaigns, crm
from plateau.services.users import actor_for
from plateau.store.models import (Campaign, CampaignChange, CampaignContact, CallScript, ContactChange,
                                  DialAttempt, Disposition, Event, ImportJob, Product, Team, User)


def _user(ctx, username: str, name: str, role: str = "agent"):
    """A user who never logs in here: no password hashing (it is the slow part of ``make_user``)."""
    with ctx.unit() as session:
        user = User(username=username, display_name=name, password_hash="!", role=role, created_at=ctx.now())
        session.add(user)
        session.flush()
        return actor_for(user)


@pytest.fixture
def world(ctx):
    """A supervisor, two agents (one in a team), a script, two products, two qualifications."""
    boss = _user(ctx, "formateur", "Fanny Formatrice", role="supervisor")
    ana = _user(ctx, "ana", "Ana Martin")
    bilal = _user(ctx, "bilal", "Bilal Haddad")
    now = ctx.now()
    with ctx.unit() as session:
        team = Team(code="sortants", name="Équipe appels sortants")
        script = CallScript(code="prospection", name="Script de prospection", content="steps: []", updated_at=now)
        session.add_all([team, script, Product(code="box", name="Box fibre"), Product(code="mobile", name="Forfait")])
        session.flush()
        session.get(User, bilal.id).team_id = team.id
        ids = {"team": team.id, "script": script.id}
    ids["refused"] = campaigns.create_disposition(ctx, boss, "refus", "Refus", "refused").id
    ids["appointment"] = campaigns.create_disposition(ctx, boss, "rdv", "Rendez-vous pris", "appointment").id
    return {"boss": boss, "ana": ana, "bilal": bilal, **ids}


VALID = {"name": "Relance box", "code": "relance-box", "kind": "prospecting", "dial_mode": "progressive",
         "presented_number": "01 62 00 00 01"}


def _create(ctx, world, **changes):
    return campaigns.create(ctx, world["boss"], {**VALID, **changes})


def _messages(exc: ValidationError) -> dict[str, str]:
    return {name: error.render() for name, error in exc.errors.items()}


def _people(ctx, actor, count: int, start: int = 0, **data) -> list[int]:
    """``count`` contacts with a mobile number each; ``data`` sets their fields."""
    ids = []
    for n in range(start, start + count):
        ids.append(crm.create_contact(ctx, actor, {"last_name": f"Contact{n:03d}", "first_name": "Test", **data},
                                      [PhoneInput(f"06 12 34 {n // 100:02d} {n % 100:02d}")]).id)
    return ids


def _ready(ctx, world, **changes) -> Campaign:
    """A campaign with everything launching needs, and five contacts."""
    campaign = _create(ctx, world, script_id=world["script"], disposition_ids=[world["refused"], world["appointment"]],
                       user_ids=[world["ana"].id], **changes)
    _people(ctx, world["boss"], 5, city="Lyon")
    campaigns.add_targets_from_selection(ctx, world["boss"], campaign.id, "", {"city": "Lyon"})
    return campaign


def _log(ctx, campaign_id) -> list[tuple[str, str | None, str | None]]:
    return [(c.field, c.old, c.new) for c in reversed(campaigns.changes(ctx, campaign_id))]


# --- creating, checking, editing ------------------------------------------------------------------------


def test_a_new_campaign_is_a_draft_with_defaults_and_a_creation_log(ctx, world):
    campaign = _create(ctx, world, products=["box"], disposition_ids=[world["appointment"], world["refused"]],
                       user_ids=[world["ana"].id], team_ids=[world["team"]],
                       objectives={"calls": "500", "appointments": "40", "sales_amount": "1 250,50"},
                       hours={"mon": "09:00-12:30, 14:00-19:00", "tue": [["10:00", "13:00"]]},
                       starts_on="2026-12-01", ends_on="15/12/2026")
    view = campaigns.get(ctx, campaign.id)
    assert view.status == "draft" and view.version == 1
    assert view.presented_number == "+33162000001", "stored in E.164"
    assert (view.max_attempts, view.test_sample_size, view.abandon_cap, view.drop_after_s) == (4, 5, 0.03, 2.0)
    assert view.retry_minutes == {"busy": 15, "no_answer": 120, "answering_machine": 240}
    assert view.objectives == {"calls": 500, "appointments": 40, "sales_amount": 1250.5}
    assert view.hours == {"mon": [["09:00", "12:30"], ["14:00", "19:00"]], "tue": [["10:00", "13:00"]]}
    assert (view.starts_on, view.ends_on, view.timezone, view.country) == (date(2026, 12, 1), date(2026, 12, 15),
                                                                           "Europe/Paris", "FR")
    assert view.network == rules.NetworkProfile().to_dict()
    assert [d.code for d in view.dispositions] == ["rdv", "refus"], "in the order given"
    assert [a.name for a in view.agents] == ["Ana Martin"] and [t.code for t in view.teams] == ["sortants"]
    assert [p.name for p in view.products] == ["Box fibre"]
    assert view.created_by == "Fanny Formatrice"
    assert _log(ctx, campaign.id) == [("*", None, "Relance box"), ("dispositions", None, "rdv, refus"),
                                      ("agents", None, "ana"), ("teams", None, "sortants")]


def test_every_refused_setting_is_named_with_its_rule_and_nothing_is_written(ctx, world):
    bad = {"name": " ", "code": "Relance Box!", "kind": "cold_calling", "dial_mode": "robot", "max_attempts": "21",
           "retry_minutes": {"busy": "0", "no_answer": "deux heures", "answering_machine": "50000"},
           "presented_number": "12", "country": "BE", "sector": "casino", "abandon_cap_percent": "5",
           "drop_after_s": "3", "test_sample_size": "0", "objectives": {"calls": "-1", "sales_amount": "beaucoup"},
           "starts_on": "2026-12-10", "ends_on": "2026-12-01", "hours": {"mon": "9h-12h", "tue": "14:00-10:00"},
           "timezone": "Mars/Olympus", "network": {"busy": "-1", "answered": "x"}, "network_seed": "-3",
           "script_id": "999", "products": ["box", "yacht"], "description": "x" * 5001}
    with pytest.raises(ValidationError) as refused:
        campaigns.create(ctx, world["boss"], bad)
    assert _messages(refused.value) == {
        "name": "Le nom de la campagne est obligatoire (200 caractères au plus).",
        "code": "Le code de la campagne s'écrit en minuscules sans accent, chiffres, tirets et soulignés, 64 caractères "
                "au plus (par exemple relance-2026).",
        "kind": "Choisissez le type de campagne (prospection, prise de rendez-vous, vente, fidélisation, réactivation, "
                "enquête, recouvrement, relance ou qualification de fichier).",
        "description": "La description fait au plus 5000 caractères.",
        "objective_calls": "Objectif d'appels : indiquez un nombre entier positif ou nul.",
        "objective_sales_amount": "Objectif de chiffre d'affaires : indiquez un montant positif ou nul.",
        "ends_on": "La date de fin (01/12/2026) est avant la date de début (10/12/2026).",
        "hours_mon": "Lundi : chaque plage s'écrit HH:MM-HH:MM.",
        "hours_tue": "Mardi : la plage 14:00-10:00 finit avant de commencer.",
        "country": "Les règles d'appel sont celles de la France (FR), du Maroc (MA) ou de l'Algérie (DZ) : « BE » n'en "
                   "fait pas partie.",
        "timezone": "Fuseau horaire inconnu : « Mars/Olympus » (par exemple Europe/Paris).",
        "sector": "Secteur d'activité inconnu : « casino ».",
        "dial_mode": "Choisissez le mode de numérotation : aperçu, progressif ou prédictif.",
        "max_attempts": "Le nombre maximal de tentatives par contact va de 1 à 20.",
        "retry_busy": "Délai avant de rappeler un numéro occupé : indiquez un nombre de minutes entre 1 et 43200.",
        "retry_no_answer": "Délai avant de rappeler après une absence de réponse : indiquez un nombre de minutes entre "
                           "1 et 43200.",
        "retry_answering_machine": "Délai avant de rappeler après un répondeur : indiquez un nombre de minutes entre 1 "
                                   "et 43200.",
        "presented_number": "Numéro présenté : « 12 » n'est pas un numéro de téléphone valide (FR).",
        "abandon_cap": "Le taux d'abandon maximal doit être supérieur à 0 et au plus de 3 % des appels décrochés par "
                       "jour : c'est le plafond légal.",
        "drop_after_s": "Délai de mise en relation : un appel décroché doit être passé à un agent en 2 secondes au plus "
                        "(indiquez un nombre supérieur à 0).",
        "test_sample_size": "L'échantillon des appels tests compte de 1 à 100 contacts.",
        "network_seed": "La graine du réseau simulé est un nombre entier positif ou nul.",
        "network_answered": "Réseau simulé : « x » n'est pas un nombre.",
        "network": "Les probabilités du réseau simulé doivent être positives, et pas toutes nulles.",
        "script_id": "Le script d'appel n° 999 n'existe pas.",
        "products": "Produit inconnu : « yacht »."}
    with ctx.read() as session:
        assert session.scalar(select(Campaign.id)) is None
        assert session.scalar(select(CampaignChange.id)) is None


#: (changes, the one refused field, its message or None when another test already checks it)
BOUND_CASES = [
    ({"abandon_cap": 0}, "abandon_cap", "Le taux d'abandon maximal doit être supérieur à 0 et au plus de 3 % des appels "
                                        "décrochés par jour : c'est le plafond légal."),
    ({"abandon_cap": 0.031}, "abandon_cap", None),
    ({"drop_after_s": 0}, "drop_after_s", None),
    ({"max_attempts": 0}, "max_attempts", None),
    ({"test_sample_size": 101}, "test_sample_size", None),
    ({"network": {"lightning": 0.5}}, "network", "Paramètre du réseau simulé inconnu : lightning."),
    ({"network": {"answered": 0, "wrong_person": 0, "busy": 0, "no_answer": 0, "answering_machine": 0,
                  "invalid_number": 0}}, "network", None),
    ({"objectives": {"calls": "12.5"}}, "objective_calls", None),
    ({"objectives": {"likes": 3}}, "objectives", "Objectif inconnu : « likes »."),
    ({"retry_minutes": {"dropped": 5}}, "retry_minutes", "Délai de rappel pour un résultat inconnu : « dropped »."),
    ({"kind": ""}, "kind", None),
    ({"code": "x" * 65}, "code", None),
]


def test_limits_are_enforced_at_their_bounds(ctx, world):
    for changes, field, message in BOUND_CASES:
        with pytest.raises(ValidationError) as refused:
            _create(ctx, world, **changes)
        assert set(refused.value.errors) == {field}, changes
        if message:
            assert refused.value.errors[field].render() == message


def test_the_bounds_themselves_are_accepted(ctx, world):
    campaign = _create(ctx, world, abandon_cap=0.03, drop_after_s=2, max_attempts=20, test_sample_size=100,
                       retry_minutes={"busy": 1}, sector="energy_renovation", country="MA",
                       presented_number="0522 00 00 00", network={"answered": "0,5", "busy": 0}, network_seed=0)
    view = campaigns.get(ctx, campaign.id)
    assert (view.abandon_cap, view.drop_after_s, view.max_attempts, view.test_sample_size) == (0.03, 2.0, 20, 100)
    assert view.retry_minutes["busy"] == 1 and view.retry_minutes["no_answer"] == 120
    assert (view.country, view.timezone, view.presented_number) == ("MA", "Africa/Casablanca", "+212522000000")
    assert view.network["answered"] == 0.5 and view.network["busy"] == 0.0
    low = campaigns.create(ctx, world["boss"], {**VALID, "code": "autre", "abandon_cap_percent": "0,5"})
    assert low.abandon_cap == 0.005


def test_a_code_is_unique(ctx, world):
    _create(ctx, world)
    with pytest.raises(ValidationError) as refused:
        _create(ctx, world, code="RELANCE-BOX")
    assert _messages(refused.value) == {"code": "Le code « relance-box » est déjà celui d'une autre campagne."}


def test_each_changed_field_is_logged_with_old_and_new_values(ctx, world):
    campaign = _create(ctx, world)
    ctx.clock.advance(minutes=5)
    updated = campaigns.update(ctx, world["boss"], campaign.id, 1,
                               {"max_attempts": "6", "dial_mode": "predictive", "retry_minutes": {"busy": "30"},
                                "name": "Relance box (hiver)", "user_ids": [str(world["bilal"].id)]})
    assert updated.version == 2
    assert _log(ctx, campaign.id)[1:] == [
        ("name", "Relance box", "Relance box (hiver)"), ("dial_mode", "progressive", "predictive"),
        ("max_attempts", "4", "6"),
        ("retry_minutes", '{"answering_machine": 240, "busy": 15, "no_answer": 120}',
         '{"answering_machine": 240, "busy": 30, "no_answer": 120}'),
        ("agents", None, "bilal")]
    latest = campaigns.changes(ctx, campaign.id)[0]
    assert latest.who == "Fanny Formatrice" and latest.at == ctx.now()
    # saving the same values again writes nothing: no log row, the version stays
    again = campaigns.update(ctx, world["boss"], campaign.id, 2, {"max_attempts": 6, "user_ids": [world["bilal"].id]})
    assert again.version == 2 and len(campaigns.changes(ctx, campaign.id)) == 6


def test_a_stale_edit_is_refused_naming_who_saved(ctx, world):
    campaign = _create(ctx, world)
    campaigns.update(ctx, world["boss"], campaign.id, 1, {"max_attempts": 5})
    other = _user(ctx, "chef", "Chef de plateau", role="admin")
    with pytest.raises(ConflictError) as conflict:
        campaigns.update(ctx, other, campaign.id, 1, {"max_attempts": 8})
    assert conflict.value.render() == (
        "Cette campagne a été modifiée par Fanny Formatrice le 23/11/2026 à 10:00 pendant que vous la modifiiez : rien "
        "n'a été enregistré. Vérifiez la version actuelle, puis enregistrez à nouveau si besoin.")
    assert campaigns.get(ctx, campaign.id).max_attempts == 5


def test_links_are_checked(ctx, world):
    campaign = _create(ctx, world)
    with pytest.raises(ValidationError) as refused:
        campaigns.set_assignments(ctx, world["boss"], campaign.id, [999], [998])
    assert _messages(refused.value) == {"user_ids": "Agent inconnu ou inactif (n° 999).",
                                        "team_ids": "Équipe inconnue (n° 998)."}
    with pytest.raises(ValidationError) as refused:
        campaigns.set_dispositions(ctx, world["boss"], campaign.id, [world["refused"], 997])
    assert _messages(refused.value) == {"disposition_ids": "Qualification inconnue (n° 997)."}
    campaigns.set_dispositions(ctx, world["boss"], campaign.id, [world["refused"]])
    campaigns.set_assignments(ctx, world["boss"], campaign.id, [], [world["team"]])
    assert _log(ctx, campaign.id)[1:] == [("dispositions", None, "refus"), ("teams", None, "sortants")]
    assert campaigns.get(ctx, campaign.id).version == 3


def test_qualifications_carry_a_campaign_outcome(ctx, world):
    row = campaigns.create_disposition(ctx, world["boss"], "Promesse", "Promesse de paiement", "promise_to_pay")
    with ctx.read() as session:
        stored = session.get(Disposition, row.id)
    assert (stored.code, stored.outcome, stored.is_contact) == ("promesse", "promise_to_pay", True)
    with pytest.raises(ValidationError) as refused:
        campaigns.create_disposition(ctx, world["boss"], "refus", "", "busy")
    assert _messages(refused.value) == {
        "code": "Le code « refus » est déjà celui d'une autre qualification.",
        "label": "Le libellé de la qualification est obligatoire (200 caractères au plus).",
        "outcome": "Choisissez ce que la qualification signifie pour la campagne (joint, argumenté, refus, rappel, "
                   "rendez-vous, vente, …)."}


# --- permissions --------------------------------------------------------------------------------------------


def test_agents_may_not_manage_campaigns(ctx, world):
    campaign = _create(ctx, world)
    agent = world["ana"]
    attempts = [lambda: campaigns.create(ctx, agent, VALID), lambda: campaigns.update(ctx, agent, campaign.id, 1, {}),
                lambda: campaigns.act(ctx, agent, campaign.id, "test"), lambda: campaigns.list_campaigns(ctx, agent),
                lambda: campaigns.add_targets_from_selection(ctx, agent, campaign.id, "", {"city": "Lyon"}),
                lambda: campaigns.remove_target(ctx, agent, campaign.id, 1),
                lambda: campaigns.set_assignments(ctx, agent, campaign.id, [agent.id], []),
                lambda: campaigns.set_dispositions(ctx, agent, campaign.id, []),
                lambda: campaigns.create_disposition(ctx, agent, "x", "X", "sale"),
                lambda: campaigns.preview_selection(ctx, agent, "x", {})]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.render() == ("Réservé aux superviseurs, formateurs et administrateurs : les agents ne "
                                          "gèrent pas les campagnes.")


# --- lifecycle ------------------------------------------------------------------------------------------------


def test_launching_names_every_missing_item(ctx, world):
    campaign = _create(ctx, world, presented_number="", dial_mode="predictive")
    with pytest.raises(ValidationError) as refused:
        campaigns.act(ctx, world["boss"], campaign.id, "launch")
    assert _messages(refused.value) == {
        "script_id": "Il manque le script d'appel.",
        "disposition_ids": "Il manque la liste des qualifications (au moins une).",
        "targets": "La liste de contacts est vide : ajoutez au moins un contact.",
        "assignments": "Aucun agent ni aucune équipe n'est affecté à la campagne.",
        "presented_number": "Il manque un numéro présenté valide : un appel ne part jamais en numéro masqué.",
        "drop_message": "Le mode prédictif exige le message d'appel abandonné (qui appelle, un numéro pour rappeler)."}
    assert campaigns.get(ctx, campaign.id).status == "draft"
    assert set(campaigns.get(ctx, campaign.id).missing) == set(refused.value.errors)


def test_the_whole_lifecycle_is_logged_and_refused_steps_change_nothing(ctx, world):
    campaign = _ready(ctx, world)
    assert campaigns.get(ctx, campaign.id).missing == {}
    for refused_action in ("pause", "resume", "finish"):
        with pytest.raises(DomainError) as refused:
            campaigns.act(ctx, world["boss"], campaign.id, refused_action)
        assert refused.value.render() == "Cette étape n'est pas possible dans l'état actuel de la campagne."
    steps = [("test", "test"), ("launch", "running"), ("pause", "paused"), ("resume", "running"),
             ("finish", "finished")]
    for action, status in steps:
        assert campaigns.act(ctx, world["boss"], campaign.id, action).status == status
    statuses = [(old, new) for name, old, new in _log(ctx, campaign.id) if name == "status"]
    assert statuses == [("draft", "test"), ("test", "running"), ("running", "paused"), ("paused", "running"),
                        ("running", "finished")]
    with ctx.read() as session:
        events = [e.payload["status"] for e in session.scalars(select(Event).where(Event.type == "campaign_status")
                                                               .order_by(Event.id))]
    assert events == ["test", "running", "paused", "running", "finished"]
    # a finished campaign is read-only
    for attempt in (lambda: campaigns.act(ctx, world["boss"], campaign.id, "launch"),
                    lambda: campaigns.update(ctx, world["boss"], campaign.id, campaigns.get(ctx, campaign.id).version,
                                             {"max_attempts": 2}),
                    lambda: campaigns.set_assignments(ctx, world["boss"], campaign.id, [], []),
                    lambda: campaigns.add_targets_from_selection(ctx, world["boss"], campaign.id, "", {"city": "Lyon"})):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.render() == "La campagne est terminée : elle ne peut plus être modifiée."
    assert campaigns.get(ctx, campaign.id).actions == []
    with pytest.raises(DomainError):
        campaigns.act(ctx, world["boss"], campaign.id, "explode")


def test_resuming_checks_again_what_dialing_needs(ctx, world):
    campaign = _ready(ctx, world)
    campaigns.act(ctx, world["boss"], campaign.id, "launch")
    campaigns.act(ctx, world["boss"], campaign.id, "pause")
    campaigns.set_assignments(ctx, world["boss"], campaign.id, [], [])
    with pytest.raises(ValidationError) as refused:
        campaigns.act(ctx, world["boss"], campaign.id, "resume")
    assert _messages(refused.value) == {"assignments": "Aucun agent ni aucune équipe n'est affecté à la campagne."}
    assert campaigns.get(ctx, campaign.id).status == "paused"


# --- test mode --------------------------------------------------------------------------------------------------


def _in_test(ctx, campaign_id) -> list[int]:
    with ctx.read() as session:
        return list(session.scalars(select(CampaignContact.id).where(CampaignContact.campaign_id == campaign_id,
                                                                     CampaignContact.in_test.is_(True))
                                    .order_by(CampaignContact.id)))


def test_the_test_sample_is_drawn_deterministically_among_pending_contacts(ctx, world):
    campaign = _ready(ctx, world, test_sample_size=3)
    _people(ctx, world["boss"], 15, start=100, city="Lyon")
    campaigns.add_targets_from_selection(ctx, world["boss"], campaign.id, "", {"city": "Lyon"})
    with ctx.read() as session:
        listed = list(session.scalars(select(CampaignContact.id).where(CampaignContact.campaign_id == campaign.id)
                                      .order_by(CampaignContact.position)))
    assert len(listed) == 20
    campaigns.act(ctx, world["boss"], campaign.id, "test")
    first = _in_test(ctx, campaign.id)
    assert first == rules.draw_test_sample(listed, 3, campaigns.sample_seed(campaign.id, 0))
    assert len(first) == 3 and first != listed[:3], "a draw across the list, not its first records"
    assert campaigns.state_counts(ctx, campaign.id).in_test == 3
    # one of the sample was called; the next sample is drawn among the still pending ones
    with ctx.unit() as session:
        called = session.get(CampaignContact, first[0])
        called.state, called.attempts = ContactState.DONE.value, 1
    campaigns.update(ctx, world["boss"], campaign.id, campaigns.get(ctx, campaign.id).version, {"test_sample_size": 4})
    campaigns.act(ctx, world["boss"], campaign.id, "test")
    pending = [i for i in listed if i != first[0]]
    second = rules.draw_test_sample(pending, 4, campaigns.sample_seed(campaign.id, 1))
    assert _in_test(ctx, campaign.id) == sorted({first[0], *second})
    assert [(name, new) for name, _old, new in _log(ctx, campaign.id) if name == "test_sample"] == [
        ("test_sample", "3"), ("test_sample", "4")]


def test_the_draw_is_a_pure_function_of_its_seed():
    items = list(range(100, 160))
    assert rules.draw_test_sample(items, 5, "campaign:1:test:0") == rules.draw_test_sample(items, 5, "campaign:1:test:0")
    assert rules.draw_test_sample(items, 5, "campaign:1:test:0") != rules.draw_test_sample(items, 5, "campaign:2:test:0")
    assert rules.draw_test_sample(items[:3], 5, "x") == items[:3], "fewer candidates than the size: all of them"
    drawn = rules.draw_test_sample(items, 10, "s")
    assert len(drawn) == 10 and drawn == sorted(drawn) and set(drawn) <= set(items)


def test_testing_needs_a_pending_contact(ctx, world):
    campaign = _ready(ctx, world)
    with ctx.unit() as session:
        for row in session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign.id)):
            row.state = ContactState.EXHAUSTED.value
    with pytest.raises(DomainError) as refused:
        campaigns.act(ctx, world["boss"], campaign.id, "test")
    assert refused.value.render() == ("Aucun contact de la liste n'est encore à appeler : ajoutez des contacts avant les "
                                      "appels tests.")
    assert campaigns.get(ctx, campaign.id).status == "draft"


# --- target list ----------------------------------------------------------------------------------------------------


def test_a_selection_filters_skips_contacts_without_phone_and_ignores_duplicates(ctx, world):
    boss = world["boss"]
    lyon_prospects = _people(ctx, boss, 3, city="Lyon 3e", status="prospect", prospect_temperature="hot",
                             tags=["Salon 2026"], postcode="69003")
    lyon_clients = _people(ctx, boss, 2, start=10, city="Lyon", status="client", postcode="69001")
    paris_prospects = _people(ctx, boss, 2, start=20, city="Paris", status="prospect", prospect_temperature="hot",
                              postcode="75011")
    no_phone = crm.create_contact(ctx, boss, {"last_name": "Sansnumero", "city": "Lyon", "status": "prospect",
                                              "prospect_temperature": "hot", "tags": ["salon 2026"]}, []).id
    company = crm.create_contact(ctx, boss, {"kind": "company", "company_name": "Énergie Sud", "city": "lyon",
                                             "status": "prospect", "segment": "PME"}, [PhoneInput("04 72 00 00 00")]).id
    campaign = _create(ctx, world)
    preview = campaigns.preview_selection(ctx, boss, "", {"city": "LYON", "status": "prospect"}, campaign.id)
    assert (preview.added, preview.without_phone, preview.already, preview.matching) == (4, 1, 0, 5)
    assert campaigns.add_targets_from_selection(ctx, boss, campaign.id, "", {"city": "LYON", "status": "prospect"}) == 4
    # the same selection again: everyone is already in the list
    again = campaigns.preview_selection(ctx, boss, "", {"city": "lyon", "status": "prospect"}, campaign.id)
    assert (again.added, again.without_phone, again.already) == (0, 1, 4)
    assert campaigns.add_targets_from_selection(ctx, boss, campaign.id, "", {"city": "lyon", "status": "prospect"}) == 0
    # filters, one at a time
    cases = [({"tag": "salon 2026"}, set(lyon_prospects)), ({"postcode": "69"}, {*lyon_prospects, *lyon_clients}),
             ({"kind": "company"}, {company}), ({"segment": "pme"}, {company}),
             ({"prospect_temperature": "hot", "postcode": "75"}, set(paris_prospects))]
    for number, (filters, expected) in enumerate(cases):
        other = _create(ctx, world, code=f"filtre-{number}")
        campaigns.add_targets_from_selection(ctx, boss, other.id, "", filters)
        with ctx.read() as session:
            found = set(session.scalars(select(CampaignContact.contact_id)
                                        .where(CampaignContact.campaign_id == other.id)))
        assert found == expected, filters
        assert no_phone not in found
    view = campaigns.get(ctx, campaign.id)
    assert view.selection == {"city": "lyon", "status": "prospect"}
    assert view.counts.total == 4 and view.counts.by_state["pending"] == 4
    assert [entry for entry in _log(ctx, campaign.id) if entry[0] in ("targets", "selection")] == [
        ("selection", None, '{"city": "LYON", "status": "prospect"}'), ("targets", "0", "4"),
        ("selection", '{"city": "LYON", "status": "prospect"}', '{"city": "lyon", "status": "prospect"}')]


def test_a_text_query_goes_through_the_crm_search_and_the_filters_still_apply(ctx, world):
    boss = world["boss"]
    dupont = crm.create_contact(ctx, boss, {"first_name": "Léa", "last_name": "Dupont", "status": "client"},
                                [PhoneInput("06 11 11 11 11")]).id
    crm.create_contact(ctx, boss, {"first_name": "Marc", "last_name": "Dupont", "status": "prospect"},
                       [PhoneInput("06 22 22 22 22")])
    crm.create_contact(ctx, boss, {"first_name": "Léa", "last_name": "Martin", "status": "client"},
                       [PhoneInput("06 33 33 33 33")])
    campaign = _create(ctx, world)
    assert campaigns.add_targets_from_selection(ctx, boss, campaign.id, "dupont", {"status": "client"}) == 1
    assert campaigns.target_page(ctx, campaign.id).rows[0].contact_id == dupont
    assert campaigns.get(ctx, campaign.id).selection == {"query": "dupont", "status": "client"}


def test_contacts_of_an_imported_file_can_be_selected(ctx, world):
    boss = world["boss"]
    _people(ctx, boss, 2, city="Lyon")
    with ctx.unit() as session:
        job = ImportJob(filename="salon.csv", status="done", created_at=ctx.now())
        pending = ImportJob(filename="encours.csv", status="running", created_at=ctx.now())
        session.add_all([job, pending])
        session.flush()
        job_id, pending_id = job.id, pending.id
    imported = _people(ctx, boss, 3, start=50, city="Lyon")
    with ctx.unit() as session:  # what contacts_io writes for each contact of an import
        session.add_all([ContactChange(contact_id=i, field="*", new_value=f"import {job_id}", at=ctx.now())
                         for i in imported])
    campaign = _create(ctx, world)
    assert campaigns.add_targets_from_selection(ctx, boss, campaign.id, "", {"import_job": str(job_id)}) == 3
    with pytest.raises(ValidationError) as refused:
        campaigns.add_targets_from_selection(ctx, boss, campaign.id, "", {"import_job": pending_id})
    assert _messages(refused.value) == {
        "selection_import_job": f"L'import CSV n° {pending_id} n'existe pas ou n'est pas terminé."}


def test_a_selection_is_checked(ctx, world):
    campaign = _create(ctx, world)
    with pytest.raises(ValidationError) as refused:
        campaigns.add_targets_from_selection(ctx, world["boss"], campaign.id, "", {})
    assert _messages(refused.value) == {
        "selection_query": "Indiquez au moins un critère de sélection : une recherche, un statut, une étiquette, une "
                           "ville, un import…"}
    with pytest.raises(ValidationError) as refused:
        campaigns.add_targets_from_selection(ctx, world["boss"], campaign.id, "",
                                             {"status": "vip", "kind": "robot", "prospect_temperature": "brûlant",
                                              "postcode": "69*", "color": "red"})
    assert _messages(refused.value) == {
        "selection": "Critère de sélection inconnu : « color ».",
        "selection_status": "Statut : choisissez client ou prospect.",
        "selection_kind": "Type de fiche : choisissez personne ou entreprise.",
        "selection_prospect_temperature": "Température : choisissez froid, tiède ou chaud.",
        "selection_postcode": "Code postal : indiquez le début du code, en chiffres (par exemple 69 ou 750)."}


def test_creating_from_a_selection_fills_the_list_in_the_same_save(ctx, world):
    _people(ctx, world["boss"], 4, city="Grenoble")
    saved = campaigns.save(ctx, world["boss"], None, None, {**VALID, "add_selection": {"city": "grenoble"}})
    assert (saved.targets.added, saved.targets.without_phone) == (4, 0)
    assert campaigns.state_counts(ctx, saved.campaign.id).total == 4
    # a bad selection refuses the whole save
    with pytest.raises(ValidationError) as refused:
        campaigns.save(ctx, world["boss"], None, None, {**VALID, "code": "autre", "add_selection": {"status": "vip"}})
    assert set(refused.value.errors) == {"selection_status"}
    with ctx.read() as session:
        assert session.scalar(select(Campaign.id).where(Campaign.code == "autre")) is None


def test_the_target_page_follows_a_cursor_and_shows_blocked_reasons(ctx, world):
    campaign = _ready(ctx, world)
    page = campaigns.target_page(ctx, campaign.id, limit=2)
    assert [r.name for r in page.rows] == ["Test Contact000", "Test Contact001"]
    assert page.rows[0].number == "06 12 34 00 00" and page.rows[0].state == "pending"
    second = campaigns.target_page(ctx, campaign.id, after=page.next_cursor, limit=2)
    third = campaigns.target_page(ctx, campaign.id, after=second.next_cursor, limit=2)
    assert [r.name for r in second.rows + third.rows] == ["Test Contact002", "Test Contact003", "Test Contact004"]
    assert third.next_cursor is None
    reason = {"rule": "fr.hours", "reference": "Code de la consommation, art. D.223-9",
              "message": "Hors des heures permises."}
    with ctx.unit() as session:
        row = session.get(CampaignContact, page.rows[1].id)
        row.state, row.last_outcome = ContactState.BLOCKED.value, "blocked"
        session.add_all([DialAttempt(campaign_id=campaign.id, campaign_contact_id=row.id, contact_id=row.contact_id,
                                     number="+33612340001", at=ctx.now(), mode="progressive", allowed=False,
                                     reasons=[{"rule": "old", "reference": "", "message": "plus ancien"}]),
                         DialAttempt(campaign_id=campaign.id, campaign_contact_id=row.id, contact_id=row.contact_id,
                                     number="+33612340001", at=ctx.now(), mode="progressive", allowed=False,
                                     reasons=[reason])])
    blocked = campaigns.target_page(ctx, campaign.id, state="blocked")
    assert [(r.name, r.reasons) for r in blocked.rows] == [("Test Contact001", [reason])]
    counts = campaigns.state_counts(ctx, campaign.id)
    assert (counts.by_state["blocked"], counts.by_state["pending"], counts.by_state["done"], counts.total) == (1, 4, 0, 5)
    with pytest.raises(ValidationError):
        campaigns.target_page(ctx, campaign.id, state="lost")
    with pytest.raises(ValidationError):
        campaigns.target_page(ctx, campaign.id, after="abc")


def test_removing_a_target(ctx, world):
    campaign = _ready(ctx, world)
    rows = campaigns.target_page(ctx, campaign.id).rows
    campaigns.remove_target(ctx, world["boss"], campaign.id, rows[0].contact_id)
    assert campaigns.state_counts(ctx, campaign.id).total == 4
    assert _log(ctx, campaign.id)[-1] == ("targets", "5", "4")
    with pytest.raises(NotFoundError):
        campaigns.remove_target(ctx, world["boss"], campaign.id, rows[0].contact_id)
    with ctx.unit() as session:
        session.get(CampaignContact, rows[1].id).attempts = 1
    with pytest.raises(DomainError) as refused:
        campaigns.remove_target(ctx, world["boss"], campaign.id, rows[1].contact_id)
    assert "reste dans la liste pour l'historique" in refused.value.render()


def test_the_list_shows_campaigns_in_progress_first(ctx, world):
    draft = _create(ctx, world, code="brouillon")
    running = _ready(ctx, world)
    campaigns.act(ctx, world["boss"], running.id, "launch")
    rows = campaigns.list_campaigns(ctx, world["boss"])
    assert [(r.code, r.status, r.counts.total, r.agents) for r in rows] == [("relance-box", "running", 5, 1),
                                                                            ("brouillon", "draft", 0, 0)]
    assert draft.status == CampaignStatus.DRAFT
