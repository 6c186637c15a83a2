"""Ratings: append-only evidence from the evaluator, the trainee and the trainer, read back as one grid."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from plateau.domain.errors import DomainError, NotFoundError, PermissionDenied, ValidationError
from plateau.services import frameworks, ratings
from plateau.services.ratings import Judgement
from plateau.services.users import actor_for
from plateau.store.models import Call, PracticeAttempt, Rating
from tests.helpers import make_user

FILEA = "filea-appels-sortants"


@pytest.fixture
def practice(ctx):
    trainee = actor_for(make_user(ctx, "lina", name="Lina Stagiaire"))
    trainer = actor_for(make_user(ctx, "chef", role="supervisor", name="Chef Formateur"))
    other = actor_for(make_user(ctx, "omar"))
    now = ctx.now()
    with ctx.unit() as session:
        call = Call(state="closed", direction="outbound", caller_number="+33612345678", agent_id=trainee.id,
                    created_at=now, state_since=now, declined_by=[])
        session.add(call)
        session.flush()
        session.add(PracticeAttempt(scenario="prospection-rdv", trainee_id=trainee.id, call_id=call.id, seed=3,
                                    started_at=now))
    criteria = frameworks.get(FILEA).criteria()
    return {"trainee": trainee, "trainer": trainer, "other": other, "call": call.id, "criteria": criteria}


def _auto(ctx, practice, met_every: int = 2):
    judgements = [Judgement(c.id, "not_assessable" if c.assessable == "human" else
                            ("met" if index % met_every == 0 else "not_met"),
                            [{"kind": "turn", "t": 3.0, "speaker": "agent", "quote": "Bonjour"}], "parce que")
                  for index, c in enumerate(practice["criteria"])]
    ratings.record_auto(ctx, practice["call"], FILEA, judgements)
    return judgements


def test_the_trainee_sees_no_result_before_self_assessing_then_sees_all_three(ctx, practice):
    _auto(ctx, practice)
    hidden = ratings.grid(ctx, practice["trainee"], practice["call"], FILEA)
    assert hidden.hidden and all(row.auto is None and row.effective is None for row in hidden.rows)
    seen_by_trainer = ratings.grid(ctx, practice["trainer"], practice["call"], FILEA)
    assert not seen_by_trainer.hidden and all(row.auto for row in seen_by_trainer.rows)

    answers = {c.id: "met" for c in practice["criteria"]}
    assert ratings.self_assess(ctx, practice["trainee"], practice["call"], FILEA, answers) == 15
    shown = ratings.grid(ctx, practice["trainee"], practice["call"], FILEA)
    assert not shown.hidden
    assert all(row.self.result == "met" and row.auto is not None for row in shown.rows)
    with ctx.read() as session:
        assert session.scalars(select(PracticeAttempt.self_assessed_at)).one() is not None


def test_a_self_assessment_must_answer_every_criterion_and_saves_nothing_otherwise(ctx, practice):
    answers = {c.id: "met" for c in practice["criteria"][:-1]}
    with pytest.raises(ValidationError) as caught:
        ratings.self_assess(ctx, practice["trainee"], practice["call"], FILEA, answers)
    assert list(caught.value.errors) == [practice["criteria"][-1].id]
    with pytest.raises(PermissionDenied):
        ratings.self_assess(ctx, practice["other"], practice["call"], FILEA,
                            {c.id: "met" for c in practice["criteria"]})
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Rating)) == 0


def test_a_trainer_override_is_a_new_row_and_becomes_the_effective_result(ctx, practice):
    judgements = _auto(ctx, practice)
    first = practice["criteria"][0].id
    assert judgements[0].result == "met"
    ctx.clock.advance(seconds=60)
    ratings.override(ctx, practice["trainer"], practice["call"], FILEA, first, "not_met",
                     "La présentation n'a pas cité l'entreprise.")
    grid = ratings.grid(ctx, practice["trainer"], practice["call"], FILEA)
    row = grid.rows[0]
    assert (row.auto.result, row.trainer.result, row.effective) == ("met", "not_met", "not_met")
    assert [r.source for r in row.history] == ["auto", "trainer"]
    assert grid.names[row.trainer.rated_by] == "Chef Formateur" and row.trainer.at > row.auto.at
    with ctx.read() as session:  # nothing was updated: both rows are there
        assert session.scalar(select(func.count()).select_from(Rating).where(Rating.criterion_id == first)) == 2


def test_override_needs_a_trainer_a_known_criterion_a_result_and_a_reason(ctx, practice):
    first = practice["criteria"][0].id
    with pytest.raises(PermissionDenied):
        ratings.override(ctx, practice["trainee"], practice["call"], FILEA, first, "met", "moi")
    with pytest.raises(ValidationError) as caught:
        ratings.override(ctx, practice["trainer"], practice["call"], FILEA, first, "bof", "  ")
    assert set(caught.value.errors) == {"result", "comment"}
    with pytest.raises(ValidationError):
        ratings.override(ctx, practice["trainer"], practice["call"], FILEA, "mc-acvd/x", "met", "raison")
    with pytest.raises(NotFoundError):
        ratings.override(ctx, practice["trainer"], practice["call"], "inconnu", first, "met", "raison")


def test_the_overall_result_follows_the_framework_rule_on_effective_results(ctx, practice):
    _auto(ctx, practice, met_every=1)  # every call-assessable criterion met
    grid = ratings.grid(ctx, practice["trainer"], practice["call"], FILEA)
    assessable = [c for c in practice["criteria"] if c.assessable != "human"]
    assert grid.assessed == len(assessable) and grid.met == len(assessable) and grid.passed is True
    for criterion in assessable[: len(assessable) // 2 + 1]:
        ratings.override(ctx, practice["trainer"], practice["call"], FILEA, criterion.id, "not_met", "revu")
    grid = ratings.grid(ctx, practice["trainer"], practice["call"], FILEA)
    assert grid.score < 0.7 and grid.passed is False


def test_ratings_name_the_grid_version_they_used(ctx, practice):
    _auto(ctx, practice)
    with ctx.read() as session:
        versions = set(session.scalars(select(Rating.grid_version)))
    assert versions == {ratings.grid_version(FILEA)} and len(next(iter(versions))) == 16


def test_feedback_is_for_trainers_and_read_by_the_trainee(ctx, practice):
    with pytest.raises(PermissionDenied):
        ratings.add_feedback(ctx, practice["trainee"], practice["call"], "bien")
    with pytest.raises(ValidationError):
        ratings.add_feedback(ctx, practice["trainer"], practice["call"], " ")
    ratings.add_feedback(ctx, practice["trainer"], practice["call"], "Belle reformulation, pensez au récapitulatif.")
    assert [f.text for f in ratings.feedback_of(ctx, practice["trainee"], practice["call"])] == [
        "Belle reformulation, pensez au récapitulatif."]
    with pytest.raises(PermissionDenied):
        ratings.feedback_of(ctx, practice["other"], practice["call"])


def test_a_double_submitted_self_assessment_is_saved_once_and_cannot_be_changed(ctx, practice):
    answers = {c.id: "met" for c in practice["criteria"]}
    assert ratings.self_assess(ctx, practice["trainee"], practice["call"], FILEA, answers) == 15
    assert ratings.self_assess(ctx, practice["trainee"], practice["call"], FILEA, answers) == 0
    with pytest.raises(DomainError, match="déjà enregistrée"):
        ratings.self_assess(ctx, practice["trainee"], practice["call"], FILEA, {**answers, practice["criteria"][0].id: "not_met"})
    with ctx.read() as session:
        assert session.scalar(select(func.count()).select_from(Rating).where(Rating.source == "self")) == 15


def test_an_agent_sees_the_results_of_a_real_call_only_after_self_assessing(ctx, practice):
    now = ctx.now()
    with ctx.unit() as session:
        real = Call(state="closed", direction="inbound", caller_number="+33612345679", agent_id=practice["trainee"].id,
                    created_at=now, state_since=now, declined_by=[])
        session.add(real)
    ratings.record_auto(ctx, real.id, FILEA, [Judgement(practice["criteria"][0].id, "met")])
    assert ratings.grid(ctx, practice["trainee"], real.id, FILEA).hidden
    ratings.self_assess(ctx, practice["trainee"], real.id, FILEA, {c.id: "met" for c in practice["criteria"]})
    assert ratings.grid(ctx, practice["trainee"], real.id, FILEA).rows[0].auto.result == "met"


def test_a_practice_call_is_judged_on_its_scenario_s_criteria_only(ctx, practice):
    with ctx.unit() as session:
        session.scalars(select(PracticeAttempt)).one().scenario = "information-option-verte"
    scenario_criteria = ["mc-acvd/C1.1/1", "mc-acvd/C1.1/2", "mc-acvd/C1.2/2", "mc-acvd/C1.2/3", "mc-acvd/C1.5/1",
                         "mc-acvd/C1.5/2", "mc-acvd/C1.5/4", "mc-acvd/C1.5/6"]
    grid = ratings.grid(ctx, practice["trainer"], practice["call"], "mc-acvd")
    assert [row.id for row in grid.rows] == scenario_criteria
    assert ratings.self_assess(ctx, practice["trainee"], practice["call"], "mc-acvd",
                               {c: "met" for c in scenario_criteria}) == 8
    # another framework than the scenario's: the whole grid
    assert len(ratings.grid(ctx, practice["trainer"], practice["call"], FILEA).rows) == 15
