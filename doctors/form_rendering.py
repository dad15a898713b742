"""A form renderer for the directory's search form that writes its inputs and
selects in Python.

Django renders every widget through templates: a select is one template, an
include per option and another per option's attributes. The directory's form
has about 60 options, and rendering it took about as long as the rest of the
page. This renderer produces the same markup as Django's own templates
(doctors/tests/test_form_rendering.py compares them field by field) for the
widgets it knows, and hands anything else to Django's templates.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

# Each of these templates is only {% include "django/forms/widgets/input.html" %}.
INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html" for name in ("input", "text", "search", "number", "hidden")
)
SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


class _Unsupported(Exception):
    """A widget this renderer does not write; Django's template does."""


def _text(value) -> str:
    """{{ value }} for a name, a type or a label."""
    if isinstance(value, Promise):
        value = str(value)
    if not isinstance(value, str):
        raise _Unsupported
    return conditional_escape(value)


def _format(value) -> str:
    """{{ value|stringformat:'s' }}: stringformat keeps a safe string safe."""
    formatted = "%s" % (str(value) if isinstance(value, tuple) else value)
    return formatted if isinstance(value, SafeData) else conditional_escape(formatted)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {_text(name)}" if value is True else f' {_text(name)}="{_format(value)}"')
    return "".join(out)


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html."""
    value = "" if widget["value"] is None else f' value="{_format(widget["value"])}"'
    return f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}{_attrs(widget["attrs"])}>'


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html, for options without groups."""
    parts = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            raise _Unsupported
        for option in options:
            if option["template_name"] != OPTION_TEMPLATE:
                raise _Unsupported
            # The option's template ends in a newline, kept by the include.
            parts.append(
                f'\n  <option value="{_format(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
    parts.append("\n</select>")
    return "".join(parts)


class DirectFormRenderer(DjangoTemplates):
    """Django's default renderer, writing plain inputs and selects directly."""

    def render(self, template_name, context, request=None) -> SafeString:
        try:
            if template_name in INPUT_TEMPLATES:
                return mark_safe(_input(context["widget"]))  # noqa: S308 - every value is escaped above
            if template_name == SELECT_TEMPLATE:
                return mark_safe(_select(context["widget"]))  # noqa: S308 - every value is escaped above
        except _Unsupported:
            pass
        return super().render(template_name, context, request=request)
