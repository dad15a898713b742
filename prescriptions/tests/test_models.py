"""The tables themselves: an issued prescription cannot change, whoever writes;
the item columns hold only what they should; the catalogue is loaded."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from prescriptions.models import ITEMS_LOCKED, LOCKED, Prescription, PrescriptionItem, PrescriptionLocked, Remedy
from prescriptions.queries import remedy_key
from prescriptions.tests.conftest import draft, issued
from prescriptions.tests.factories import IssuedPrescriptionFactory, PrescriptionFactory, PrescriptionItemFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("remedy_catalogue")]


# --- an issued prescription is immutable -------------------------------------------------


def test_the_model_refuses_to_change_an_issued_prescription(consultation):
    rx = issued(consultation)
    rx = Prescription.objects.get(pk=rx.pk)
    rx.diagnosis = "Rewritten after the fact"

    with pytest.raises(PrescriptionLocked) as refused:
        rx.save()

    assert refused.value.messages == [LOCKED]
    assert Prescription.objects.get(pk=rx.pk).diagnosis == "Sprained ankle after a fall."


@pytest.mark.parametrize(
    "change",
    [
        {"valid_until": timezone.localdate()},
        {"follow_up_date": timezone.localdate()},
        {"prescription_type": "chronic"},
        {"status": "draft"},
        {"issued_at": None},
    ],
)
def test_no_column_of_an_issued_prescription_can_be_changed(consultation, change):
    rx = Prescription.objects.get(pk=issued(consultation).pk)
    for name, value in change.items():
        setattr(rx, name, value)

    with pytest.raises(PrescriptionLocked):
        rx.save()


def test_a_queryset_update_cannot_change_an_issued_prescription_either(consultation):
    rx = issued(consultation)

    with pytest.raises(PrescriptionLocked):
        Prescription.objects.filter(pk=rx.pk).update(diagnosis="Rewritten")

    assert Prescription.objects.get(pk=rx.pk).diagnosis == "Sprained ankle after a fall."


def test_an_issued_prescription_may_be_cancelled_and_soft_deleted(consultation):
    rx = Prescription.objects.get(pk=issued(consultation).pk)
    rx.status, rx.cancelled_at, rx.cancellation_reason = "cancelled", timezone.now(), "Wrong potency"
    rx.save()
    rx.soft_delete()

    assert Prescription.all_objects.get(pk=rx.pk).status == "cancelled"


def test_a_cancelled_prescription_cannot_be_revived(consultation):
    rx = Prescription.objects.get(pk=issued(consultation).pk)
    rx.status, rx.cancelled_at, rx.cancellation_reason = "cancelled", timezone.now(), "Wrong potency"
    rx.save()
    rx = Prescription.objects.get(pk=rx.pk)
    rx.status = "issued"

    with pytest.raises(PrescriptionLocked):
        rx.save()


def test_the_items_of_an_issued_prescription_cannot_be_changed_added_or_removed(consultation):
    rx = issued(consultation)
    item = rx.items.first()
    item.potency_value = 1000

    with pytest.raises(PrescriptionLocked) as changed:
        item.save()
    with pytest.raises(PrescriptionLocked):
        PrescriptionItem(prescription=rx, remedy_name="Sulphur", potency_value=30, potency_scale="C").save()
    with pytest.raises(PrescriptionLocked):
        item.delete()
    with pytest.raises(PrescriptionLocked):
        PrescriptionItem.objects.filter(prescription=rx).update(dose="10 globules")
    with pytest.raises(PrescriptionLocked):
        PrescriptionItem.objects.filter(prescription=rx).delete()

    assert changed.value.messages == [ITEMS_LOCKED]
    assert [(i.remedy_name, i.potency) for i in rx.items.order_by("position")] == [
        ("Arnica montana", "30C"),
        ("Belladonna", "200C"),
    ]


def test_a_drafts_items_can_be_edited(consultation):
    rx = draft(consultation)
    item = rx.items.first()
    item.dose = "2 globules"
    item.save()
    PrescriptionItem.objects.filter(prescription=rx).update(duration="5 days")

    assert set(rx.items.values_list("duration", flat=True)) == {"5 days"}


# --- what the columns hold -----------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {"potency_value": None, "potency_scale": "C"},  # 30C needs its number
        {"potency_value": 30, "potency_scale": "Q"},  # mother tincture has none
        {"potency_value": 30, "potency_scale": "c"},  # case matters, on MySQL too
        {"dosage_form": "pills"},
        {"repetition": "hourly"},
        {"pill_size": 25},
    ],
)
def test_the_database_refuses_item_values_outside_their_choices(values):
    rx = PrescriptionFactory()
    item = PrescriptionItem(prescription=rx, remedy_name="Sulphur", potency_value=30, potency_scale="C")
    for name, value in values.items():
        setattr(item, name, value)

    with pytest.raises(IntegrityError), transaction.atomic():
        PrescriptionItem.objects.bulk_create([item])


def test_an_lm_plan_needs_an_lm_potency_and_steps_one_level_at_a_time():
    rx = PrescriptionFactory()
    item = PrescriptionItem(
        prescription=rx,
        remedy_name="Sulphur",
        potency_value=30,
        potency_scale="C",
        lm_plan={"steps": [{"level": 1, "days": 15}, {"level": 3, "days": 15}]},
        pill_size=30,
        dosage_form="dilution",
    )

    with pytest.raises(Exception) as refused:
        item.full_clean()

    errors = refused.value.message_dict
    assert "lm_plan" in errors and "pill_size" in errors
    assert any("one LM level" in message for message in errors["lm_plan"])


def test_an_item_reads_as_it_is_printed():
    item = PrescriptionItemFactory(
        remedy_name="Sulphur",
        potency_value=1,
        potency_scale="LM",
        dosage_form="dilution",
        repetition="od",
        frequency="on waking",
        instruction_codes=["shake_bottle"],
        instructions="Stop if the rash flares.",
        lm_plan={"succussions": 10, "steps": [{"level": 1, "days": 15}, {"level": 2, "days": 15}]},
    )

    assert (item.potency, item.form_text, item.repetition_text) == ("LM1", "Liquid dilution", "Once a day; on waking")
    assert item.instruction_lines == ["Shake (succuss) the bottle firmly before each dose.", "Stop if the rash flares."]
    assert item.lm_plan_lines == [
        "Succuss the bottle 10 times before each dose.",
        "LM1 for 15 days, then LM2 for 15 days.",
    ]


def test_a_globule_items_form_carries_its_pill_size():
    assert PrescriptionItemFactory(pill_size=30).form_text == "Globules No. 30"


def test_issued_fixtures_are_still_built_by_the_factories():
    item = PrescriptionItemFactory(prescription=IssuedPrescriptionFactory())
    assert item.prescription.status == "issued"


# --- the remedy catalogue ---------------------------------------------------------------------


def test_the_catalogue_holds_at_least_200_remedies_with_their_standard_abbreviations():
    catalogue = dict(Remedy.objects.values_list("name", "abbreviation"))

    assert len(catalogue) >= 200
    assert catalogue["Arsenicum album"] == "Ars."
    assert catalogue["Nux vomica"] == "Nux-v."
    assert catalogue["Pulsatilla nigricans"] == "Puls."
    assert catalogue["Rhus toxicodendron"] == "Rhus-t."
    assert catalogue["Natrum muriaticum"] == "Nat-m."


def test_the_twelve_tissue_salts_are_marked():
    salts = set(Remedy.objects.filter(is_tissue_salt=True).values_list("abbreviation", flat=True))

    assert salts == {
        "Calc-f.",
        "Calc-p.",
        "Calc-s.",
        "Ferr-p.",
        "Kali-m.",
        "Kali-p.",
        "Kali-s.",
        "Mag-p.",
        "Nat-m.",
        "Nat-p.",
        "Nat-s.",
        "Sil.",
    }


def test_no_two_remedies_answer_to_the_same_name():
    owners: dict[str, set[str]] = {}
    for remedy in Remedy.objects.all():
        for label in (remedy.name, remedy.abbreviation, *remedy.other_names):
            owners.setdefault(remedy_key(label), set()).add(remedy.name)

    assert {key: names for key, names in owners.items() if len(names) > 1} == {}
