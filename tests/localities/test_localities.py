"""Localities: the accepted form, slugs and time zones."""

from __future__ import annotations

import pytest

from newhomie.localities import Locality, LocalityError, parse_locality_list, slugify, time_zone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dandenong VIC 3175", Locality("Dandenong", "VIC", "3175")),
        ("noble park north vic 3174", Locality("Noble Park North", "VIC", "3174")),
        ("  Richmond,  VIC, 3121 ", Locality("Richmond", "VIC", "3121")),
        ("Darwin City NT 0800", Locality("Darwin City", "NT", "0800")),
        ("O'Connor ACT 2602", Locality("O'Connor", "ACT", "2602")),
    ],
)
def test_parse_accepted_forms(text: str, expected: Locality) -> None:
    assert Locality.parse(text) == expected


@pytest.mark.parametrize(
    "text", ["Dandenong 3175", "Dandenong VIC", "Dandenong XYZ 3175", "Dandenong VIC 31750", "VIC 3175", ""]
)
def test_malformed_locality_names_the_entry_and_the_form(text: str) -> None:
    with pytest.raises(LocalityError) as caught:
        Locality.parse(text)
    message = str(caught.value)
    assert "Dandenong VIC 3175" in message or "state" in message


def test_list_reports_every_bad_entry_and_keeps_order_once_each() -> None:
    assert parse_locality_list("Dandenong VIC 3175; Richmond VIC 3121;Dandenong VIC 3175;") == [
        Locality("Dandenong", "VIC", "3175"),
        Locality("Richmond", "VIC", "3121"),
    ]
    with pytest.raises(LocalityError) as caught:
        parse_locality_list("Dandenong 3175;Richmond VIC 3121;Nowhere QQ 1234")
    assert "'Dandenong 3175'" in str(caught.value)
    assert "'QQ'" in str(caught.value)
    with pytest.raises(LocalityError, match="no locality given"):
        parse_locality_list(" ; ")


def test_slug_is_the_sites() -> None:
    assert Locality("Noble Park North", "VIC", "3174").slug == "noble-park-north-vic-3174"
    assert slugify("O'Connor", "ACT", "2602") == "oconnor-act-2602"
    assert slugify("St. Kilda East", "VIC", "3183") == "st-kilda-east-vic-3183"


def test_lesson_local_times_have_the_localitys_zone() -> None:
    assert time_zone("VIC", "3175").key == "Australia/Melbourne"
    assert time_zone("ACT", "2602").key == "Australia/Sydney"
    assert time_zone("QLD", "4006").key == "Australia/Brisbane"
    assert time_zone("WA", "6000").key == "Australia/Perth"
    # Broken Hill is in NSW but keeps South Australian time.
    assert time_zone("NSW", "2880").key == "Australia/Broken_Hill"
    assert time_zone("NSW", "2150").key == "Australia/Sydney"
