"""The directory form's renderer writes exactly what Django's widget templates write."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.http import QueryDict
from django.utils.safestring import mark_safe

from doctors.form_rendering import DirectFormRenderer
from doctors.forms import DirectorySearchForm

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "specialization=classical&mode=video",
    "q=a<b>&\"c'&near=Pune&radius=any&sort=distance",
    "fee_min=x&fee_max=-5&rating=9&available=soon&lat=200&lng=abc",
    "language=Hindi&city=Mumbai&available=today&rating=4.5&sort=fee&fee_min=100&fee_max=50",
    "near=Atlantis&sort=distance",
]


@pytest.mark.parametrize("query", QUERIES)
def test_every_field_renders_as_djangos_templates_render_it(query):
    data = QueryDict(query) if query else None
    django_form = DirectorySearchForm(data, renderer=DjangoTemplates())
    direct_form = DirectorySearchForm(data, renderer=DirectFormRenderer())
    # Errors add aria attributes: validate both first.
    django_form.is_valid()
    direct_form.is_valid()

    for name in django_form.fields:
        assert str(direct_form[name]) == str(django_form[name]), name


class Oddities(forms.Form):
    grouped = forms.ChoiceField(choices=[("Group", [("a", "A")]), ("b", "B")])
    checked = forms.BooleanField(required=False)
    safe = forms.CharField(initial=mark_safe("<b>kept</b>"))
    numbered = forms.TypedChoiceField(choices=[(1, "One"), (2, "Two")], coerce=int, initial=2)


def test_widgets_it_does_not_write_are_left_to_django():
    django_form = Oddities(renderer=DjangoTemplates())
    direct_form = Oddities(renderer=DirectFormRenderer())

    for name in django_form.fields:
        assert str(direct_form[name]) == str(django_form[name]), name
