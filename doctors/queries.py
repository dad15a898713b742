"""Read paths for pages that show doctors, each a fixed number of queries."""

from __future__ import annotations

from django.db.models import QuerySet

from doctors.models import ActiveDoctor


def featured_doctors(*, limit: int = 6) -> QuerySet[ActiveDoctor]:
    """The best-rated verified doctors, read from the `active_doctors` view (1 query)."""
    return ActiveDoctor.objects.order_by("-rating_avg", "-rating_count", "full_name")[:limit]
