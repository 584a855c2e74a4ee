"""The friendly duplicate check before a save (`ValidatedModel.check_unique`) compares the row's own key."""
from __future__ import annotations

import pytest

from models import InvalidValue, Role, User


def test_a_user_saved_again_is_not_its_own_duplicate(f):
    """User.get_id() is Flask-Login's session token, not the key: the check must not use it
    (on PostgreSQL the comparison failed outright, on SQLite the user clashed with itself)."""
    user = f.user(Role.ADMIN, login="operatore")
    user.full_name = "Operatore del call center"
    user.save()
    assert User.get_by_id(user.id).full_name == "Operatore del call center"
    with pytest.raises(InvalidValue):
        f.user(Role.ADMIN, login="operatore")
