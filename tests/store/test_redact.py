"""No password is printed: one redaction masks every form libpq reads, and a start that fails on a
database URL of each form prints no trace of its secret, in any line of any command."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from newhomie.store.redact import redact, redact_url, remember_secrets, secrets_of, url_problem
from tests.paths import REPO

SECRET = "S3cretPW"
#: (the form, a URL or key/value string holding SECRET-like passwords, the passwords in it).
FORMS = {
    "url user-info": ("postgresql://crawler:S3cretPW@127.0.0.1:1/homes", {"S3cretPW"}),
    "query parameter": (
        "postgresql://crawler@127.0.0.1:1/homes?password=S3cretPW&sslmode=disable",
        {"S3cretPW"},
    ),
    "sslpassword": ("postgresql://crawler@127.0.0.1:1/homes?sslpassword=S3cretPW", {"S3cretPW"}),
    "key/value": ("host=127.0.0.1 port=1 password=S3cretPW dbname=homes", {"S3cretPW"}),
    "quoted key/value": ("host=127.0.0.1 port=1 password='S3cret PW' dbname=homes", {"S3cret PW"}),
    "escaped quote": ("host=127.0.0.1 port=1 password='S3cr\\'etPW' dbname=homes", {"S3cr'etPW"}),
    "a # unencoded": ("postgresql://crawler:S3c#retPW@127.0.0.1:1/homes", {"S3c#retPW"}),
    "a / unencoded": ("postgresql://crawler:S3c/retPW@127.0.0.1:1/homes", {"S3c/retPW"}),
    "a ? unencoded": ("postgresql://crawler:S3c?retPW@127.0.0.1:1/homes", {"S3c?retPW"}),
    "an @ unencoded": ("postgresql://crawler:S3c@retPW@127.0.0.1:1/homes", {"S3c@retPW"}),
    "a space": ("postgresql://crawler:S3cret PW@127.0.0.1:1/homes", {"S3cret PW"}),
    "%-encoded": ("postgresql://crawler:S3cret%21PW@127.0.0.1:1/homes", {"S3cret!PW"}),
    "an invalid % escape": ("postgresql://crawler:S3cret%zzPW@127.0.0.1:1/homes", {"S3cret%zzPW"}),
    "a malformed IPv6 host": ("postgresql://crawler:S3cretPW@[::1/homes", {"S3cretPW"}),
}


def pieces(secret: str) -> list[str]:
    """The secret, and its parts between the characters a URL parser splits at: none may be printed."""
    parts = [secret, *secret.replace("%", " ").replace("@", " ").replace("/", " ").split()]
    return [part for part in parts if len(part) >= 4]


@pytest.mark.parametrize(("dsn", "secrets"), FORMS.values(), ids=FORMS.keys())
def test_every_form_libpq_reads_is_masked_and_its_secret_found(dsn: str, secrets: set[str]) -> None:
    assert secrets <= secrets_of(dsn)
    masked = redact_url(dsn)
    for secret in secrets:
        for piece in pieces(secret):
            assert piece not in masked, masked
    assert "***" in masked
    # In the middle of a line, as a log line quotes it: the database in use is remembered (connect and
    # the database's target do it), so that even a password with a space is found.
    remember_secrets(dsn)
    line = redact(f"connecting to {dsn} failed")
    assert all(piece not in line for secret in secrets for piece in pieces(secret)), line


def test_a_url_without_a_password_and_other_text_are_left_alone() -> None:
    texts = ("postgresql://crawler@db.example/newhomie", "mailto:someone@example.com", "no secret here",
             "https://www.domain.com.au/sale/dandenong-vic-3175/?ssubs=0&page=2")  # fmt: skip
    for text in texts:
        assert redact(text) == text


def test_a_remembered_password_is_masked_wherever_it_turns_up() -> None:
    remember_secrets("postgresql://u:Other Secret 42@h/db")
    assert redact('libpq said: invalid value "Other Secret 42"') == 'libpq said: invalid value "***"'


@pytest.mark.parametrize(
    ("dsn", "problem"),
    [
        ("postgresql://u:S3c/ret@h/db", "a '/', which a URL must write as %2F"),
        ("postgresql://u:S3c@ret@h/db", "an '@', which a URL must write as %40"),
        ("postgresql://u:S3c%zzret@h/db", "a '%' that is not a %-escape"),
        ("postgresql://u:S3cret@[::1/db", "IPv6 host is not closed"),
    ],
)
def test_a_url_libpq_would_misread_is_refused_with_the_reason_and_no_secret(dsn: str, problem: str) -> None:
    said = url_problem(dsn)
    assert said is not None
    assert problem in said
    assert "S3c" not in said


COMMANDS = (
    ("scrapy", "crawl", "listings", "-a", "localities=Dandenong VIC 3175"),
    ("newhomie", "db-url"),
    ("newhomie", "migrate"),
    ("newhomie", "sql", "select 1"),
    ("newhomie", "localities", "load", "--limit", "1"),
)


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: " ".join(command[:2]))
@pytest.mark.parametrize(("dsn", "secrets"), FORMS.values(), ids=FORMS.keys())
def test_a_failing_start_prints_no_trace_of_the_secret(
    command: tuple[str, ...], dsn: str, secrets: set[str]
) -> None:
    env = {**os.environ, "NEWHOMIE_DATABASE_URL": dsn, "NEWHOMIE_LOG_LEVEL": "DEBUG"}
    program = (
        [sys.executable, "-m", "scrapy"] if command[0] == "scrapy" else [sys.executable, "-m", "newhomie"]
    )
    done = subprocess.run([*program, *command[1:]], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode != 0 or command[1] == "db-url", said
    assert "Traceback" not in said, said
    for secret in secrets:
        for piece in pieces(secret):
            assert piece not in said, f"{piece!r} printed:\n{said}"
