"""The `listings` spider's arguments, as one typed model (scrapy-spider-metadata's `Args[...]`).

    -a localities="Dandenong VIC 3175;..."  or  -a localities=all
    -a state=VIC  -a postcodes=3000-3207  -a shard=3/90  -a limit=N      (filters, combinable)
    -a kinds=profile,sale,rent,sold  (default: all four)
    -a crawl=KEY         one crawl spread over several runs: what a run of KEY finished is skipped
    -a recheck_missing=1 also crawl the localities the site answered with its 404 page before
    -a full=1            read every page (by default a crawl is incremental: see crawl.increments)

Each value is read by the parser of its kind (`newhomie.localities`), whose message names the text and
the accepted form; `CrawlArguments.check` turns what pydantic found into one line. The model's JSON
schema describes the arguments as their text, which is what Scrapy Cloud's UI shows
(`shub-image-info`). Arguments whose name starts with `_` are Scrapyd's own (`_job`) and are ignored.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    InstanceOf,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from newhomie.localities import LOCALITY_FORM, Locality, parse_locality_list
from newhomie.localities.selection import (
    LIMIT_FORM,
    POSTCODES_FORM,
    SHARD_FORM,
    STATE_FORM,
    PostcodeRange,
    Selection,
    parse_limit,
    parse_postcodes,
    parse_shard,
    parse_state,
)

Kind = Literal["profile", "sale", "rent", "sold"]
KINDS: Final[tuple[Kind, ...]] = ("profile", "sale", "rent", "sold")
CRAWL_KEY_FORM: Final = "letters, digits and . _ : / - only, at most 100"
_CRAWL_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ArgumentError(ValueError):
    """Bad spider arguments, said in one line: each bad name, its value and the accepted form."""


def parse_kinds(text: str) -> tuple[Kind, ...]:
    kinds = tuple(dict.fromkeys(k.strip().lower() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        raise ValueError(f"kinds={text!r}: expected a comma list of {', '.join(KINDS)}")
    # Always in the same order: the profile first, as a person would read a suburb.
    return tuple(k for k in KINDS if k in kinds)


def parse_flag(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"{name}={text!r}: expected 1 or 0")


def _text(parse: Any) -> Any:
    """A before-validator: the argument's text through its parser; a value already parsed (a model made
    in code) is kept."""

    def validate(value: Any) -> Any:
        return parse(value.strip() if isinstance(value, str) else value) if isinstance(value, str) else value

    return BeforeValidator(validate)


def _blank_is_none(parse: Any) -> Any:
    return _text(lambda text: parse(text) if text else None)


def _localities(text: str) -> tuple[Locality, ...] | Literal["all"] | None:
    if not text:
        return None
    if text.lower() == "all":
        return "all"
    return tuple(parse_locality_list(text))


def _crawl_key(text: str) -> str | None:
    if not text:
        return None
    if not _CRAWL_KEY_RE.match(text):
        raise ValueError(f"crawl={text!r}: {CRAWL_KEY_FORM}")
    return text


def _string(description: str) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "description": description})


Localities = Annotated[
    tuple[InstanceOf[Locality], ...] | Literal["all"] | None,
    _text(_localities),
    _string(f"'all', or localities separated by ';', each {LOCALITY_FORM}"),
]
State = Annotated[str | None, _blank_is_none(parse_state), _string(STATE_FORM)]
Postcodes = Annotated[
    tuple[PostcodeRange, ...] | None, _blank_is_none(parse_postcodes), _string(POSTCODES_FORM)
]
Shard = Annotated[tuple[int, int] | None, _blank_is_none(parse_shard), _string(SHARD_FORM)]
Limit = Annotated[int | None, _blank_is_none(parse_limit), _string(LIMIT_FORM)]
Kinds = Annotated[tuple[Kind, ...], _text(parse_kinds), _string(f"a comma list of {', '.join(KINDS)}")]
CrawlKey = Annotated[str | None, _text(_crawl_key), _string(CRAWL_KEY_FORM)]
RecheckMissing = Annotated[bool, _text(lambda text: parse_flag("recheck_missing", text)), _string("1 or 0")]
Full = Annotated[bool, _text(lambda text: parse_flag("full", text)), _string("1 or 0")]


class CrawlArguments(BaseModel):
    """Which localities a crawl covers, what it reads of each, and which crawl it belongs to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    localities: Localities = Field(default=None, title="Localities")
    state: State = Field(default=None, title="State")
    postcodes: Postcodes = Field(default=None, title="Postcodes")
    shard: Shard = Field(default=None, title="Shard")
    limit: Limit = Field(default=None, title="Limit")
    kinds: Kinds = Field(default=KINDS, title="Kinds")
    crawl: CrawlKey = Field(default=None, title="Crawl key")
    recheck_missing: RecheckMissing = Field(default=False, title="Recheck missing localities")
    full: Full = Field(default=False, title="Full crawl (no increments)")

    @model_validator(mode="before")
    @classmethod
    def _known_names(cls, data: Any) -> Any:
        """Scrapyd's own arguments (`_job`) are dropped; an unknown name is refused with the nearest known."""
        if not isinstance(data, Mapping):
            return data
        known = set(cls.model_fields)
        unknown = [name for name in data if name not in known and not str(name).startswith("_")]
        if unknown:
            raise ValueError("; ".join(unknown_argument(name, known) for name in sorted(unknown)))
        return {name: value for name, value in data.items() if name in known}

    @model_validator(mode="after")
    def _says_which_localities(self) -> CrawlArguments:
        if self.localities is None and not (self.state or self.postcodes or self.shard):
            raise ValueError(
                'say which localities: -a localities="Dandenong VIC 3175;...", -a localities=all, '
                "or filters -a state=VIC / postcodes=3000-3207 / shard=3/90"
            )
        return self

    @classmethod
    def check(cls, arguments: Mapping[str, Any]) -> CrawlArguments:
        """The model of the arguments; ArgumentError naming every bad one, in one line."""
        try:
            return cls.model_validate(dict(arguments))
        except ValidationError as exc:
            raise ArgumentError(one_line(exc)) from None

    @property
    def selection(self) -> Selection:
        return Selection(state=self.state, postcodes=self.postcodes, shard=self.shard, limit=self.limit)

    @property
    def shard_text(self) -> str | None:
        return f"{self.shard[0]}/{self.shard[1]}" if self.shard else None

    def as_text(self) -> dict[str, str]:
        """The arguments given, each in its canonical text (what `-a` would take again), for the record."""
        text: dict[str, str] = {}
        if self.localities == "all":
            text["localities"] = "all"
        elif self.localities is not None:
            text["localities"] = ";".join(map(str, self.localities))
        if self.state:
            text["state"] = self.state
        if self.postcodes:
            text["postcodes"] = ",".join(f"{low:04d}" if low == high else f"{low:04d}-{high:04d}"
                                         for low, high in self.postcodes)  # fmt: skip
        if self.shard_text:
            text["shard"] = self.shard_text
        if self.limit is not None:
            text["limit"] = str(self.limit)
        text["kinds"] = ",".join(self.kinds)
        if self.crawl:
            text["crawl"] = self.crawl
        if self.recheck_missing:
            text["recheck_missing"] = "1"
        if self.full:
            text["full"] = "1"
        return text


def unknown_argument(name: str, known: set[str]) -> str:
    nearest = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f" (did you mean {nearest[0]}?)" if nearest else ""
    return f"unknown argument {name!r}{hint}; known: {', '.join(sorted(known))}"


def one_line(exc: ValidationError) -> str:
    """What pydantic found, as our parsers said it ("Value error, " dropped), one error after another."""
    messages = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"])
        messages.append(message if error["type"] == "value_error" else f"{where}: {message}")
    return "; ".join(" ".join(message.split()) for message in messages)
