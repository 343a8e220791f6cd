"""Database passwords masked, in every form libpq reads, wherever a text may name a database.

`redact(text)` masks, anywhere in a text (a URL alone, a log line, an error message):

- the password of a URL's user-info, `postgresql://user:secret@host/db` (or any scheme's: a
  Pushgateway's, a Scrapyd node's), also when it holds a character a URL should have encoded (`@`,
  `/`, `#`, `?`): everything between the user's `:` and the URL's last `@` is the password;
- query parameters that carry one: `?password=secret`, `&sslpassword=secret`;
- key/value connection strings: `password=secret`, `password = 'S3cret PW'` (quoted, with `\\'` escapes);
- and every password it was told of (`remember_secrets`, called by `newhomie.store.target` with the
  database URL in use), wherever it appears: libpq quotes a bad part of a URL in its own errors
  (`invalid percent-encoded token: "pa%zzss"`), and a password can turn up in any message.

It never raises: a text it cannot make sense of is masked by the same rules, as far as they go.
"""

from __future__ import annotations

import contextlib
import re
import threading
from urllib.parse import unquote

MASK = "***"
#: Passwords shorter than this are masked where a rule finds them, but not wherever their letters appear.
SHORTEST_REMEMBERED = 3

_SECRET_KEYS = r"(?:ssl)?password"
# Any URL (postgresql://, postgresql+psycopg2://, a Pushgateway's http://): up to its end (whitespace or
# a quote). Its user-info's password is masked whatever the scheme.
_URL = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<rest>[^\s'\"<>]*)", re.IGNORECASE)
_QUERY_SECRET = re.compile(rf"(?P<key>[?&]{_SECRET_KEYS}=)(?P<value>[^&#\s'\"]*)", re.IGNORECASE)
_KEY_VALUE_SECRET = re.compile(
    rf"(?P<key>\b{_SECRET_KEYS}\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'?|[^\s'\"]+)", re.IGNORECASE
)

_remembered: set[str] = set()
_lock = threading.Lock()


def secrets_of(dsn: str) -> set[str]:
    """The passwords a connection string (URL or key/value) holds, as written and as libpq reads them."""
    found: set[str] = set()
    dsn = dsn.strip()
    if start := _URL.match(dsn):
        # A whole URL: to its very end, a space in the password included (libpq takes one).
        rest = dsn[len(start["scheme"]) :]
        userinfo, at, _ = rest.rpartition("@")
        if at and ":" in userinfo:
            found.add(userinfo.split(":", 1)[1])
        for query in _QUERY_SECRET.finditer(rest):
            found.add(query["value"])
    else:
        for pair in _KEY_VALUE_SECRET.finditer(dsn):
            value = pair["value"]
            if value.startswith("'"):
                found.add(value)
                value = re.sub(r"\\(.)", r"\1", value.strip("'"))
            found.add(value)
    decoded = set()
    for secret in found:
        # A password that is no valid %-encoding is only kept as written (libpq refuses it anyway).
        with contextlib.suppress(UnicodeDecodeError):
            decoded.add(unquote(secret, errors="strict"))
    return {secret for secret in found | decoded if secret}


def has_remembered_secrets() -> bool:
    return bool(_remembered)


def remember_secrets(dsn: str) -> None:
    """Masks the passwords of `dsn` wherever they appear in texts redacted from now on (this process)."""
    with _lock:
        _remembered.update(secrets_of(dsn))


def _mask_url(match: re.Match[str]) -> str:
    rest = match["rest"]
    userinfo, at, after = rest.rpartition("@")
    if at and ":" in userinfo and userinfo.split(":", 1)[1]:
        user = userinfo.split(":", 1)[0]
        rest = f"{user}:{MASK}@{after}"
    return match["scheme"] + _QUERY_SECRET.sub(lambda m: m["key"] + MASK, rest)


def redact(text: str) -> str:
    """The text with every database password in it masked."""
    if not text:
        return text
    # URLs by their own rules; key/value pairs in the text between them.
    parts, end = [], 0
    for url in _URL.finditer(text):
        parts += [_KEY_VALUE_SECRET.sub(lambda m: m["key"] + MASK, text[end : url.start()]), _mask_url(url)]
        end = url.end()
    parts.append(_KEY_VALUE_SECRET.sub(lambda m: m["key"] + MASK, text[end:]))
    text = "".join(parts)
    with _lock:
        remembered = sorted((s for s in _remembered if len(s) >= SHORTEST_REMEMBERED), key=len, reverse=True)
    for secret in remembered:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact_url(url: str) -> str:
    """A database URL (or key/value string) with its password masked, fit for logs. The whole string is
    the URL: a password with a space in it (libpq takes one) is masked to the URL's last `@` too."""
    stripped = url.strip()
    if (start := _URL.match(stripped)) and " " in stripped:
        rest = stripped[len(start["scheme"]) :]
        userinfo, at, after = rest.rpartition("@")
        if at and ":" in userinfo and userinfo.split(":", 1)[1]:
            stripped = f"{start['scheme']}{userinfo.split(':', 1)[0]}:{MASK}@{after}"
        return redact(stripped)
    return redact(url)


def url_problem(url: str) -> str | None:
    """What keeps libpq from reading a database URL as meant, said without the password; None if nothing.

    libpq reads a password with an unencoded `/` or a second `@` as a host, port or database, and then
    names those parts in its error: they are refused here, before it sees them.
    """
    start = _URL.match(url.strip())
    if not start:
        return None  # a key/value string: libpq's to read
    rest = url.strip()[len(start["scheme"]) :]
    userinfo, at, hostpart = rest.rpartition("@")
    if at:
        if "@" in userinfo:
            return "its user or password holds an '@', which a URL must write as %40"
        if "/" in userinfo:
            return "its user or password holds a '/', which a URL must write as %2F"
        if re.search(r"%(?![0-9A-Fa-f]{2})", userinfo):
            return "its user or password holds a '%' that is not a %-escape: write it as %25"
    else:
        hostpart = rest
    if hostpart.startswith("[") and "]" not in hostpart.split("/", 1)[0]:
        return "its IPv6 host is not closed with ']'"
    return None
