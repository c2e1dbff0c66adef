"""The action endpoints' base class is abstract: only an action with its ``act`` can be mounted."""

from __future__ import annotations

import pytest

from yiwang.cases.api import urlpatterns
from yiwang.cases.api._shared import CaseAction, action_view
from yiwang.cases.models import Status


def test_the_base_of_the_action_endpoints_cannot_be_instantiated():
    with pytest.raises(TypeError, match="abstract"):
        CaseAction()

    class Incomplete(CaseAction):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()
    view = action_view("accept", "受理", None, lambda request, case, data: None)
    assert issubclass(view, CaseAction) and view().act is not None
    mounted = [
        p.callback.cls
        for p in urlpatterns
        if getattr(p.callback, "cls", None) and issubclass(p.callback.cls, CaseAction)
    ]
    assert len(mounted) > 5 and all(cls() for cls in mounted)


def test_an_action_endpoint_still_acts(world, submit, client):
    case = submit()
    client.force_login(world.citizen_user)
    reply = client.post(f"/api/cases/{case.number}/withdraw/", {"reason": "不再需要"}, content_type="application/json")
    assert reply.status_code == 200, reply.content
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
