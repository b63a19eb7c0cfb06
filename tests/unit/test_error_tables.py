"""Each edge answers an error by the entry of its nearest class, wherever it is in the table."""

from __future__ import annotations

import orjson

from circlebook.api.problems import from_error as problem_of
from circlebook.dav.errors import from_error as dav_answer_of
from circlebook.domain import errors
from circlebook.edge.errors import nearest
from circlebook.services.ports import DeliveryError
from circlebook.web.routing import STATUS


class Base(Exception):
    pass


class Child(Base):
    pass


class Grandchild(Child):
    pass


def test_the_nearest_class_wins_in_either_order_of_the_table() -> None:
    for table in ({Base: "base", Child: "child"}, {Child: "child", Base: "base"}):
        assert nearest(table, Grandchild()) == "child"
        assert nearest(table, Base()) == "base"
        assert nearest(table, ValueError()) is None


def test_the_json_api_answers_a_subclass_by_its_own_problem() -> None:
    spent = problem_of(errors.TextBudgetSpentError("spent", retry_after=60))
    assert spent.status_code == 503
    assert orjson.loads(spent.body)["type"] == "urn:circlebook:problem:sms-budget-spent"
    assert spent.headers["Retry-After"] == "60"
    phone = problem_of(errors.InvalidPhoneError("bad", field="phone"))
    assert orjson.loads(phone.body)["type"] == "urn:circlebook:problem:invalid-phone"
    undelivered = problem_of(DeliveryError("gateway down"))
    assert undelivered.status_code == 503
    assert orjson.loads(undelivered.body)["type"] == "urn:circlebook:problem:sms-unavailable"
    assert problem_of(errors.CirclebookError("what")).status_code == 400


def test_dav_answers_limits_with_retry_after_and_refusals_with_the_privilege() -> None:
    spent = dav_answer_of(errors.TextBudgetSpentError("spent", retry_after=60), "/dav/x/")
    assert (spent.status, spent.headers) == (429, {"Retry-After": "60"})
    refused = dav_answer_of(errors.ForbiddenError("owner only"), "/dav/x/")
    assert refused.status == 403
    assert "need-privileges" in refused.condition
    assert "/dav/x/" in refused.condition
    stale = dav_answer_of(errors.StaleSyncTokenError("gone"), "/dav/x/")
    assert (stale.status, "valid-sync-token" in stale.condition) == (403, True)
    signed_out = dav_answer_of(errors.NotAuthenticatedError("who"), "/dav/")
    assert signed_out.status == 401
    assert "Basic" in signed_out.headers["WWW-Authenticate"]
    assert dav_answer_of(errors.InvalidCodeError("no"), "/dav/").status == 400


def test_a_page_answers_a_spent_text_budget_as_unavailable_not_as_a_limit() -> None:
    assert nearest(STATUS, errors.TextBudgetSpentError("spent", retry_after=60)) == 503
    assert nearest(STATUS, errors.RateLimitedError("slow", retry_after=60)) == 429
    assert nearest(STATUS, errors.InvalidInputError("bad")) is None
