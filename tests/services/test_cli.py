"""The command line follows the API's rules."""

import pytest
from sqlmodel import select

from app.cli import create_user, ensure_admin
from app.models import Role, User


class TestCreateUser:
    def test_a_valid_officer_is_created(self, session):
        create_user("can.bo", "mat-khau-dai-1", "officer", "p-song-cau", "Nguyễn Thị Hoa")
        user = session.exec(select(User).where(User.username == "can.bo")).one()
        assert (user.role, user.full_name) == (Role.officer, "Nguyễn Thị Hoa")

    @pytest.mark.parametrize(("password", "role", "unit", "says"), [
        ("short", "officer", "p-song-cau", "password"),  # under 10 characters
        ("mat-khau-dai-1", "officer", None, "unit"),  # an officer needs a unit
        ("mat-khau-dai-1", "officer", "khong-co", "unit"),  # an unknown unit
    ])
    def test_what_the_api_refuses_the_cli_refuses(self, session, password, role, unit, says):
        with pytest.raises(SystemExit) as refused:
            create_user("sai", password, role, unit, "")
        assert says in str(refused.value)
        assert session.exec(select(User).where(User.username == "sai")).first() is None


class TestEnsureAdmin:
    def test_the_first_admin_is_created_once(self, session, monkeypatch):
        from app.config import get_settings

        monkeypatch.setenv("BDG_ADMIN_USERNAME", "quantri")
        get_settings.cache_clear()
        password = ensure_admin()
        assert password and len(password) >= 12
        assert ensure_admin() is None  # there is an administrator now: nothing is created or printed
        admins = session.exec(select(User).where(User.role == Role.admin)).all()
        assert [a.username for a in admins] == ["quantri"]
