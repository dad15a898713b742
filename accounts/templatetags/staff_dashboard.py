"""`{% staff_dashboard as sections %}` for the admin index (templates/admin/index.html).

A tag rather than a custom AdminSite.index: the site stays Django's own, and
the page asks for its numbers itself (dhanwantari.admin_dashboard).
"""

from __future__ import annotations

from django import template

from dhanwantari.admin_dashboard import Section
from dhanwantari.admin_dashboard import staff_dashboard as dashboard_sections

register = template.Library()


@register.simple_tag(takes_context=True)
def staff_dashboard(context) -> list[Section]:
    return dashboard_sections(user=context["request"].user)
