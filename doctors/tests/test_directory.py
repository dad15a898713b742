"""The public directory (/doctors/) and a doctor's public page (/doctors/<id>/):
who is listed, every filter and sort, distances from a city, a PIN code or the
browser, and query counts that do not grow with the number of doctors or
reviews.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role, User
from accounts.tests.factories import DoctorUserFactory, PatientUserFactory
from consultations.tests.factories import ConsultationFactory
from dhanwantari.ids import new_id
from doctors import forms, geo
from doctors.models import DoctorProfile, DoctorReview, VerificationStatus
from doctors.queries import (
    DirectoryParams,
    Origin,
    Sort,
    bounding_box,
    directory_search,
    doctor_public,
    visible_reviews,
)
from doctors.tests.factories import DoctorProfileFactory, DoctorReviewFactory, weekday_hours
from patients.tests.factories import PatientProfileFactory

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("doctors:directory")
IST = ZoneInfo("Asia/Kolkata")


def place(city: str) -> dict[str, Decimal]:
    latitude, longitude = geo.CITIES[city]
    return {"city": city, "latitude": Decimal(f"{latitude:.6f}"), "longitude": Decimal(f"{longitude:.6f}")}


def names(page) -> list[str]:
    return [doctor.full_name for doctor in page.page.object_list]


def search(**params) -> list[str]:
    return names(directory_search(params=DirectoryParams(**params)))


def near(city: str) -> Origin:
    latitude, longitude = geo.CITIES[city]
    return Origin(latitude, longitude, city)


def bulk_doctors(count: int, **fields) -> list[DoctorProfile]:
    """Verified doctors in two INSERTs: as many as a query-count test needs, quickly."""
    users = User.objects.bulk_create(
        User(id=new_id("doctor"), email=f"bulk-{new_id('x').lower()}@example.test", role=Role.DOCTOR)
        for _ in range(count)
    )
    return DoctorProfile.objects.bulk_create(
        DoctorProfileFactory.build(user=user, full_name=f"Dr. Bulk {n:03d}", **fields) for n, user in enumerate(users)
    )


def bulk_reviews(doctor: DoctorProfile, count: int, **fields) -> None:
    """`count` reviews of a doctor from three patients, one per completed consultation."""
    patients = [PatientProfileFactory(full_name=name).user for name in ("Meera Iyer", "Arjun Rao", "Sana Sheikh")]
    consultations = ConsultationFactory._meta.model.objects.bulk_create(
        ConsultationFactory.build(patient=patients[n % 3], doctor=doctor.user, status="completed") for n in range(count)
    )
    DoctorReview.objects.bulk_create(
        DoctorReviewFactory.build(
            consultation=c,
            doctor=doctor.user,
            patient=c.patient,
            rating=4,
            comment=f"Review number {n}",
            created_at=timezone.now() - timedelta(hours=count - n),
            **fields,
        )
        for n, c in enumerate(consultations)
    )


# --- who is listed ---------------------------------------------------------------------------


@pytest.fixture
def unlisted() -> dict[str, DoctorProfile]:
    """One doctor for every way of not being listed."""
    inactive_user = DoctorUserFactory(is_active=False)
    deleted_user = DoctorUserFactory()
    User.all_objects.filter(pk=deleted_user.pk).update(deleted_at=timezone.now())
    deleted_profile = DoctorProfileFactory(full_name="Dr. Deleted Profile")
    DoctorProfile.all_objects.filter(pk=deleted_profile.pk).update(deleted_at=timezone.now())
    return {
        "draft": DoctorProfileFactory(full_name="Dr. Draft", verification_status=VerificationStatus.DRAFT),
        "pending": DoctorProfileFactory(full_name="Dr. Pending", verification_status=VerificationStatus.PENDING),
        "rejected": DoctorProfileFactory(full_name="Dr. Rejected", verification_status=VerificationStatus.REJECTED),
        "inactive": DoctorProfileFactory(full_name="Dr. Inactive", user=inactive_user),
        "deleted user": DoctorProfileFactory(full_name="Dr. Deleted User", user=deleted_user),
        "deleted profile": deleted_profile,
    }


def test_only_verified_active_doctors_are_ever_listed(client, unlisted):
    DoctorProfileFactory(full_name="Dr. Listed")

    response = client.get(DIRECTORY)

    assert response.status_code == 200
    assert names(response.context["result"]) == ["Dr. Listed"]
    for profile in unlisted.values():
        assert profile.full_name not in response.content.decode()


def test_an_unlisted_doctor_is_not_found_by_any_search(unlisted):
    assert search(q="Dr") == []
    assert search(q="Dr", origin=near("Pune"), radius_km=100) == []
    assert search(specialization="classical", sort=Sort.EARLIEST) == []


@pytest.mark.parametrize("why", ["draft", "pending", "rejected", "inactive", "deleted user", "deleted profile"])
def test_an_unlisted_doctors_public_page_is_not_found(client, unlisted, why):
    response = client.get(reverse("doctors:public_profile", args=[unlisted[why].pk]))

    assert response.status_code == 404


def test_an_id_that_is_no_profile_is_not_found(client):
    assert client.get(reverse("doctors:public_profile", args=["dp_NOSUCHDOCTOR"])).status_code == 404


def test_the_directory_is_public(client):
    assert client.get(DIRECTORY).status_code == 200


def test_the_directory_answers_only_get(client):
    assert client.post(DIRECTORY).status_code == 405


# --- text search and filters ------------------------------------------------------------------


def test_text_search_matches_name_clinic_or_city_every_word(client):
    DoctorProfileFactory(full_name="Dr. Asha Kulkarni", clinic_name="Arogya Clinic", city="Pune")
    DoctorProfileFactory(full_name="Dr. Ravi Menon", clinic_name="Sanjeevani Homeo", city="Kochi")

    assert search(q="asha") == ["Dr. Asha Kulkarni"]
    assert search(q="sanjeevani") == ["Dr. Ravi Menon"]
    assert search(q="kochi") == ["Dr. Ravi Menon"]
    assert search(q="ravi kochi") == ["Dr. Ravi Menon"]
    assert search(q="ravi pune") == []


def test_the_specialisation_filter_matches_a_whole_slug():
    DoctorProfileFactory(full_name="Dr. Skin", specializations=["dermatology"])
    DoctorProfileFactory(full_name="Dr. Children", specializations=["paediatrics", "classical"])

    assert search(specialization="paediatrics") == ["Dr. Children"]
    assert search(specialization="derma") == []


def test_the_language_filter_ignores_case():
    DoctorProfileFactory(full_name="Dr. Marathi", languages=["Marathi", "English"])
    DoctorProfileFactory(full_name="Dr. Tamil", languages=["tamil"])

    assert search(language="Tamil") == ["Dr. Tamil"]
    assert search(language="marathi") == ["Dr. Marathi"]
    assert search(language="Hindi") == []


def test_the_mode_filter():
    DoctorProfileFactory(full_name="Dr. Clinic Only", consultation_modes=["in_person"])
    DoctorProfileFactory(full_name="Dr. Video", consultation_modes=["chat", "video"])

    assert search(mode="video") == ["Dr. Video"]
    assert search(mode="in_person") == ["Dr. Clinic Only"]


def test_the_fee_range_includes_both_ends():
    for fee in (300, 500, 800):
        DoctorProfileFactory(full_name=f"Dr. Fee {fee}", consultation_fee=Decimal(fee))

    assert search(fee_min=Decimal(500), sort=Sort.FEE) == ["Dr. Fee 500", "Dr. Fee 800"]
    assert search(fee_max=Decimal(500), sort=Sort.FEE) == ["Dr. Fee 300", "Dr. Fee 500"]
    assert search(fee_min=Decimal(400), fee_max=Decimal(600)) == ["Dr. Fee 500"]


def test_the_minimum_rating_leaves_out_doctors_without_reviews():
    DoctorProfileFactory(full_name="Dr. Top", rating_avg=Decimal("4.80"), rating_count=20)
    DoctorProfileFactory(full_name="Dr. Good", rating_avg=Decimal("4.00"), rating_count=3)
    DoctorProfileFactory(full_name="Dr. New", rating_avg=Decimal("0"), rating_count=0)

    assert search(min_rating=Decimal("4.5")) == ["Dr. Top"]
    assert search(min_rating=Decimal("4")) == ["Dr. Top", "Dr. Good"]


def test_the_city_filter_matches_the_clinics_city_exactly_ignoring_case():
    DoctorProfileFactory(full_name="Dr. Navi Mumbai", **place("Navi Mumbai"))
    DoctorProfileFactory(full_name="Dr. Mumbai", **place("Mumbai"))

    assert search(city="mumbai") == ["Dr. Mumbai"]


@time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=IST), tick=False)
def test_available_today_and_this_week_read_the_next_free_slot():
    now = timezone.now()
    DoctorProfileFactory(full_name="Dr. Today", next_available_at=now + timedelta(hours=3))
    DoctorProfileFactory(full_name="Dr. Tomorrow", next_available_at=now + timedelta(days=1))
    DoctorProfileFactory(full_name="Dr. Next Month", next_available_at=now + timedelta(days=12))
    DoctorProfileFactory(full_name="Dr. Stale", next_available_at=now - timedelta(hours=1))
    DoctorProfileFactory(full_name="Dr. Never", next_available_at=None)

    assert search(available="today") == ["Dr. Today"]
    assert sorted(search(available="week")) == ["Dr. Today", "Dr. Tomorrow"]


@time_machine.travel(datetime(2026, 12, 7, 21, 0, tzinfo=IST), tick=False)
def test_today_ends_at_midnight_in_the_viewers_zone():
    # The slot is at 23:30 in India (18:00 UTC); it is now 21:00 there (15:30 UTC).
    DoctorProfileFactory(full_name="Dr. Late", next_available_at=datetime(2026, 12, 7, 23, 30, tzinfo=IST))

    def today_in(zone: str) -> list[str]:
        return names(directory_search(params=DirectoryParams(available="today"), zone=ZoneInfo(zone)))

    assert today_in("Asia/Kolkata") == ["Dr. Late"]  # 21:00 now, 23:30 the slot: today
    assert today_in("Europe/London") == ["Dr. Late"]  # 15:30 now, 18:00 the slot: today
    assert today_in("Asia/Singapore") == []  # 23:30 now, 02:00 tomorrow the slot


# --- sorting ---------------------------------------------------------------------------------


@pytest.fixture
def three_doctors():
    now = timezone.now()
    DoctorProfileFactory(
        full_name="Dr. Anil Shah",
        rating_avg=Decimal("4.20"),
        rating_count=10,
        consultation_fee=Decimal(700),
        next_available_at=now + timedelta(days=2),
        clinic_name="Shanti Clinic",
        **place("Mumbai"),
    )
    DoctorProfileFactory(
        full_name="Dr. Bina Patel",
        rating_avg=Decimal("4.90"),
        rating_count=40,
        consultation_fee=Decimal(900),
        next_available_at=None,
        clinic_name="Anil Nagar Homeo",
        **place("Nashik"),
    )
    DoctorProfileFactory(
        full_name="Dr. Chitra Rao",
        rating_avg=Decimal("3.50"),
        rating_count=2,
        consultation_fee=Decimal(300),
        next_available_at=now + timedelta(hours=2),
        clinic_name="Rao Clinic",
        **place("Pune"),
    )


def test_relevance_puts_name_matches_first_then_rating(three_doctors):
    # "anil" is in Dr. Anil Shah's name and in Dr. Bina Patel's clinic; the better-rated clinic match comes second.
    assert search(q="anil") == ["Dr. Anil Shah", "Dr. Bina Patel"]


def test_without_words_best_match_is_by_rating(three_doctors):
    assert search() == ["Dr. Bina Patel", "Dr. Anil Shah", "Dr. Chitra Rao"]


def test_sort_by_rating(three_doctors):
    assert search(sort=Sort.RATING) == ["Dr. Bina Patel", "Dr. Anil Shah", "Dr. Chitra Rao"]


def test_sort_by_fee_low_to_high(three_doctors):
    assert search(sort=Sort.FEE) == ["Dr. Chitra Rao", "Dr. Anil Shah", "Dr. Bina Patel"]


def test_sort_by_earliest_available_puts_doctors_without_a_slot_last(three_doctors):
    assert search(sort=Sort.EARLIEST) == ["Dr. Chitra Rao", "Dr. Anil Shah", "Dr. Bina Patel"]


def test_sort_by_distance_from_pune(three_doctors):
    DoctorProfileFactory(full_name="Dr. Nowhere", latitude=None, longitude=None)

    assert search(sort=Sort.DISTANCE, origin=near("Pune")) == [
        "Dr. Chitra Rao",  # Pune
        "Dr. Anil Shah",  # Mumbai, ~120 km
        "Dr. Bina Patel",  # Nashik, ~165 km
        "Dr. Nowhere",  # no coordinates: last
    ]


def test_sorting_by_distance_without_a_place_falls_back_to_best_match(three_doctors):
    assert search(sort=Sort.DISTANCE) == search()


def test_with_a_place_best_match_is_name_matches_first_then_the_nearest(three_doctors):
    # Dr. Bina Patel (Nashik) has "Anil" only in her clinic's name; Dr. Anil Shah (Mumbai) in his own.
    assert search(q="anil", origin=near("Nashik")) == ["Dr. Anil Shah", "Dr. Bina Patel"]
    assert search(origin=near("Nashik")) == ["Dr. Bina Patel", "Dr. Anil Shah", "Dr. Chitra Rao"]
    assert search(origin=near("Pune")) == ["Dr. Chitra Rao", "Dr. Anil Shah", "Dr. Bina Patel"]


# --- distance ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "doctor_city", "km"),
    [("Pune", "Mumbai", 120), ("Bengaluru", "Chennai", 290), ("Delhi", "Mumbai", 1152), ("Kolkata", "Guwahati", 522)],
)
def test_distances_between_known_cities_are_right_to_a_kilometre_or_two(origin, doctor_city, km):
    DoctorProfileFactory(**place(doctor_city))

    (doctor,) = directory_search(params=DirectoryParams(origin=near(origin))).page.object_list

    assert doctor.distance_km == pytest.approx(km, abs=2)


def test_the_radius_keeps_doctors_inside_the_circle_and_drops_the_rest():
    DoctorProfileFactory(full_name="Dr. Pune", **place("Pune"))
    DoctorProfileFactory(full_name="Dr. Mumbai", **place("Mumbai"))  # ~120 km
    DoctorProfileFactory(full_name="Dr. No Address", latitude=None, longitude=None)

    assert search(origin=near("Pune"), radius_km=100, sort=Sort.DISTANCE) == ["Dr. Pune"]
    assert search(origin=near("Pune"), radius_km=125, sort=Sort.DISTANCE) == ["Dr. Pune", "Dr. Mumbai"]
    assert search(origin=near("Pune"), radius_km=None, sort=Sort.DISTANCE) == [
        "Dr. Pune",
        "Dr. Mumbai",
        "Dr. No Address",
    ]


def test_a_doctor_in_the_corner_of_the_bounding_box_but_outside_the_circle_is_dropped():
    origin = near("Pune")
    # 45 km north and 45 km east: inside the 50 km square, ~64 km away.
    corner = {"latitude": Decimal("18.925000"), "longitude": Decimal("74.283000")}
    DoctorProfileFactory(full_name="Dr. Corner", **corner)

    assert DoctorProfile.objects.filter(bounding_box(origin, 50), full_name="Dr. Corner").exists()
    assert search(origin=origin, radius_km=50) == []
    assert search(origin=origin, radius_km=70) == ["Dr. Corner"]


def test_the_bounding_box_is_plain_ranges_on_the_indexed_columns():
    box = bounding_box(near("Pune"), 10)

    assert sorted(dict(box.children)) == ["latitude__gte", "latitude__lte", "longitude__gte", "longitude__lte"]
    assert Decimal("18.430") < dict(box.children)["latitude__gte"] < Decimal("18.431")


def test_the_browsers_location_measures_distances_from_there(client):
    DoctorProfileFactory(full_name="Dr. Mumbai", **place("Mumbai"))

    response = client.get(DIRECTORY, {"lat": "18.5204", "lng": "73.8567", "near": "", "radius": "any"})

    (doctor,) = response.context["page"].object_list
    assert doctor.distance_km == pytest.approx(120, abs=2)
    assert "near your location" in response.content.decode()


def test_a_typed_place_wins_over_the_browsers_location(client):
    DoctorProfileFactory(full_name="Dr. Mumbai", **place("Mumbai"))

    response = client.get(DIRECTORY, {"lat": "18.5204", "lng": "73.8567", "near": "Mumbai", "radius": "any"})

    assert response.context["page"].object_list[0].distance_km < 1


# --- places from what people type --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "city"),
    [
        ("Pune", "Pune"),
        ("  pune ", "Pune"),
        ("Bangalore", "Bengaluru"),
        ("bengaluru", "Bengaluru"),
        ("New-Delhi", "New Delhi"),
        ("Goa", "Panaji"),
        ("Trivandrum", "Thiruvananthapuram"),
        ("Pune, Maharashtra", "Pune"),
    ],
)
def test_a_city_is_found_by_any_of_its_names(typed, city):
    found = geo.locate(typed)

    assert found is not None
    assert found.name == city
    assert (found.latitude, found.longitude) == geo.CITIES[city]


@pytest.mark.parametrize(
    ("pin", "city"),
    [("411038", "Pune"), ("400 001", "Mumbai"), ("560034", "Bengaluru"), ("110001", "Delhi"), ("700091", "Kolkata")],
)
def test_a_pin_code_is_placed_at_its_sorting_districts_city(pin, city):
    found = geo.locate(pin)

    assert found is not None
    assert (found.latitude, found.longitude) == geo.CITIES[city]
    assert city in found.name


@pytest.mark.parametrize("typed", ["Atlantis", "41103", "4110388", "011001", "999999", ""])
def test_what_is_not_a_known_city_or_pin_is_not_placed(typed):
    assert geo.locate(typed) is None


def test_every_place_the_table_points_to_exists():
    assert set(geo.PIN_DISTRICTS.values()) <= set(geo.CITIES)
    assert set(geo.ALIASES.values()) <= set(geo.CITIES)
    assert len(geo.CITIES) >= 80


def test_the_page_searches_near_a_typed_city_or_pin(client):
    DoctorProfileFactory(full_name="Dr. Pune", **place("Pune"))
    DoctorProfileFactory(full_name="Dr. Mumbai", **place("Mumbai"))

    by_city = client.get(DIRECTORY, {"near": "Bombay", "radius": "25"})
    by_pin = client.get(DIRECTORY, {"near": "411001", "radius": "25"})

    assert names(by_city.context["result"]) == ["Dr. Mumbai"]
    assert names(by_pin.context["result"]) == ["Dr. Pune"]
    assert "within 25&nbsp;km of 411001 (Pune)" in by_pin.content.decode()


def test_an_unknown_place_is_explained_beside_the_box_and_the_rest_of_the_search_still_runs(client):
    DoctorProfileFactory(full_name="Dr. Pune", **place("Pune"))

    response = client.get(DIRECTORY, {"near": "Atlantis", "specialization": "classical"})

    assert response.context["form"].errors["near"] == [forms.NEAR_NOT_FOUND.format(near="Atlantis")]
    assert names(response.context["result"]) == ["Dr. Pune"]
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*name="near"[^>]*>', response.content.decode()).group(0)


def test_a_link_without_a_radius_keeps_to_the_default_radius(client):
    DoctorProfileFactory(full_name="Dr. Pune", **place("Pune"))
    DoctorProfileFactory(full_name="Dr. Mumbai", **place("Mumbai"))

    response = client.get(DIRECTORY, {"near": "Pune"})

    assert response.context["result"].params.radius_km == forms.DEFAULT_RADIUS_KM
    assert names(response.context["result"]) == ["Dr. Pune"]


def test_a_place_sorts_nearest_first_unless_another_sort_is_chosen(client, three_doctors):
    nearest = client.get(DIRECTORY, {"near": "Pune", "radius": "any"})
    by_fee = client.get(DIRECTORY, {"near": "Pune", "radius": "any", "sort": "fee"})

    assert names(nearest.context["result"])[0] == "Dr. Chitra Rao"
    assert names(by_fee.context["result"]) == ["Dr. Chitra Rao", "Dr. Anil Shah", "Dr. Bina Patel"]


def test_sorting_by_distance_without_a_place_says_what_is_missing(client):
    response = client.get(DIRECTORY, {"sort": "distance"})

    assert response.context["form"].errors["sort"] == [forms.DISTANCE_NEEDS_PLACE]


def test_an_inverted_fee_range_is_explained_and_only_the_lowest_fee_is_used(client):
    DoctorProfileFactory(full_name="Dr. Cheap", consultation_fee=Decimal(200))
    DoctorProfileFactory(full_name="Dr. Dear", consultation_fee=Decimal(900))

    response = client.get(DIRECTORY, {"fee_min": "500", "fee_max": "100"})

    assert response.context["form"].errors["fee_max"] == [forms.FEE_RANGE_INVERTED]
    assert names(response.context["result"]) == ["Dr. Dear"]


def test_the_query_string_becomes_the_search(client):
    form = forms.DirectorySearchForm(
        {
            "q": " asha ",
            "specialization": "paediatrics",
            "language": "Marathi",
            "mode": "video",
            "fee_min": "200",
            "fee_max": "800",
            "rating": "4",
            "city": "Pune",
            "available": "week",
            "near": "411001",
            "radius": "10",
            "sort": "earliest",
        }
    )

    params = form.params(page="2")

    assert params == DirectoryParams(
        q="asha",
        specialization="paediatrics",
        language="Marathi",
        mode="video",
        fee_min=Decimal(200),
        fee_max=Decimal(800),
        min_rating=Decimal(4),
        city="Pune",
        available="week",
        origin=Origin(*geo.CITIES["Pune"], "411001 (Pune)"),
        radius_km=10,
        sort="earliest",
        page="2",
    )


def test_an_empty_sort_means_best_match():
    assert forms.DirectorySearchForm({"near": "Pune"}).params().sort == Sort.RELEVANCE


# --- pages and query counts -----------------------------------------------------------------------


def test_the_directory_shows_twelve_doctors_a_page_and_keeps_the_search_in_the_page_links(client):
    bulk_doctors(30, specializations=["classical"])

    first = client.get(DIRECTORY, {"specialization": "classical"})
    third = client.get(DIRECTORY, {"specialization": "classical", "page": "3"})

    assert len(first.context["page"].object_list) == 12
    assert len(third.context["page"].object_list) == 6
    assert 'href="?specialization=classical&amp;page=2"' in first.content.decode()


SEARCHES = [
    {},
    {"q": "bulk", "sort": "rating"},
    {"specialization": "classical", "language": "hindi", "mode": "video", "fee_max": "900", "sort": "fee"},
    {"near": "Pune", "radius": "50"},
    {"near": "411001", "radius": "any", "available": "week", "sort": "earliest"},
]


@pytest.mark.parametrize("params", SEARCHES, ids=["all", "words", "filters", "near-city", "near-pin"])
def test_the_directory_costs_the_same_queries_for_3_doctors_as_for_300(client, django_assert_num_queries, params):
    bulk_doctors(3, next_available_at=timezone.now() + timedelta(days=1))
    with django_assert_num_queries(2):  # the count, then the page's rows
        small = client.get(DIRECTORY, params)

    bulk_doctors(297, next_available_at=timezone.now() + timedelta(days=1))
    with django_assert_num_queries(2):
        large = client.get(DIRECTORY, params)

    assert small.context["result"].total == 3
    assert large.context["result"].total == 300
    assert len(large.context["page"].object_list) == 12


def test_a_signed_in_visitor_pays_only_for_their_session_on_top(client, django_assert_max_num_queries):
    bulk_doctors(20)
    client.force_login(PatientUserFactory())

    # The base layout's: session, user, the header's name (their profile) and
    # unread count, the idle-timeout session save (3). The directory's: count, rows.
    with django_assert_max_num_queries(9):
        client.get(DIRECTORY, {"near": "Pune"})


# --- a doctor's public page -------------------------------------------------------------------------------


@pytest.fixture
def listed() -> DoctorProfile:
    return DoctorProfileFactory(
        full_name="Dr. Asha Kulkarni",
        registration_number="MH-HOM-12345",
        registration_council="Maharashtra Council of Homoeopathy",
        qualifications=["BHMS", "MD (Hom)"],
        specializations=["classical", "paediatrics"],
        languages=["English", "Marathi"],
        experience_years=12,
        consultation_fee=Decimal(600),
        follow_up_fee=Decimal(350),
        consultation_modes=["video", "in_person"],
        clinic_name="Arogya Clinic",
        clinic_address="12 FC Road, Shivajinagar",
        postal_code="411005",
        availability=weekday_hours(),
        rating_avg=Decimal("4.50"),
        rating_count=2,
    )


def test_the_public_page_shows_credentials_fees_and_where(client, listed):
    response = client.get(reverse("doctors:public_profile", args=[listed.pk]))
    page = response.content.decode()

    assert response.status_code == 200
    for text in (
        "Dr. Asha Kulkarni",
        "BHMS, MD (Hom)",
        "Maharashtra Council of Homoeopathy",
        "MH-HOM-12345",
        "Classical homeopathy",
        "Children&#x27;s health",
        "English, Marathi",
        "12 years of experience",
        "&#8377;600",
        "&#8377;350",
        "Video",
        "In person",
        "12 FC Road, Shivajinagar",
        "Pick a time to book it",
    ):
        assert text in page, text


@time_machine.travel(datetime(2026, 12, 5, 9, 0, tzinfo=IST), tick=False)
def test_the_public_page_lists_the_next_seven_days_slots_by_day_in_the_viewers_zone(client, listed):
    viewer = PatientUserFactory(timezone="Europe/London")
    client.force_login(viewer)

    response = client.get(reverse("doctors:public_profile", args=[listed.pk]))

    days = response.context["slot_days"]
    # Saturday's 10:00 IST (04:30 in London) is still ahead; then Monday to Friday. Saturday the 12th is beyond 7 days.
    assert [d.day.isoformat() for d in days] == [
        "2026-12-07",
        "2026-12-08",
        "2026-12-09",
        "2026-12-10",
        "2026-12-11",
    ]
    assert days[0].slots[0].start == datetime(2026, 12, 7, 4, 30, tzinfo=UTC)
    page = response.content.decode()
    assert '<time datetime="2026-12-07T04:30:00+00:00">4:30 AM</time>' in page
    assert "Europe/London" in page


def test_the_public_page_shows_visible_reviews_newest_first_with_first_names_only(client, listed):
    meera = PatientProfileFactory(full_name="Meera Iyer").user
    arjun = PatientProfileFactory(full_name="Arjun Rao").user
    DoctorReviewFactory(
        consultation__doctor=listed.user,
        consultation__patient=meera,
        comment="Very patient.",
        created_at=timezone.now() - timedelta(days=2),
    )
    DoctorReviewFactory(consultation__doctor=listed.user, consultation__patient=arjun, comment="Clear advice.")
    DoctorReviewFactory(consultation__doctor=listed.user, comment="Rude!", is_visible=False)
    removed = DoctorReviewFactory(consultation__doctor=listed.user, comment="Withdrawn.")
    DoctorReview.all_objects.filter(pk=removed.pk).update(deleted_at=timezone.now())

    response = client.get(reverse("doctors:public_profile", args=[listed.pk]))
    page = response.content.decode()

    reviews = response.context["reviews"].object_list
    assert [(r.author, r.comment) for r in reviews] == [("Arjun", "Clear advice."), ("Meera", "Very patient.")]
    assert "Iyer" not in page and "Rao" not in page
    assert "Rude!" not in page and "Withdrawn." not in page
    assert "4.5</strong> out of 5 from 2 reviews" in page


def test_reviews_come_ten_to_a_page():
    doctor = DoctorProfileFactory()
    bulk_reviews(doctor, 23)

    first = visible_reviews(doctor_user_id=doctor.user_id, page=1)
    last = visible_reviews(doctor_user_id=doctor.user_id, page=3)

    assert [r.comment for r in first.object_list][:2] == ["Review number 22", "Review number 21"]
    assert len(first.object_list) == 10
    assert len(last.object_list) == 3


def test_the_public_page_costs_the_same_queries_for_3_reviews_as_for_60(client, listed, django_assert_num_queries):
    bulk_reviews(listed, 3)
    url = reverse("doctors:public_profile", args=[listed.pk])
    # The doctor; their bookings for the slots; the reviews' count; a page of reviews with first names.
    with django_assert_num_queries(4):
        small = client.get(url)

    bulk_reviews(listed, 57)
    with django_assert_num_queries(4):
        large = client.get(url)

    assert small.context["reviews"].paginator.count == 3
    assert large.context["reviews"].paginator.count == 60
    assert len(large.context["reviews"].object_list) == 10


def test_doctor_public_is_one_query(listed, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert doctor_public(profile_id=listed.pk) == listed


def test_a_pending_doctors_page_is_not_found_even_for_a_direct_link(client):
    pending = DoctorProfileFactory(verification_status=VerificationStatus.PENDING, verified_at=None)

    assert client.get(reverse("doctors:public_profile", args=[pending.pk])).status_code == 404


def test_directory_cards_link_to_the_public_page_and_show_the_distance(client, listed):
    response = client.get(DIRECTORY, {"near": "Mumbai", "radius": "any"})
    page = response.content.decode()

    assert reverse("doctors:public_profile", args=[listed.pk]) in page
    assert re.search(r"data-distance>1[12]\d km", page)


def test_a_doctor_with_a_photo_shows_it_in_the_directory_on_the_home_page_and_on_their_page(client):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "teal").save(buffer, "JPEG")
    with_photo = DoctorProfileFactory(full_name="Dr. Photo Present")
    with_photo.photo.save("face.jpg", ContentFile(buffer.getvalue()), save=True)
    DoctorProfileFactory(full_name="Dr. No Photo")
    photo_path = reverse("doctors:doctor_photo", args=[with_photo.pk])

    for url in (reverse("doctors:directory"), reverse("home"), reverse("doctors:public_profile", args=[with_photo.pk])):
        html = client.get(url).content.decode()
        assert f'src="{photo_path}?v=' in html, url
    assert client.get(photo_path)["Content-Type"] == "image/jpeg"
