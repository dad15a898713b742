"""{% load doctor_media %}: URLs for doctors' photos, which MEDIA_ROOT does not serve.

    {% with photo=doctor|photo_url %}{% if photo %}<img src="{{ photo }}" alt="">{% endif %}{% endwith %}

Works for a DoctorProfile and for a row of the active_doctors view (same id).
The stored name is part of the URL as a version, so a new photo is fetched at
once despite the day-long cache on the photo view. No query.
"""

from __future__ import annotations

import hashlib

from django import template
from django.urls import reverse

register = template.Library()


@register.filter
def photo_url(doctor) -> str:
    name = getattr(getattr(doctor, "photo", None), "name", "") or ""
    if not name or not getattr(doctor, "pk", None):
        return ""
    version = hashlib.sha256(name.encode()).hexdigest()[:12]
    return f"{reverse('doctors:doctor_photo', args=[doctor.pk])}?v={version}"
