"""Which career a question names as where the member is heading (`bot/core/aim.py`)."""

import pytest

from bot.core.aim import aim_of


@pytest.mark.parametrize(
    ("question", "career"),
    [
        (
            "how would I become a scrum master after years in a warehouse",
            "scrum and agile coaching",
        ),
        ("which course gets me hired as a data analyst quickest", "data and analytics"),
        ("is a ux design bootcamp worth the money for a dispatcher", "design"),
        ("pmp or prince2, which one should I study for", "project management"),
        ("how do I go from procurement to business analyst", "business analysis"),
        ("thinking of retraining as a software developer after support", "software engineering"),
    ],
)
def test_another_career_named_as_the_destination(question, career):
    aim = aim_of(question)
    assert career in aim.elsewhere
    assert not aim.product
    assert aim.other_career


@pytest.mark.parametrize(
    "question",
    [
        "after a decade in a contact centre, how do I move into product management",
        "any tips for a pm interview next week",
        "is an apm programme worth leaving a warehouse manager job for",
        "transition plan from dispatcher to associate product manager",
        "does running the wms rollout count as pm experience",
        "I want to be a product manager but I have no degree",
    ],
)
def test_product_management_named_as_the_destination(question):
    aim = aim_of(question)
    assert aim.product
    assert not aim.other_career


@pytest.mark.parametrize(
    "question",
    [
        "I'm a project manager at a 3PL, how do I write a user story",
        "my warehouse manager job leaves no time for side projects",
        "how do I learn to talk to developers",
    ],
)
def test_a_role_someone_has_now_is_not_a_destination(question):
    assert aim_of(question).elsewhere == ()


@pytest.mark.parametrize(
    "question",
    [
        "a leaving card for our product manager",
        "which laptop do product managers carry",
        "lighting tips for shooting product photos at home",
        "I don't think product management is for me",
    ],
)
def test_product_management_named_otherwise_is_not_a_destination(question):
    assert not aim_of(question).product


def test_heading_for_product_outweighs_the_stepping_stone():
    aim = aim_of("should I become a scrum master first and then move into product")
    assert aim.product
    assert aim.elsewhere == ("scrum and agile coaching",)
    assert not aim.other_career


def test_a_credential_of_another_career_needs_no_cue():
    assert aim_of("shrm or cipd").elsewhere == ("hr and recruiting",)
