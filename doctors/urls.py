"""Doctor pages. Three groups, each listed in its own block below:
directory and public profiles; a doctor's own profile, documents and reviews;
a doctor's availability."""

from django.urls import path  # noqa: F401 - routes are added as the pages arrive

from doctors import views  # noqa: F401

app_name = "doctors"

# --- directory and public doctor pages ---------------------------------------
directory_patterns: list = []

# --- the doctor's own profile, verification documents, reviews --------------
profile_patterns: list = []

# --- availability ---------------------------------------------------------------
availability_patterns: list = []

urlpatterns = [*directory_patterns, *profile_patterns, *availability_patterns]
