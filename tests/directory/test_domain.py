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
