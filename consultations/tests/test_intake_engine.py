"""The offline case-taking engine: pure functions, no database."""

from __future__ import annotations

import copy

import pytest

from consultations.intake import engine
from consultations.intake.engine import ProfileFacts, Prompt
from consultations.schemas import SYMPTOMS
from dhanwantari.jsonfield import JSONShapeValidator
from doctors.schemas import SPECIALIZATIONS

# The validator SchemaJSONField runs on Consultation.symptoms in full_clean() and pre_save().
validate_symptoms = JSONShapeValidator(SYMPTOMS)

FACTS = ProfileFacts(allergies=("penicillin", "dust"), medications=("thyroxine 50 mcg",), conditions=())
NO_FACTS = ProfileFacts()


def checked(prompt: Prompt) -> Prompt:
    """Every prompt: a valid case, a short plain message, a known state."""
    validate_symptoms(prompt.case)
    assert isinstance(prompt.text, str) and 0 < len(prompt.text) <= engine.MAX_PROMPT_CHARS
    assert not any(mark in prompt.text for mark in ("**", "`", "# ", "](")), "plain text, no markdown"
    assert isinstance(prompt.chips, tuple) and all(isinstance(c, str) and c for c in prompt.chips)
    assert prompt.topic
    assert prompt.state in ("taking", "paused", "done")
    assert prompt.case["intake"]["step"] in engine.STEPS
    return prompt


def start(case: dict | None = None, facts: ProfileFacts = FACTS) -> Prompt:
    case = {} if case is None else case
    before = copy.deepcopy(case)
    prompt = checked(engine.start(case, facts))
    assert case == before, "start() must not mutate its input"
    return prompt


def reply(prompt: Prompt | dict, text: str, facts: ProfileFacts = FACTS) -> Prompt:
    case = prompt.case if isinstance(prompt, Prompt) else prompt
    before = copy.deepcopy(case)
    out = checked(engine.answer(case, text, facts))
    assert case == before, "answer() must not mutate its input"
    assert out.case is not case
    return out


def replies(prompt: Prompt, answers: list[str], facts: ProfileFacts = FACTS) -> Prompt:
    for text in answers:
        prompt = reply(prompt, text, facts)
    return prompt


def step(prompt: Prompt) -> tuple[str, int]:
    return prompt.case["intake"]["step"], prompt.case["intake"]["complaint"]


COMPLAINT_ANSWERS = [
    "right temple",  # location
    "Throbbing",  # sensation
    "after a fright",  # onset
    "3 weeks",  # duration
    "Moderate",  # severity
    "pressure, dark room and sleep",  # better
    "sun; noise aur light",  # worse
    "nausea and thirst",  # concomitants
]
GENERAL_ANSWERS = [
    "low",  # appetite
    "Hardly thirsty",  # thirst
    "sweets, salt",  # cravings
    "milk",  # aversions
    "wakes at 3 am",  # sleep
    "falling",  # dreams
    "Chilly",  # thermal
    "scalp",  # perspiration
    "low in the morning",  # energy
]
WHOLE_CASE = [
    "Headaches   for three weeks",
    *COMPLAINT_ANSWERS,
    "No",  # more complaints
    *GENERAL_ANSWERS,
    "irritable, wants company",  # mentals
    "Yes, that's right",  # allergies: confirmed
    "Something has changed",  # medications: changed...
    "stopped thyroxine last month",  # ...what changed
    "asthma",  # conditions: asked (the profile has none)
    "typhoid 2010",  # past history
    "father: diabetes",  # family history
]
WHOLE_CASE_RESULT = {
    "source": "ai_intake",
    "chief_complaint": "Headaches for three weeks",
    "complaints": [
        {
            "description": "Headaches for three weeks",
            "location": "right temple",
            "sensation": "Throbbing",
            "onset": "after a fright",
            "duration": "3 weeks",
            "severity": "moderate",
            "modalities": {"better": ["pressure", "dark room", "sleep"], "worse": ["sun", "noise", "light"]},
            "concomitants": ["nausea", "thirst"],
        }
    ],
    "generals": {
        "appetite": "low",
        "thirst": "Hardly thirsty",
        "cravings": ["sweets", "salt"],
        "aversions": ["milk"],
        "sleep": "wakes at 3 am",
        "dreams": "falling",
        "thermal": "chilly",
        "perspiration": "scalp",
        "energy": "low in the morning",
    },
    "mentals": "irritable, wants company",
    "profile_confirmed": {
        "allergies": "penicillin, dust",
        "medications": "stopped thyroxine last month",
        "conditions": "asthma",
    },
    "past_history": "typhoid 2010",
    "family_history": "father: diabetes",
    "intake": {"state": "done", "step": "done", "complaint": 0},
}


def test_a_whole_case_is_taken_in_the_homeopathic_order():
    prompt = start()
    assert prompt.text.startswith("Namaste")
    assert "In your own words, what is troubling you most?" in prompt.text
    assert prompt.case == {
        "source": "ai_intake",
        "intake": {"state": "taking", "step": "chief_complaint", "complaint": 0},
    }

    seen = []
    for text in WHOLE_CASE:
        seen.append(step(prompt)[0])
        prompt = reply(prompt, text)

    assert seen == [
        "chief_complaint",
        *engine.COMPLAINT_STEPS,
        "more_complaints",
        *engine.GENERAL_STEPS,
        "mentals",
        "allergies",
        "medications",
        "medications_changed",
        "conditions",
        "past_history",
        "family_history",
    ]
    assert prompt.case == WHOLE_CASE_RESULT
    assert prompt.state == "done"
    assert prompt.chips == ()
    assert "ready for a doctor" in prompt.text
    assert "do not diagnose or prescribe" in prompt.text
    assert "book a doctor" in prompt.text


def test_questions_follow_the_case_and_offer_chips():
    prompt = start()
    prompt = reply(prompt, "Headache")
    assert "Where exactly" in prompt.text
    assert prompt.chips == ("Skip", "Pause for now")
    assert prompt.topic.startswith("complaint 1 (Headache)")
    prompt = replies(prompt, COMPLAINT_ANSWERS[:4])
    assert step(prompt) == ("severity", 0)
    assert prompt.chips[:3] == ("Mild", "Moderate", "Severe")
    assert "severity" in prompt.topic
    prompt = replies(prompt, COMPLAINT_ANSWERS[4:6])
    assert prompt.topic.endswith("modalities: what makes the complaint worse")


def test_a_second_complaint_is_taken_in_full():
    prompt = replies(start(), ["Headache", *COMPLAINT_ANSWERS])
    assert step(prompt) == ("more_complaints", 0)
    assert prompt.chips == ("Yes", "No", "Pause for now")
    prompt = reply(prompt, "haan")
    assert step(prompt) == ("another_complaint", 1)
    prompt = reply(prompt, "Acidity after meals")
    assert step(prompt) == ("location", 1)
    assert prompt.text.startswith("Now about \u201cAcidity after meals\u201d.")
    prompt = replies(prompt, ["upper stomach", "burning", "-", "2 years", "severe", "cold milk", "spicy food", "nahi"])
    assert step(prompt) == ("more_complaints", 1)
    prompt = reply(prompt, "नहीं")
    assert step(prompt) == ("appetite", 0)

    second = prompt.case["complaints"][1]
    assert second == {
        "description": "Acidity after meals",
        "location": "upper stomach",
        "sensation": "burning",
        "duration": "2 years",
        "severity": "severe",
        "modalities": {"better": ["cold milk"], "worse": ["spicy food"]},
        "concomitants": ["none"],
    }


def test_case_taking_stops_at_three_complaints():
    prompt = replies(start(), ["Headache", *COMPLAINT_ANSWERS, "yes", "Back pain", *COMPLAINT_ANSWERS])
    prompt = replies(prompt, ["Yes", "Eczema", *COMPLAINT_ANSWERS])
    # After the third complaint there is no "another one?": straight on to the generals.
    assert step(prompt) == ("appetite", 0)
    assert [c["description"] for c in prompt.case["complaints"]] == ["Headache", "Back pain", "Eczema"]


def test_an_answer_naming_the_next_complaint_is_taken_as_its_description():
    prompt = replies(start(), ["Headache", *COMPLAINT_ANSWERS])
    named = reply(prompt, "Yes, back pain since last year")
    assert step(named) == ("location", 1)
    assert named.case["complaints"][1] == {"description": "back pain since last year"}

    assert step(reply(prompt, "No, that's it")) == ("appetite", 0)
    assert step(reply(prompt, "nothing else")) == ("appetite", 0)
    assert step(reply(prompt, "Yes there is")) == ("another_complaint", 1)


def test_another_complaint_replaces_nothing_of_an_older_one():
    # A hand-edited case with a second complaint already in place: its details are not mixed in.
    case = {"complaints": [{"description": "Headache"}, {"description": "Old", "location": "knee"}]}
    case["intake"] = {"state": "taking", "step": "another_complaint", "complaint": 1}
    prompt = reply(case, "Cough")
    assert prompt.case["complaints"] == [{"description": "Headache"}, {"description": "Cough"}]


def test_a_skip_records_nothing_and_moves_on():
    prompt = replies(start(), ["Headache", "right temple"])
    for skip in ("Skip", "don't know", "pata nahi", "नहीं पता", "-", "?"):
        skipped = reply(prompt, skip)
        assert step(skipped) == ("onset", 0), skip
        assert skipped.case["complaints"] == [{"description": "Headache", "location": "right temple"}]
        assert skipped.state == "taking"


def test_skipping_the_chief_complaint_goes_to_the_generals():
    prompt = reply(start(), "Skip")
    assert step(prompt) == ("appetite", 0)
    assert "complaints" not in prompt.case and "chief_complaint" not in prompt.case


def test_yes_is_no_chief_complaint():
    prompt = reply(start(), "yes")
    assert step(prompt) == ("chief_complaint", 0)
    assert "chief_complaint" not in prompt.case


def test_an_empty_answer_asks_again():
    prompt = replies(start(), ["Headache"])
    again = reply(prompt, "   \n ")
    assert again.case == prompt.case
    assert again.text == prompt.text


def test_pause_saves_and_resume_asks_the_same_question():
    asked = replies(start(), ["Headache", "right temple"])
    assert step(asked) == ("sensation", 0)

    for word in ("Pause for now", "pause", "later", "baad mein", "बाद में"):
        paused = reply(asked, word)
        assert paused.state == "paused", word
        assert paused.case["intake"] == {"state": "paused", "step": "sensation", "complaint": 0}
        assert paused.case["complaints"] == asked.case["complaints"]
        assert "saved" in paused.text and "Continue" in paused.text
        assert paused.chips == ("Continue",)

    again = checked(engine.current(paused.case, FACTS))
    assert again.state == "paused" and again.case == paused.case

    before = copy.deepcopy(paused.case)
    resumed = checked(engine.resume(paused.case, FACTS))
    assert paused.case == before
    assert resumed.state == "taking"
    assert resumed.case["intake"] == {"state": "taking", "step": "sensation", "complaint": 0}
    assert resumed.text == "Welcome back! Your earlier answers are saved. " + asked.text
    assert resumed.chips == asked.chips

    # Typing while paused resumes too, but records nothing: the question may be forgotten.
    typed = reply(paused, "burning")
    assert typed.state == "taking" and typed.text.startswith("Welcome back")
    assert typed.case["complaints"] == asked.case["complaints"]
    assert step(typed) == ("sensation", 0)
    # A pause word while paused stays paused.
    assert reply(paused, "later").case == paused.case


def test_current_repeats_the_pending_question_and_changes_nothing():
    prompt = replies(start(), ["Headache", "right temple"])
    again = checked(engine.current(prompt.case, FACTS))
    assert again.case == prompt.case
    assert (again.text, again.chips, again.topic, again.state) == (
        prompt.text,
        prompt.chips,
        prompt.topic,
        prompt.state,
    )


def _at_profile(facts: ProfileFacts) -> Prompt:
    prompt = replies(start(facts=facts), ["Headache", *COMPLAINT_ANSWERS, "No", *GENERAL_ANSWERS, "calm"], facts)
    assert step(prompt) == ("allergies", 0)
    return prompt


def test_profile_facts_are_confirmed_not_asked_again():
    prompt = _at_profile(FACTS)
    assert prompt.text == "Your profile lists allergies: penicillin, dust. Is that still right?"
    assert prompt.chips == ("Yes, that's right", "Something has changed", "Pause for now")

    for yes in ("Yes, that's right", "yes", "haan ji", "हाँ", "sahi hai"):
        confirmed = reply(prompt, yes)
        assert confirmed.case["profile_confirmed"] == {"allergies": "penicillin, dust"}, yes
        assert step(confirmed) == ("medications", 0)
        assert "thyroxine 50 mcg" in confirmed.text


def test_a_changed_profile_item_is_asked_once_more():
    prompt = _at_profile(FACTS)
    for changed in ("Something has changed", "no", "nahi", "changed"):
        asked = reply(prompt, changed)
        assert step(asked) == ("allergies_changed", 0), changed
        assert asked.text.startswith("What has changed?")
        assert "profile_confirmed" not in asked.case
    told = reply(asked, "also sulfa drugs now")
    assert told.case["profile_confirmed"] == {"allergies": "also sulfa drugs now"}
    assert step(told) == ("medications", 0)
    # "Nothing" after all: the profile stands.
    assert reply(asked, "nothing").case["profile_confirmed"] == {"allergies": "penicillin, dust"}


def test_free_text_to_a_profile_confirmation_is_the_correction_itself():
    prompt = _at_profile(FACTS)
    corrected = reply(prompt, "only dust now, not penicillin")
    assert corrected.case["profile_confirmed"] == {"allergies": "only dust now, not penicillin"}
    assert step(corrected) == ("medications", 0)


def test_an_empty_profile_is_asked_and_no_means_none():
    prompt = _at_profile(NO_FACTS)
    assert prompt.text == "Do you have any allergies — to medicines, food, dust or anything else? If none, say none."
    prompt = reply(prompt, "None", NO_FACTS)
    assert "medicines or supplements" in prompt.text
    prompt = reply(prompt, "nahi", NO_FACTS)
    assert "long-term health conditions" in prompt.text
    prompt = reply(prompt, "Skip", NO_FACTS)
    assert step(prompt) == ("past_history", 0)
    assert prompt.case["profile_confirmed"] == {"allergies": "none", "medications": "none"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mild", "mild"),
        ("MILD", "mild"),
        ("thoda sa", "mild"),
        ("halka", "mild"),
        ("Moderate", "moderate"),
        ("medium", "moderate"),
        ("Severe", "severe"),
        ("very bad", "severe"),
        ("bahut zyada", "severe"),
        ("बहुत तेज़", "severe"),
        ("unbearable!", "severe"),
        ("2", "mild"),
        ("5/10", "moderate"),
        ("8 out of 10", "severe"),
        ("it comes and goes", None),
        ("42", None),
    ],
)
def test_severity_is_mapped_to_the_schema_enum(text, expected):
    prompt = replies(start(), ["Headache", *COMPLAINT_ANSWERS[:4]])
    assert step(prompt) == ("severity", 0)
    prompt = reply(prompt, text)
    assert prompt.case["complaints"][0].get("severity") == expected
    assert step(prompt) == ("modalities_better", 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chilly", "chilly"),
        ("chilly", "chilly"),
        ("thand lagti hai", "chilly"),
        ("मुझे ठंड ज्यादा लगती है", "chilly"),
        ("I feel the cold more than the heat", "chilly"),
        ("Hot", "hot"),
        ("garmi", "hot"),
        ("can't stand the heat", "hot"),
        ("Neither", "ambithermal"),
        ("both bother me", "ambithermal"),
        ("normal", "ambithermal"),
        ("hmm", None),
    ],
)
def test_the_thermal_state_is_read_from_chips_and_words(text, expected):
    prompt = replies(start(), ["Skip", *GENERAL_ANSWERS[:6]])
    assert step(prompt) == ("thermal", 0)
    prompt = reply(prompt, text)
    assert prompt.case["generals"].get("thermal") == expected
    assert step(prompt) == ("perspiration", 0)


@pytest.mark.parametrize("text", ["Yes", "YES", "yeah", "haan", "ha", "han", "हाँ", "हां", "ji haan"])
def test_yes_variants_ask_for_another_complaint(text):
    prompt = replies(start(), ["Headache", *COMPLAINT_ANSWERS])
    assert step(reply(prompt, text)) == ("another_complaint", 1)


@pytest.mark.parametrize("text", ["No", "no.", "nope", "nahi", "nahin", "नहीं", "na", "No, that's all"])
def test_no_variants_go_on_to_the_generals(text):
    prompt = replies(start(), ["Headache", *COMPLAINT_ANSWERS])
    assert step(reply(prompt, text)) == ("appetite", 0)


def test_list_answers_are_split_on_commas_semicolons_and_and():
    prompt = replies(start(), ["Skip", "good", "normal"])
    assert step(prompt) == ("cravings", 0)
    prompt = reply(prompt, "sweets, Salt and sour things; ice cream aur achaar और नमकीन, sweets")
    assert prompt.case["generals"]["cravings"] == ["sweets", "Salt", "sour things", "ice cream", "achaar", "नमकीन"]
    assert reply(prompt, "none").case["generals"]["aversions"] == ["none"]


def test_over_long_answers_are_cut_to_the_schema_limits():
    prompt = start()
    long_text = "a" * 5000
    many = ", ".join(f"item {n} " + "x" * 400 for n in range(50))
    while prompt.state != "done":
        current_step = step(prompt)[0]
        text = many if current_step in engine._LIST_FIELDS else long_text
        if current_step == "more_complaints":
            text = "no"
        prompt = reply(prompt, text)  # reply() validates against the schema

    case = prompt.case
    assert len(case["chief_complaint"]) == 2000
    assert len(case["complaints"][0]["description"]) == 300
    assert len(case["complaints"][0]["location"]) == 300
    assert len(case["complaints"][0]["modalities"]["better"]) == 30
    assert all(len(item) <= 300 for item in case["complaints"][0]["modalities"]["better"])
    assert len(case["mentals"]) == 2000
    assert len(case["profile_confirmed"]["medications"]) == 2000
    assert "severity" not in case["complaints"][0] and "thermal" not in case["generals"]


def test_control_characters_never_reach_the_case():
    prompt = reply(start(), "Head\x00ache\x07 \ud800 bad")
    assert prompt.case["chief_complaint"] == "Head ache bad"


def test_long_profile_lists_keep_the_question_short():
    facts = ProfileFacts(allergies=tuple(f"allergen number {n}" for n in range(100)))
    prompt = _at_profile(facts)
    assert len(prompt.text) <= engine.MAX_PROMPT_CHARS
    confirmed = reply(prompt, "yes", facts)
    assert len(confirmed.case["profile_confirmed"]["allergies"]) <= 2000


@pytest.mark.parametrize(
    "intake",
    [
        {"state": "taking", "step": "no_such_step", "complaint": 0},
        {"state": "taking", "step": "location", "complaint": 5},  # no such complaint
        {"state": "taking", "step": "severity", "complaint": 0},  # complaint 0 missing
        {"state": "taking", "step": "another_complaint", "complaint": 0},
        {"state": "taking", "step": "location", "complaint": True},
        {"step": "sleep", "complaint": "1"},
        {},
    ],
)
def test_an_unknown_position_restarts_at_the_chief_complaint(intake):
    case = {"generals": {"sleep": "sound"}, "intake": intake}
    prompt = reply(case, "burning")
    assert step(prompt) == ("chief_complaint", 0)
    assert prompt.state == "taking"
    assert prompt.case["generals"] == {"sleep": "sound"}, "nothing recorded, nothing lost"
    assert prompt.text.endswith("what is troubling you most?")

    assert step(checked(engine.current(case, FACTS))) == ("chief_complaint", 0)
    assert step(checked(engine.resume(case, FACTS))) == ("chief_complaint", 0)


def test_answer_on_a_case_never_started_asks_for_the_chief_complaint():
    prompt = reply({}, "hello")
    assert step(prompt) == ("chief_complaint", 0)
    resumed = checked(engine.resume({}, FACTS))
    assert resumed.case["source"] == "ai_intake" and resumed.text.startswith("Namaste")


BOOKED = {
    "chief_complaint": "Headache for three weeks",
    "complaints": [{"description": "Headache for three weeks", "location": "temples", "severity": "moderate"}],
    "source": "patient",
    "generals": {"thermal": "hot"},
}


def test_start_quotes_a_chief_complaint_from_the_booking_form():
    prompt = start(BOOKED)
    assert step(prompt) == ("chief_complaint", 0)
    assert "\u201cHeadache for three weeks\u201d" in prompt.text
    assert prompt.chips == ("Yes, that's right", "Pause for now")
    assert prompt.case["source"] == "ai_intake"
    assert prompt.case["generals"] == {"thermal": "hot"}, "earlier answers are kept"

    for keep in ("Yes, that's right", "haan", "skip"):
        kept = reply(prompt, keep)
        assert kept.case["complaints"] == BOOKED["complaints"], keep
        assert kept.case["chief_complaint"] == BOOKED["chief_complaint"]
        assert step(kept) == ("location", 0)

    restated = reply(prompt, "Migraine on the right side")
    assert restated.case["chief_complaint"] == "Migraine on the right side"
    assert restated.case["complaints"] == [
        {"description": "Migraine on the right side", "location": "temples", "severity": "moderate"}
    ]
    # Details from the booking are asked again; a skip keeps them.
    assert reply(restated, "skip").case["complaints"][0]["location"] == "temples"
    assert reply(restated, "right temple").case["complaints"][0]["location"] == "right temple"


def test_a_confirmed_chief_complaint_without_complaints_makes_one():
    prompt = start({"chief_complaint": "Cough at night"})
    assert reply(prompt, "yes").case["complaints"] == [{"description": "Cough at night"}]


def test_a_finished_case_stays_finished():
    done = replies(start(), WHOLE_CASE)
    for prompt in (
        reply(done, "one more thing"),
        reply(done, "pause"),
        checked(engine.current(done.case, FACTS)),
        checked(engine.resume(done.case, FACTS)),
    ):
        assert prompt.state == "done"
        assert prompt.case == done.case
        assert prompt.text == done.text


def test_an_emergency_is_left_alone():
    case = {"chief_complaint": "chest pain", "intake": {"state": "emergency", "step": "location", "complaint": 0}}
    for prompt in (engine.answer(case, "yes", FACTS), engine.resume(case, FACTS), engine.current(case, FACTS)):
        assert prompt.state == "emergency"
        assert prompt.case == case and prompt.case is not case
        assert prompt.chips == ()


def test_the_same_inputs_give_the_same_outputs():
    def run() -> list[Prompt]:
        prompts = [engine.start({}, FACTS)]
        for text in WHOLE_CASE:
            prompts.append(engine.answer(prompts[-1].case, text, FACTS))
        return prompts

    assert run() == run()
    first = replies(start(), WHOLE_CASE)
    assert engine.summary(first.case, "routine") == engine.summary(copy.deepcopy(first.case), "routine")


def test_the_input_case_is_never_mutated():
    case = {"complaints": [{"description": "Headache", "modalities": {"better": ["rest"]}}], "generals": {}}
    case["intake"] = {"state": "taking", "step": "modalities_better", "complaint": 0}
    frozen = copy.deepcopy(case)
    prompt = engine.answer(case, "sleep, dark", FACTS)
    assert case == frozen
    assert prompt.case["complaints"][0]["modalities"]["better"] == ["sleep", "dark"]
    prompt.case["complaints"][0]["modalities"]["better"].append("mutated later")
    assert case == frozen, "the returned case shares nothing with the input"
    for call in (lambda: engine.start(case, FACTS), lambda: engine.resume(case, FACTS)):
        call()
        assert case == frozen


def test_the_summary_has_labelled_sections_for_what_was_answered():
    case = replies(start(), WHOLE_CASE).case
    text = engine.summary(case, "routine")
    lines = text.splitlines()
    assert "Triage: routine" in lines
    assert "Chief complaint" in lines
    assert "Complaint 1: Headaches for three weeks" in lines
    assert "  Better from: pressure, dark room, sleep" in lines
    assert "  Worse from: sun, noise, light" in lines
    assert "  Along with: nausea, thirst" in lines
    assert "  Severity: moderate" in lines
    assert "Generals" in lines
    assert "  Thermal: chilly (feels the cold)" in lines
    assert "Mind and emotions" in lines
    assert "Profile, as confirmed by the patient" in lines
    assert "  Allergies: penicillin, dust" in lines
    assert "  Medicines: stopped thyroxine last month" in lines
    assert "Past history" in lines and "Family history" in lines
    assert "not finished" not in text
    assert "*" not in text


def test_the_summary_omits_what_was_not_answered():
    prompt = replies(start(), ["Headache", "Skip", "burning"])
    text = engine.summary(prompt.case, "urgent")
    assert "Triage: urgent" in text
    assert "  Sensation: burning" in text
    for absent in ("Location", "Generals", "Mind and emotions", "Profile", "Past history", "Family history"):
        assert absent not in text
    assert "Note: case-taking was not finished (stopped at complaint 1 (Headache), onset" in text
    assert engine.summary({}, "").splitlines()[1] == "Triage: not assessed"


def test_the_summary_names_red_flags_and_suggestions():
    case = {"triage": {"level": "urgent", "rules": ["high_fever"]}, "suggested_specializations": ["acute", "nope"]}
    text = engine.summary(case, "urgent")
    assert "Red flags noted: high_fever" in text
    assert "Acute and seasonal illness" in text


@pytest.mark.parametrize(
    ("complaints", "expected"),
    [
        (["Eczema on my hands"], ["dermatology"]),
        (["Hair fall and dandruff"], ["dermatology"]),
        (["Acidity after meals", "constipation"], ["digestive"]),
        (["Sneezing every morning"], ["respiratory_allergy"]),
        (["Can't sleep, lots of stress"], ["mental_emotional"]),
        (["Knee pain when climbing stairs"], ["musculoskeletal"]),
        (["Irregular periods, PCOS"], ["womens_health"]),
        (["Thyroid problem"], ["endocrine"]),
        (["My baby has colic"], ["paediatrics"]),
        (["Tonsils keep swelling"], ["ent"]),
        (["Fever and cough since yesterday"], ["acute"]),
        (["Pain that comes back"], ["classical"]),  # "back" alone is not the back
        (["Feeling unwell"], ["classical"]),
        (["Asthma", "Acidity", "Anxiety", "Acne"], ["respiratory_allergy", "digestive", "mental_emotional"]),
        (["खुजली और त्वचा पर दाने"], ["dermatology"]),
        (["पेट में गैस", "घुटनों में दर्द"], ["digestive", "musculoskeletal"]),
    ],
)
def test_specializations_are_suggested_from_the_complaints(complaints, expected):
    case = {"chief_complaint": complaints[0], "complaints": [{"description": d} for d in complaints]}
    suggested = engine.suggest_specializations(case)
    assert suggested == expected
    assert all(slug in SPECIALIZATIONS for slug in suggested)


def test_a_complaint_of_years_is_chronic_not_acute():
    case = {"complaints": [{"description": "Cough", "duration": "5 years"}, {"description": "Eczema"}]}
    assert engine.suggest_specializations(case) == ["dermatology", "chronic"]
    case = {"complaints": [{"description": "Asthma since 10 saal"}]}
    assert engine.suggest_specializations(case) == ["respiratory_allergy", "chronic"]
    # An age is not a duration.
    assert engine.suggest_specializations({"chief_complaint": "My 5 year old has a fever"}) == ["paediatrics", "acute"]
    assert engine.suggest_specializations({}) == ["classical"]
    many = {"complaints": [{"description": d, "duration": "years"} for d in ("Asthma", "Acidity", "Anxiety")]}
    assert len(engine.suggest_specializations(many)) == 3
    assert engine.suggest_specializations(many)[-1] == "chronic"


def test_a_young_age_suggests_childrens_health():
    assert engine.suggest_specializations({"chief_complaint": "My 8-month-old cries at night"}) == ["paediatrics"]
    assert engine.suggest_specializations({"chief_complaint": "I am a 45 year old with acne"}) == ["dermatology"]


def test_the_summary_says_when_an_emergency_stopped_case_taking():
    case = {"chief_complaint": "chest pain", "intake": {"state": "emergency", "step": "location", "complaint": 0}}
    text = engine.summary(case, "emergency")
    assert "Triage: emergency" in text
    assert "stopped early because of an urgent symptom" in text
