"""Remedy suggestions: by name or abbreviation, prefix first, case-insensitive, limited; doctors only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from prescriptions.models import Remedy
from prescriptions.queries import SEARCH_LIMIT, remedy_lookup, remedy_search

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remedy_catalogue")]

URL = reverse("prescriptions:remedy_search")


def names(query: str) -> list[str]:
    return [remedy.name for remedy in remedy_search(query)]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("ars", "Arsenicum album"),
        ("ARSENICUM AL", "Arsenicum album"),
        ("Ars.", "Arsenicum album"),
        ("nux-v", "Nux vomica"),
        ("nux vom", "Nux vomica"),
        ("puls", "Pulsatilla nigricans"),
        ("mag phos", "Magnesia phosphorica"),
        ("Rhus tox", "Rhus toxicodendron"),
        ("vomica", "Nux vomica"),  # contains, not only prefix
        ("ashwagandha", "Withania somnifera"),  # another name
    ],
)
def test_a_remedy_is_found_by_any_of_its_names(query, first):
    assert names(query)[0] == first


def test_names_that_start_with_the_query_come_first():
    found = names("sulph")

    assert found[:2] == ["Sulphur", "Sulphuricum acidum"]
    assert {"Calcarea sulphurica", "Hepar sulphuris calcareum"} <= set(found[2:])


def test_the_suggestions_are_limited():
    assert len(names("a")) == SEARCH_LIMIT


def test_inactive_remedies_are_not_offered():
    Remedy.objects.filter(name="Belladonna").update(active=False)
    assert "Belladonna" not in names("bell")


def test_an_empty_query_finds_nothing_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert remedy_search("   ") == []


def test_the_search_is_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        remedy_search("kali")


def test_lookup_links_typed_names_to_the_catalogue(django_assert_num_queries):
    with django_assert_num_queries(1):
        found = remedy_lookup(["ars alb", "Nux-v.", "Ocimum canum", "BRYONIA ALBA"])

    assert {typed: remedy.name for typed, remedy in found.items()} == {
        "ars alb": "Arsenicum album",
        "Nux-v.": "Nux vomica",
        "BRYONIA ALBA": "Bryonia alba",
    }


def test_the_endpoint_answers_doctors_with_json(client, doctor):
    client.force_login(doctor)

    response = client.get(URL, {"q": "nux"})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["name"] for r in results] == ["Nux moschata", "Nux vomica"]
    assert results[1] == {
        "name": "Nux vomica",
        "abbreviation": "Nux-v.",
        "also_known_as": ["Nux vom", "Strychnos nux vomica"],
        "tissue_salt": False,
    }


def test_the_endpoint_is_for_doctors(client, patient):
    assert client.get(URL, {"q": "nux"}).status_code == 302
    client.force_login(patient)
    assert client.get(URL, {"q": "nux"}).status_code == 403
