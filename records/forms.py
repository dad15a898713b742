"""Forms of the records pages: they read what was sent; records.services decides.

The upload form does not check the files themselves: each file is checked on
its own by the upload service, so one bad file is reported with its reason
while the others are kept.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from records.models import Category
from records.services import MAX_NOTES, NO_FILES, TOO_MANY_FILES

ACCEPT = "application/pdf,image/jpeg,image/png,image/webp,.pdf,.jpg,.jpeg,.png,.webp"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.Field):
    """Several files under one name; the list is returned as it came (checked by the service)."""

    widget = MultipleFileInput

    def clean(self, value):
        files = [f for f in (value if isinstance(value, list | tuple) else [value]) if f]
        if not files:
            raise forms.ValidationError(NO_FILES, code="no_files")
        limit = settings.RECORDS_MAX_FILES_PER_UPLOAD
        if len(files) > limit:
            raise forms.ValidationError(TOO_MANY_FILES.format(limit=limit), code="too_many_files")
        return files


def size_words(size: int) -> str:
    """10485760 -> "10 MB" (filesizeformat would say "10.0 MB")."""
    return filesizeformat(size).replace(".0\xa0", "\xa0")


def upload_hint() -> str:
    return (
        f"Photos or scans (JPEG, PNG, WebP) or PDFs, up to {size_words(settings.RECORDS_MAX_UPLOAD_BYTES)} each, "
        f"{settings.RECORDS_MAX_FILES_PER_UPLOAD} at a time."
    )


class UploadForm(forms.Form):
    files = MultipleFileField(label="Files", widget=MultipleFileInput(attrs={"accept": ACCEPT, "multiple": True}))
    category = forms.ChoiceField(label="What are they?", choices=Category.choices, initial=Category.LAB_REPORT)
    consultation = forms.ChoiceField(label="For a consultation (optional)", required=False)
    notes = forms.CharField(
        label="Notes (optional)",
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example the lab, or what the doctor asked for. Searchable.",
    )

    def __init__(self, *args, consultations: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = upload_hint()
        if consultations is None:
            # The doctor's form: the consultation is the page's own.
            del self.fields["consultation"]
        else:
            self.fields["consultation"].choices = [("", "None"), *consultations]


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=200)
    category = forms.ChoiceField(label="Kind", required=False, choices=[("", "All kinds"), *Category.choices])
