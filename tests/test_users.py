"""Logins for a shared app: scrypt hashes, roles, and who may write where."""

import json
import stat

import pytest

from reportqa.cli import main
from reportqa.users import Access, UsersError, add_user, hash_password, is_loopback, load_users, verify_password


def test_passwords_are_salted_scrypt_hashes():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert stored != hash_password("correct horse")  # salted
    assert verify_password(stored, "correct horse") and not verify_password(stored, "wrong")
    assert not verify_password("md5$abc", "x") and not verify_password("garbage", "x")


def test_users_file_roles_and_access(tmp_path):
    path = tmp_path / "users.json"
    add_user(path, "wang", "password-1", "editor")
    add_user(path, "li", "password-2", "reader", reading="login")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    users = load_users(path)
    assert users.reading == "login" and users.authenticate("wang", "password-1") == "editor"
    assert users.authenticate("wang", "password-2") is None and users.authenticate("nobody", "password-1") is None
    assert "password-1" not in path.read_text()

    local, shared = Access(False, users), Access(True, users)
    assert local.can_write(None) and not local.reading_needs_login
    assert not shared.can_write(None) and not shared.can_write("reader") and shared.can_write("editor")
    assert shared.reading_needs_login
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


@pytest.mark.parametrize("name, password, role, reason", [("", "password-1", "editor", "用户名"), ("a b", "password-1", "editor", "用户名"),
                                                          ("wang", "short", "editor", "8 个字符"), ("wang", "password-1", "admin", "角色")])
def test_bad_users_are_refused(tmp_path, name, password, role, reason):
    with pytest.raises(UsersError, match=reason):
        add_user(tmp_path / "users.json", name, password, role)
    assert not (tmp_path / "users.json").exists()


def test_a_broken_users_file_is_refused_with_its_path(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"reading": "sometimes", "users": {}}))
    with pytest.raises(UsersError, match="reading"):
        load_users(path)


def test_cli_user_add_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    import io

    monkeypatch.setenv("REPORTQA_HOME", str(tmp_path))
    monkeypatch.delenv("REPORTQA_USERS", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["user", "add", "zhang", "--password-stdin", "--reading", "open"]) == 0
    assert "已保存用户 zhang" in capsys.readouterr().out
    assert load_users(tmp_path / "users.json").authenticate("zhang", "s3cret-pass") == "editor"


def test_exports_need_the_same_login_as_reading(searcher, seed_settings, tmp_path):
    """A real server bound to a LAN address with reading closed: an export link works only with the app's login cookie."""
    import http.cookiejar
    import urllib.error
    import urllib.parse
    import urllib.request

    from llm_fixtures import free_port

    from reportqa import history
    from reportqa.ui.server import serve

    settings = seed_settings.with_(history_db=tmp_path / "history.sqlite3", feedback_db=tmp_path / "feedback.sqlite3")
    turn = history.Turn("问", "问", "<p>答</p>", {"question": "问", "answer": "答[1]", "passages": []})
    history.add_turn(settings.history_db, "client", "conversation", turn)
    users_file = tmp_path / "users.json"
    add_user(users_file, "wang", "password-1", reading="login")
    port = free_port()
    server = serve(settings, "0.0.0.0", port, searcher, Access(True, load_users(users_file)), block=False)
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    base = f"http://127.0.0.1:{port}"
    try:
        for path in (f"/export/turn/{turn.id}.md", f"/export/conversation/{turn.id}.docx", "/export/turn/nonexistent.md"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                browser.open(base + path, timeout=10)
            assert refused.value.code == 401, path
        login = urllib.parse.urlencode({"username": "wang", "password": "password-1"}).encode()
        browser.open(base + "/login", login, timeout=10)
        with browser.open(base + f"/export/turn/{turn.id}.md", timeout=10) as response:
            assert "答" in response.read().decode("utf-8")
        with pytest.raises(urllib.error.HTTPError) as missing:
            browser.open(base + "/export/turn/nonexistent.md", timeout=10)
        assert missing.value.code == 404
    finally:
        server.should_exit = True
