"""Users and roles for a shared app: who may change the library, and who may read.

Bound to loopback (the default) the app is one clerk's own and nothing changes.
Bound to a network address, anyone on the LAN reaches it, so writing (upload,
delete, replace, metadata, ratings export) needs a login, and reading is open
or closed by the users file. Passwords are stored as scrypt hashes from the
standard library (hashlib.scrypt, memory-hard, salted), never in clear.

The users file is JSON::

    {"reading": "open", "users": {"wang": {"role": "editor", "password": "scrypt$16384$8$1$<salt>$<hash>"}}}
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

ROLES = {"editor": "可管理报告库", "reader": "只读"}
READING = ("open", "login")
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES = 2**14, 8, 1, 32


class UsersError(ValueError):
    """A users file that cannot be read, or a user that cannot be added; the message says why, in Chinese."""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=KEY_BYTES)
    encode = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt)}${encode(key)}"


def verify_password(stored: str, password: str) -> bool:
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p), dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@dataclass
class Users:
    reading: str = "open"  # open: anyone may read; login: reading needs a login too
    users: dict[str, dict] = field(default_factory=dict)  # name → {"role", "password"}

    def authenticate(self, name: str, password: str) -> str | None:
        """The user's role if the password is right, else None (same work either way, so timing tells nothing)."""
        user = self.users.get((name or "").strip())
        stored = user["password"] if user else hash_password("")
        ok = verify_password(stored, password or "")
        return user["role"] if user and ok else None


def load_users(path: Path) -> Users:
    """The users file, or no users when there is none (then nobody can log in)."""
    if not path.exists():
        return Users()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        users = Users(data.get("reading", "open"), dict(data.get("users", {})))
    except (json.JSONDecodeError, AttributeError) as error:
        raise UsersError(f"用户文件 {path} 无法读取：{error}") from None
    if users.reading not in READING:
        raise UsersError(f"用户文件 {path} 中 reading 应为 {' 或 '.join(READING)}，而不是 {users.reading!r}")
    bad = [name for name, user in users.users.items() if user.get("role") not in ROLES or not user.get("password")]
    if bad:
        raise UsersError(f"用户文件 {path} 中这些用户缺少密码或角色不对（应为 {'、'.join(ROLES)}）：{'、'.join(bad)}")
    return users


def add_user(path: Path, name: str, password: str, role: str = "editor", reading: str | None = None) -> Users:
    """Add or reset a user (and optionally set whether reading needs a login); written atomically, readable by the owner only."""
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise UsersError("用户名不能为空，也不能含空格")
    if len(password) < 8:
        raise UsersError("密码至少 8 个字符")
    if role not in ROLES:
        raise UsersError(f"角色应为 {'、'.join(ROLES)} 之一")
    users = load_users(path)
    users.users[name] = {"role": role, "password": hash_password(password)}
    if reading is not None:
        if reading not in READING:
            raise UsersError(f"reading 应为 {' 或 '.join(READING)}")
        users.reading = reading
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"reading": users.reading, "users": users.users}, handle, ensure_ascii=False, indent=1)
    tmp.replace(path)
    return users


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Access:
    """What a session may do, given where the app is bound and who logged in."""

    shared: bool  # bound to a non-loopback address
    users: Users

    @classmethod
    def for_host(cls, host: str, users_file: Path) -> "Access":
        return cls(not is_loopback(host), load_users(users_file))

    @property
    def reading_needs_login(self) -> bool:
        return self.shared and self.users.reading == "login"

    def can_write(self, role: str | None) -> bool:
        return not self.shared or role == "editor"
