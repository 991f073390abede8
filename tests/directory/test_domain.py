"""Pure directory rules, without I/O."""

from __future__ import annotations

import pytest

from services.directory import domain
from shared.errors import Problem


def test_an_edit_from_the_version_read_applies_and_one_from_an_older_version_does_not() -> None:
    domain.check_version(4, 4)
    domain.check_version(4, None)
    with pytest.raises(Problem) as refused:
        domain.check_version(5, 4)
    assert refused.value.status_code == 409
    assert refused.value.type_ is not None and refused.value.type_.endswith("/edit-conflict")
    assert refused.value.extra == {"current_version": 5, "your_version": 4}


def test_only_real_text_changes_wait_for_review() -> None:
    live = {"title": "Kitchen", "description": "Big", "category": "kitchens"}
    unchanged = dict(live)
    assert domain.pending_edits(None, unchanged, live) is None, "a form sent as it was"
    proposed = {**live, "title": "Kitchen with oven"}
    assert domain.pending_edits(None, proposed, live) == {"title": "Kitchen with oven"}
    waiting = {"title": "Kitchen with oven"}
    also = {"description": "Bigger"}
    assert domain.pending_edits(waiting, also, live) == {**waiting, **also}
    assert domain.pending_edits(waiting, {"title": "Kitchen"}, live) is None, "withdrawn"
