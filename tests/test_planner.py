"""The planner on values: desired rows and current holdings in, steps, conflicts and counts out."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from support import ai, mg, pn, sc

from bulkops.model import InvalidRow, Op, SenderKind
from bulkops.planning import Current, Held, Plan, Problem, ServiceCount, Step, Wanted, make_plan
from bulkops.planning.order import run_order

PHONE, SHORT, ALPHA = SenderKind.PHONE_NUMBER, SenderKind.SHORT_CODE, SenderKind.ALPHA_SENDER
A, B, C = mg(1), mg(2), mg(3)


def phone(line: int, service: str, n: int, *, owned: bool = True) -> Wanted:
    """A desired phone number named by SID ``pn(n)``; number ``+1415555{n:04}``."""
    return Wanted(line, service, PHONE, pn(n), pn(n) if owned else None, f"+1415555{n:04}")


def alpha(line: int, service: str, text: str) -> Wanted:
    return Wanted(line, service, ALPHA, text, None, text)


def held_phones(*ns: int) -> tuple[Held, ...]:
    return tuple(Held(PHONE, pn(n), f"+1415555{n:04}") for n in ns)


def world(**held: Sequence[Held]) -> Current:
    """Services A, B, C (named by letter) holding what is given."""
    named = {"A": A, "B": B, "C": C}
    return Current(frozenset(named.values()), {named[k]: tuple(v) for k, v in held.items()})


def ops(plan: Plan) -> list[tuple[Op, str, str, str | None]]:
    return [(s.op, s.service_sid, s.sender, s.from_service_sid) for s in plan.steps]


def test_a_sender_in_no_service_is_attached_one_elsewhere_moved_one_in_place_left() -> None:
    """attach / migrate (its source filled in) / unchanged, by where the sender is now."""
    current = world(A=held_phones(1), B=held_phones(2))
    plan = make_plan([phone(2, A, 1), phone(3, A, 2), phone(4, A, 3)], current)
    assert ops(plan) == [(Op.MIGRATE, A, pn(2), B), (Op.ATTACH, A, pn(3), None)]
    assert plan.unchanged == 1
    assert plan.conflicts == ()
    assert [s.line for s in plan.steps] == [3, 4]
    assert plan.steps[0].number == "+14155550002"


def test_an_alpha_sender_is_attached_where_absent_and_never_moved() -> None:
    """Present in the desired service: in place, wherever else it also is; absent: attach only."""
    current = world(A=[Held(ALPHA, ai(1), "Acme")], B=[Held(ALPHA, ai(2), "Beta")])
    plan = make_plan([alpha(2, A, "Acme"), alpha(3, A, "Beta"), alpha(4, B, "Acme")], current)
    assert ops(plan) == [(Op.ATTACH, A, "Beta", None), (Op.ATTACH, B, "Acme", None)]
    assert plan.unchanged == 1


def test_prune_detaches_what_a_desired_service_holds_and_the_file_does_not_list() -> None:
    """A sender wanted elsewhere is moved, not detached; services not desired are left alone."""
    current = world(
        A=[*held_phones(1, 2, 3), Held(ALPHA, ai(1), "Acme"), Held(ALPHA, ai(2), "Old")],
        B=held_phones(4),
        C=held_phones(5),
    )
    desired = [phone(2, A, 1), alpha(3, A, "Acme"), phone(4, B, 2), phone(5, B, 4)]
    plan = make_plan(desired, current, prune=True)
    assert ops(plan) == [
        (Op.DETACH, A, pn(3), None),
        (Op.DETACH, A, "Old", None),
        (Op.MIGRATE, B, pn(2), A),
    ]
    assert make_plan(desired, current).count(Op.DETACH) == 0


def test_prune_leaves_an_alpha_sender_listed_for_another_desired_service_there_only() -> None:
    """An alpha sender is pruned from each desired service whose rows do not list it."""
    current = world(A=[Held(ALPHA, ai(1), "Acme")], B=[Held(ALPHA, ai(2), "Acme")])
    plan = make_plan([alpha(2, A, "Acme"), phone(3, B, 9)], current, prune=True)
    assert ops(plan) == [(Op.DETACH, B, "Acme", None), (Op.ATTACH, B, pn(9), None)]


@pytest.mark.parametrize(
    ("item", "problem", "words"),
    [
        (phone(2, A, 7, owned=False), Problem.NOT_OWNED, "does not own"),
        (phone(2, mg(99), 7), Problem.NO_SERVICE, "no such Messaging Service"),
        (InvalidRow(2, "attach", A, "x!", "sender 'x!' is not a sender"), Problem.INVALID, "x!"),
    ],
    ids=["not-owned", "no-service", "invalid"],
)
def test_a_row_that_cannot_be_planned_is_a_conflict_naming_sender_and_service(
    item: Wanted | InvalidRow, problem: Problem, words: str
) -> None:
    """It is left out; the message names the row's sender and service."""
    plan = make_plan([item, phone(3, A, 1)], world())
    assert [(c.line, c.problem) for c in plan.conflicts] == [(2, problem)]
    assert words in plan.conflicts[0].message
    if isinstance(item, Wanted):
        assert item.sender in plan.conflicts[0].message
        assert item.service_sid in plan.conflicts[0].message
    assert ops(plan) == [(Op.ATTACH, A, pn(1), None)]


def test_a_number_desired_in_two_services_is_left_out_on_every_row() -> None:
    """Neither row wins: both conflict, naming the other service; a repeat is not a conflict."""
    plan = make_plan([phone(2, A, 1), phone(3, B, 1), phone(4, C, 2), phone(5, C, 2)], world())
    assert [(c.line, c.problem) for c in plan.conflicts] == [
        (2, Problem.TWO_SERVICES),
        (3, Problem.TWO_SERVICES),
    ]
    assert B in plan.conflicts[0].message
    assert A in plan.conflicts[1].message
    assert ops(plan) == [(Op.ATTACH, C, pn(2), None)]
    assert plan.repeated == 1


def test_enters_past_the_limit_are_left_out_in_file_order_and_the_rest_stay() -> None:
    """A service at 3 of 5 takes two more; alpha senders do not count toward the limit."""
    current = world(A=[*held_phones(1, 2), Held(SHORT, sc(1), "12345")])
    desired = [phone(i, A, 10 + i) for i in range(2, 6)] + [alpha(6, A, "Acme")]
    plan = make_plan(desired, current, limit=5)
    assert [s.line for s in plan.steps] == [2, 3, 6]
    assert [(c.line, c.problem) for c in plan.conflicts] == [
        (4, Problem.OVER_LIMIT),
        (5, Problem.OVER_LIMIT),
    ]
    assert "limit of 5" in plan.conflicts[0].message
    assert A in plan.conflicts[0].message
    assert plan.services == (ServiceCount(A, 3, 5),)


def test_leaves_make_room_and_a_refused_move_keeps_its_sender_in_the_source() -> None:
    """B (full) loses one to C (full, refused): so B has no room for A's newcomer either."""
    current = world(A=held_phones(1), B=held_phones(2, 3), C=held_phones(4, 5))
    desired = [phone(2, C, 2), phone(3, B, 1), phone(4, A, 9)]
    plan = make_plan(desired, current, limit=2)
    assert [(c.line, c.problem) for c in plan.conflicts] == [
        (2, Problem.OVER_LIMIT),
        (3, Problem.OVER_LIMIT),
    ]
    assert ops(plan) == [(Op.ATTACH, A, pn(9), None)]
    roomy = make_plan([phone(2, C, 2), phone(3, B, 1)], world(B=held_phones(2, 3)), limit=2)
    assert ops(roomy) == [(Op.MIGRATE, C, pn(2), B), (Op.ATTACH, B, pn(1), None)]
    assert roomy.conflicts == ()


def test_counts_services_and_calls() -> None:
    """Before → after per touched service; a move costs two calls, an alpha detach a listing."""
    current = world(
        A=[*held_phones(1), Held(ALPHA, ai(1), "Old")], B=held_phones(2), C=held_phones(3)
    )
    plan = make_plan([phone(2, A, 2), phone(3, A, 4), phone(4, C, 3)], current, prune=True)
    assert (plan.count(Op.ATTACH), plan.count(Op.MIGRATE), plan.count(Op.DETACH)) == (1, 1, 2)
    assert plan.calls == 1 + 2 + 2 + 1  # attach, move, two detaches, one alpha list
    assert plan.services == (ServiceCount(A, 1, 2), ServiceCount(B, 1, 0), ServiceCount(C, 1, 1))
    assert plan.changes


def step(op: Op, service: str, n: int, source: str | None = None) -> Step:
    return Step(op, service, PHONE, pn(n), from_service_sid=source, line=n)


def test_the_run_order_puts_what_leaves_a_service_before_what_enters_it() -> None:
    """Detaches, then moves out of a service before moves into it, then attaches."""
    attach_b = step(Op.ATTACH, B, 1)
    into_b = step(Op.MIGRATE, B, 2, A)  # waits for B's move out
    out_of_b = step(Op.MIGRATE, C, 3, B)
    detach = step(Op.DETACH, A, 4)
    assert run_order([detach], [attach_b, into_b, out_of_b]) == (detach, out_of_b, into_b, attach_b)


def test_a_cycle_of_moves_keeps_file_order() -> None:
    """A→B and B→A wait on each other: the first in the file goes first."""
    a_to_b, b_to_a = step(Op.MIGRATE, B, 1, A), step(Op.MIGRATE, A, 2, B)
    assert run_order([], [a_to_b, b_to_a]) == (a_to_b, b_to_a)
    assert run_order([], [b_to_a, a_to_b]) == (b_to_a, a_to_b)
