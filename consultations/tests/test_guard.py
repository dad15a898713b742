"""The red-flag guard: measured on a labelled set, and rule by rule."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from consultations.intake.guard import EMERGENCY, ROUTINE, RULES, URGENT, Verdict, assess, worst
from consultations.models import TriageLevel

LABELLED = Path(__file__).parent / "data" / "triage_labelled.tsv"
DEVANAGARI = re.compile(r"[\u0900-\u097f]")


def labelled() -> list[tuple[str, str, str]]:
    rows = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            level, lang, message = line.split("\t")
            rows.append((level, lang, message))
    return rows


def test_the_labelled_set_is_large_and_covers_three_languages():
    rows = labelled()
    languages = Counter(lang for _, lang, _ in rows)

    assert len(rows) >= 150
    assert {level for level, _, _ in rows} == {EMERGENCY, URGENT, ROUTINE}
    assert set(languages) == {"en", "hi", "hinglish"}
    for _, lang, message in rows:
        assert (lang == "hi") == bool(DEVANAGARI.search(message)), message


def test_it_meets_the_recall_and_false_alarm_targets_on_the_labelled_set():
    rows = labelled()
    emergencies = [row for row in rows if row[0] == EMERGENCY]
    others = [row for row in rows if row[0] != EMERGENCY]
    verdicts = {message: assess(message) for _, _, message in rows}
    missed = [message for _, _, message in emergencies if not verdicts[message].is_emergency]
    under_triaged = [message for _, _, message in emergencies if verdicts[message].level == ROUTINE]
    false_alarms = [message for _, _, message in others if verdicts[message].is_emergency]
    misclassified = [
        f"{level} -> {verdicts[message].level} {list(verdicts[message].rules)}: {message}"
        for level, _, message in rows
        if verdicts[message].level != level
    ]
    recall = 1 - len(missed) / len(emergencies)
    false_alarm_rate = len(false_alarms) / len(others)
    per_language = Counter((lang, level) for level, lang, _ in rows)
    report = "\n".join(
        [
            f"messages: {len(rows)}; by language and level: {dict(sorted(per_language.items()))}",
            f"emergency recall: {recall:.1%} ({len(emergencies) - len(missed)}/{len(emergencies)})",
            f"false alarms (routine or urgent called emergency): {false_alarm_rate:.1%} "
            f"({len(false_alarms)}/{len(others)})",
            f"exact level agreement: {1 - len(misclassified) / len(rows):.1%}",
            "misclassified:",
            *(f"  {line}" for line in misclassified),
        ]
    )
    print(report)

    assert recall >= 0.98, report
    assert false_alarm_rate < 0.05, report
    assert under_triaged == [], report


def test_it_is_fast():
    messages = [message for _, _, message in labelled()]
    started = time.perf_counter()
    for message in messages:
        assess(message + " x")  # a new string each time, so the token cache helps only as in production
    per_message = (time.perf_counter() - started) / len(messages)

    assert per_message < 0.005


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("no chest pain", ROUTINE),
        ("I don't have any trouble breathing", ROUTINE),
        ("not suicidal", ROUTINE),
        ("never had a seizure", ROUTINE),
        ("seene mein dard nahi hai", ROUTINE),
        ("सीने में दर्द नहीं है", ROUTINE),
        ("bukhar nahi hai", ROUTINE),
        ("no fever but I can't breathe", EMERGENCY),
        ("no fever, I can't breathe", EMERGENCY),
        ("no fever and I can't breathe", EMERGENCY),
        ("bukhar nahi hai lekin saans nahi aa rahi", EMERGENCY),
        ("बुखार नहीं है लेकिन सीने में दर्द है", EMERGENCY),
        ("no fits or convulsions", ROUTINE),
        ("daura nahi pada", ROUTINE),
    ],
)
def test_negation_is_scoped_to_its_clause(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    "message",
    [
        "I can't breathe",
        "saans nahi aa rahi",
        "khoon ruk nahi raha",
        "the bleeding won't stop",
        "I have no reason to live",
        "I don't want to live anymore",
        "seene mein dard ruk nahi raha",
        "my baby is not feeding and is very floppy",
    ],
)
def test_negators_inside_a_phrase_do_not_negate_it(message):
    assert assess(message).is_emergency


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("sever chest pian", "chest_pain"),
        ("my chesst is paaaaiiiining", "chest_pain"),
        ("cant breth", "breathing"),
        ("difficulty breathng", "breathing"),
        ("she is unconsious", "unconscious"),
        ("he had a siezure", "seizure"),
        ("sucidal thoughts", "self_harm"),
        ("behos ho gya", "unconscious"),
        ("CHEST PAIN!!! 😰", "chest_pain"),
        ("साँस नही आ रही", "breathing"),
        ("सांस नहीं आ रही", "breathing"),
    ],
)
def test_it_tolerates_typos_repeated_letters_case_and_spelling_variants(message, rule):
    assert rule in assess(message).rules


@pytest.mark.parametrize(
    "message",
    ["I want to paint my room", "I was cooking dinner", "sour burps after tea", "kal se khoob khansi hai"],
)
def test_short_or_real_words_are_not_taken_for_typos(message):
    assert assess(message).level == ROUTINE


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("my 2 month old baby has high fever", EMERGENCY),
        ("my newborn has fever", EMERGENCY),
        ("bachche ko tez bukhar hai", EMERGENCY),
        ("my baby is teething", ROUTINE),
        ("my baby has no fever", ROUTINE),
        ("I have high fever", URGENT),
        ("I am 3 months pregnant and bleeding", EMERGENCY),
        ("main pregnant hu aur khoon aa raha hai", EMERGENCY),
        ("I am pregnant, no bleeding, just nausea", ROUTINE),
        ("I am pregnant and have morning sickness", ROUTINE),
        ("my period bleeding is normal", ROUTINE),
        ("he hit his head and is vomiting", EMERGENCY),
        ("I hit my head on the door", ROUTINE),
    ],
)
def test_combination_rules_need_every_part(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("fever 103 F", URGENT),
        ("temperature 39.8", URGENT),
        ("bukhar 104 hai", URGENT),
        ("fever 101", ROUTINE),
        ("mild fever 99.5", ROUTINE),
        ("fever for 5 days", URGENT),
        ("fever for more than 3 days", URGENT),
        ("3 din se zyada se bukhar hai", URGENT),
        ("fever for 2 days", ROUTINE),
        ("I am 40 years old with mild fever", ROUTINE),
    ],
)
def test_temperatures_and_fever_duration(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    "message",
    [
        "this headache is killing me",
        "I'm dying to see the doctor",
        "heartburn after spicy food",
        "the chest of drawers fell on my toe",
        "breathing exercises help my anxiety",
        "I cut my finger slightly while cooking",
        "I fainted once ten years ago",
        "stroke of luck",
        "my father had a stroke in 2015",
        "seizure of my documents by customs",
        "suicide squad movie",
        "food poisoning last week, better now",
        "heavy bleeding during periods",
        "electric shock like pain in my feet",
    ],
)
def test_harmless_look_alikes_are_routine(message):
    assert not assess(message).is_emergency


def test_history_does_not_hide_thoughts_of_self_harm():
    assert assess("I tried to kill myself years ago").is_emergency


def test_an_empty_message_is_routine():
    assert assess("") == Verdict(ROUTINE, ())
    assert assess("   \n") == Verdict(ROUTINE, ())


def test_rules_are_reported_most_severe_first():
    verdict = assess("I have high fever and severe chest pain")

    assert verdict.rules[0] == "chest_pain"
    assert "high_fever" in verdict.rules
    assert verdict.is_emergency and not verdict.is_urgent


def test_worst_keeps_the_highest_level_and_every_rule_in_order():
    routine = Verdict(ROUTINE, ())
    urgent = Verdict(URGENT, ("high_fever",))
    emergency = Verdict(EMERGENCY, ("chest_pain", "severe_pain"))

    assert worst(urgent, emergency, routine) == Verdict(EMERGENCY, ("chest_pain", "high_fever", "severe_pain"))
    assert worst(urgent, urgent) == urgent
    assert worst(routine) == routine
    assert worst() == routine


def test_every_rule_is_described_and_has_an_emergency_or_urgent_level():
    assert len(RULES) >= 20
    for rule_id, rule in RULES.items():
        assert rule.id == rule_id
        assert rule.label
        assert rule.level in {EMERGENCY, URGENT}
    assert {EMERGENCY, URGENT, ROUTINE} == set(TriageLevel.values)
    assert "14416" in RULES["self_harm"].advice


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("dard kam nahi ho raha chest me", EMERGENCY),
        ("bahut dard ho raha hai seene mein", EMERGENCY),
        ("dard nahi hai seene mein", ROUTINE),
        ("pet me dard hai aur seene me jalan", ROUTINE),
        ("mujhe bahut tez dard ho raha hai pet me achanak", EMERGENCY),
        ("achanak pet me gas ban jati hai", ROUTINE),
        ("chest pain - none", ROUTINE),
        ("chest pain: no", ROUTINE),
        ("breathing problem: nil", ROUTINE),
        ("chest pain - no relief with antacids", EMERGENCY),
        ("chest pain: yes", EMERGENCY),
        ("I don't think that what I feel is chest pain", EMERGENCY),  # hedged: the safe choice is to fire
    ],
)
def test_word_order_form_answers_and_hedges(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("my father had a stroke", ROUTINE),
        ("my mother had a heart attack", ROUTINE),
        ("papa ko heart attack hua tha", ROUTINE),
        ("family history of seizures", ROUTINE),
        ("my father is having a stroke right now", EMERGENCY),
        ("my father had a stroke an hour ago", EMERGENCY),
        ("my mother is unconscious", EMERGENCY),
        ("mere papa behosh ho gaye", EMERGENCY),
        ("my mother had a seizure and is still not waking up", EMERGENCY),
        ("my father had severe chest pain", EMERGENCY),
        ("my son had convulsions", EMERGENCY),
    ],
)
def test_an_older_relatives_past_disease_is_history(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    ("message", "rules"),
    [
        ("I feel like I am dying", {"feels_like_dying"}),
        ("lagta hai mar jaunga", {"feels_like_dying"}),
        ("I feel like dying, nothing matters anymore", {"feels_like_dying", "self_harm"}),
        ("mar jana chahta hu", {"self_harm"}),
    ],
)
def test_feeling_of_dying_is_an_emergency_and_self_harm_only_with_intent(message, rules):
    verdict = assess(message)
    assert verdict.is_emergency
    assert set(verdict.rules) == rules


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("no fever above 103", ROUTINE),
        ("fever was never 104", ROUTINE),
        ("bukhar 103 se upar nahi gaya", ROUTINE),
        ("no fever for 5 days now", ROUTINE),
        ("fever has not come down from 104", URGENT),
        ("bukhar 104 se kam nahi ho raha", URGENT),
        ("no cough but fever 104", URGENT),
        ("5 din se bukhar nahi utar raha", URGENT),
    ],
)
def test_negated_temperatures_and_fever_durations(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    ("message", "level"),
    [
        ("can't feel my left arm suddenly", EMERGENCY),
        ("lips are blue", EMERGENCY),
        ("baby not drinking milk and very sleepy", EMERGENCY),
        ("he took an overdose", EMERGENCY),
        ("vomiting blood", EMERGENCY),
        ("pee has blood", URGENT),
        ("I can't move my arm since the fracture", ROUTINE),
        ("I can't feel my toes in the cold", ROUTINE),
    ],
)
def test_other_common_phrasings(message, level):
    assert assess(message).level == level


@pytest.mark.parametrize(
    ("message", "level", "rule"),
    [
        ("I took 20 sleeping pills", EMERGENCY, "poisoning"),
        ("took a whole strip of tablets", EMERGENCY, "poisoning"),
        ("neend ki goliyan kha li", EMERGENCY, "poisoning"),
        ("saari goliyan ek saath kha li", EMERGENCY, "poisoning"),
        ("khud ko khatam karna chahta hu", EMERGENCY, "self_harm"),
        ("apni jaan dena chahti hu", EMERGENCY, "self_harm"),
        ("जीना नहीं चाहता", EMERGENCY, "self_harm"),
        ("baby not moving since morning", EMERGENCY, "reduced_fetal_movement"),
        ("baby has stopped moving in my womb", EMERGENCY, "reduced_fetal_movement"),
        ("pet mein bachcha hil nahi raha", EMERGENCY, "reduced_fetal_movement"),
        ("bachche ne battery nigal li", EMERGENCY, "swallowed_battery"),
        ("my child swallowed a coin", URGENT, "swallowed_object"),
        ("I was bitten by a dog", URGENT, "animal_bite"),
        ("kutte ne kaat liya", URGENT, "animal_bite"),
        ("my father has chest pain now", EMERGENCY, "chest_pain"),
        ("my father had chest pain and is sweating", EMERGENCY, "chest_pain"),
    ],
)
def test_second_review_misses_are_caught(message, level, rule):
    verdict = assess(message)
    assert verdict.level == level
    assert rule in verdict.rules


@pytest.mark.parametrize(
    "message",
    [
        "my father had chest pain",
        "papa ko seene mein dard hua tha",
        "I take 2 tablets a day for my thyroid",
        "I took all my medicines today as usual",
        "he did not take 20 pills",
        "the baby kicks hard after I eat, is that normal",
        "I swallowed a glass of water and then the hiccups stopped",
        "my dog is a bit sick",
    ],
)
def test_second_review_look_alikes_stay_routine(message):
    assert assess(message).level == ROUTINE
