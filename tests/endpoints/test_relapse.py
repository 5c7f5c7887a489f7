"""Relapses, cycles, maintenance and sustained remission on hand-worked histories.

Doses follow the protocol ladder: start 5 mg daily; after CR one step down every 4 weeks:
5 daily -> 5 alternate -> 5 thrice weekly -> 5 twice weekly -> off.
"""

from __future__ import annotations

from tests.endpoints.helpers import derive_both, history

TAPER = [
    (0, "5_daily"),
    (28, "5_alternate"),
    (56, "5_thrice_weekly"),
    (84, "5_twice_weekly"),
    (112, "off"),
]


def test_relapse_during_taper() -> None:
    row = derive_both(
        history(
            visits=[(28, 0), (56, 0), (84, 6)],
            doses=[(0, "5_daily"), (28, "5_alternate"), (56, "5_thrice_weekly"), (84, "5_daily")],
        )
    )
    assert row["relapsed"] is True and row["n_relapses"] == 1
    assert row["first_relapse_day"] == 84 and row["first_relapse_srcseq"] == 3
    assert row["first_relapse_weeks_from_reduction"] == 4.0  # from the day-56 reduction
    assert row["first_relapse_regimen"] == "5_thrice_weekly"
    assert row["first_relapse_setting"] == "during_taper"
    assert row["n_cycles"] == 2 and row["maintenance"] is False
    (rec,) = row["_relapses"]
    assert (rec["reduction_day"], rec["reduction_srcseq"], rec["action"]) == (56, 3, "restart")
    assert (rec["remission_start_day"], rec["action_regimen"]) == (28, "5_daily")


def test_relapse_after_withdrawal() -> None:
    row = derive_both(
        history(
            visits=[(28, 0), (56, 0), (84, 0), (112, 0), (126, 5)], doses=[*TAPER, (126, "5_daily")]
        )
    )
    assert row["first_relapse_setting"] == "after_withdrawal"
    assert row["first_relapse_regimen"] == "off"
    assert row["first_relapse_weeks_from_reduction"] == 2.0
    assert row["final_withdrawal_day"] is None  # restarted: the course does not end off drug
    assert row["sustained_remission"] is False


def test_two_cycles_then_maintenance_one_step_above_the_relapse_step() -> None:
    # Relapse at 5 mg thrice weekly -> restart (cycle 2); CR again, taper, relapse again at
    # 5 mg thrice weekly -> held at 5 mg alternate days (the paper: 21% needed maintenance).
    doses = [
        (0, "5_daily"),
        (28, "5_alternate"),
        (56, "5_thrice_weekly"),
        (70, "5_daily"),
        (98, "5_alternate"),
        (126, "5_thrice_weekly"),
        (154, "5_alternate"),
    ]
    visits = [(28, 0), (56, 0), (70, 4), (98, 0), (126, 0), (154, 7), (252, 0)]
    row = derive_both(history(visits=visits, doses=doses))
    assert row["n_relapses"] == 2 and row["n_cycles"] == 2
    assert row["maintenance"] is True and row["maintenance_regimen"] == "5_alternate"
    assert (row["maintenance_day"], row["maintenance_srcseq"]) == (154, 7)
    first, second = row["_relapses"]
    assert (first["relapse_no"], first["action"], first["weeks_from_reduction"]) == (
        1,
        "restart",
        2.0,
    )
    assert (second["relapse_no"], second["action"], second["regimen"]) == (
        2,
        "maintenance",
        "5_thrice_weekly",
    )


def test_loss_of_response_before_any_taper_is_not_a_relapse() -> None:
    row = derive_both(history(visits=[(14, 0), (28, 5), (56, 0)], doses=[(0, "5_daily")]))
    assert row["best_response"] == "CR"
    assert row["relapsed"] is False and row["n_relapses"] == 0


def test_scores_1_to_3_after_cr_neither_relapse_nor_end_the_remission() -> None:
    row = derive_both(
        history(
            visits=[(28, 0), (56, 2), (84, 3), (112, 4)],
            doses=[(0, "5_daily"), (28, "5_alternate"), (56, "5_thrice_weekly")],
        )
    )
    assert row["first_relapse_day"] == 112
    assert row["first_relapse_weeks_from_reduction"] == 8.0  # from day 56, still the last one


def test_consecutive_high_scores_are_one_relapse() -> None:
    row = derive_both(
        history(visits=[(28, 0), (56, 6), (84, 8)], doses=[(0, "5_daily"), (28, "5_alternate")])
    )
    assert row["n_relapses"] == 1 and row["_relapses"][0]["action"] == "none"


def test_reduction_before_the_cr_does_not_qualify() -> None:
    # The dose was reduced on day 20 (before CR on day 28): no reduction after CR.
    row = derive_both(history(visits=[(28, 0), (56, 6)], doses=[(0, "10_daily"), (20, "5_daily")]))
    assert row["n_relapses"] == 0


def test_missing_visits_do_not_make_relapses() -> None:
    row = derive_both(
        history(
            visits=[(28, 0), (56, None), (84, None, 3)], doses=[(0, "5_daily"), (28, "5_alternate")]
        )
    )
    assert row["n_relapses"] == 0 and row["relapsed"] is False


def test_sustained_remission_after_withdrawal() -> None:
    visits = [(28, 0), (56, 0), (84, 0), (112, 0), (196, 0), (280, 1)]
    row = derive_both(history(visits=visits, doses=TAPER))
    assert row["sustained_remission"] is True
    assert (row["final_withdrawal_day"], row["final_withdrawal_srcseq"]) == (112, 5)
    assert row["relapsed"] is False


def test_sustained_remission_undetermined_with_short_follow_up() -> None:
    row = derive_both(history(visits=[(28, 0), (112, 0), (168, 0)], doses=TAPER))
    assert row["sustained_remission"] is None  # 56 days after withdrawal < 84


def test_relapse_after_final_withdrawal_is_not_sustained() -> None:
    row = derive_both(history(visits=[(28, 0), (112, 0), (140, 6), (252, 0)], doses=TAPER))
    assert row["sustained_remission"] is False
    assert row["first_relapse_setting"] == "after_withdrawal"


def test_no_cr_means_no_sustained_remission() -> None:
    row = derive_both(history(visits=[(28, 4), (84, 3)], doses=[(0, "5_daily"), (84, "off")]))
    assert row["best_response"] == "PR" and row["sustained_remission"] is False
    assert row["final_withdrawal_day"] == 84


def test_second_relapse_raised_to_5_daily_is_maintenance_not_a_new_cycle() -> None:
    # Protocol: on the second relapse hold one step above the relapse step, at most 5 mg daily;
    # a relapse at 5 mg alternate days is therefore held at 5 mg daily.
    doses = [
        (0, "5_daily"),
        (28, "5_alternate"),
        (56, "5_daily"),
        (84, "5_alternate"),
        (112, "5_daily"),
    ]
    visits = [(28, 0), (56, 5), (84, 0), (112, 6), (196, 0)]
    row = derive_both(history(visits=visits, doses=doses))
    assert row["n_relapses"] == 2 and row["n_cycles"] == 2
    assert row["maintenance"] is True and row["maintenance_regimen"] == "5_daily"
    assert [r["action"] for r in row["_relapses"]] == ["restart", "maintenance"]


def test_maintenance_threshold_is_a_setting() -> None:
    from cletrial.endpoints import EndpointRules

    doses = [
        (0, "5_daily"),
        (28, "5_alternate"),
        (56, "5_daily"),
        (84, "5_alternate"),
        (112, "5_daily"),
    ]
    visits = [(28, 0), (56, 5), (84, 0), (112, 6), (196, 0)]
    rules = EndpointRules.from_mapping({"maintenance_after_relapses": 3})
    row = derive_both(history(visits=visits, doses=doses), rules)
    assert row["n_cycles"] == 3 and row["maintenance"] is False
