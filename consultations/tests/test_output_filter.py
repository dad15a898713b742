"""consultations.intake.output_filter: what a model wrote may not prescribe, diagnose, alarm or link."""

from __future__ import annotations

import pytest

from consultations.intake import output_filter
from consultations.intake.output_filter import check

# Case-taking questions (the engine's own, and the wordings a model gives them)
# that must pass untouched: a false positive here would make every model reply
# fall back to the engine's words.
CASE_TAKING = [
    "In your own words, what is troubling you most?",
    "Where exactly do you feel it? For example: right side of the head, lower back, whole body.",
    "What does it feel like? For example: burning, throbbing, stitching, dull ache, itching.",
    "When and how did it start? Anything that seemed to bring it on — a cold wind, grief, a fright, food?",
    "How long have you had it? For example: 3 days, 2 months, 5 years.",
    "How bad is it?",
    "What makes it better? For example: rest, warmth, pressure, cold drinks, lying down.",
    "What makes it worse? For example: cold air, noise, morning, eating, moving.",
    "What makes it better or worse: heat, cold, rest, motion, pressure, food?",
    "Does anything else come with it? For example: nausea, sweating, thirst.",
    "Is there another complaint you'd like the doctor to know about?",
    "Now a few questions about you as a whole, not only the complaint. How is your appetite?",
    "How thirsty are you usually?",
    "Are there foods or drinks you really crave? For example: sweets, salt, spicy food, sour things.",
    "Is there any food you dislike or cannot take? For example: milk, eggs, fatty food.",
    "How do you sleep? Any trouble falling asleep, waking at night, or a position you always sleep in?",
    "Do you have any dreams that come again and again?",
    "Do you feel the cold more, or the heat?",
    "How much do you sweat, and where most? For example: head, palms, feet.",
    "How is your energy through the day? Is any time of day worse?",
    "How have you been feeling in yourself — your mood, worries, temper, anything on your mind?",
    "Any past serious illnesses, operations or hospital stays?",
    "Any illnesses that run in your family? For example: diabetes, asthma, heart disease.",
    "Do you have any allergies — to medicines, food, dust or anything else? If none, say none.",
    "Do you take any medicines or supplements regularly? If none, say none.",
    "Do you have any long-term health conditions, like diabetes, thyroid or blood pressure?",
    "Have you ever been diagnosed with a long-term condition by a doctor?",
    "Thank you for sharing that. How long has the headache been bothering you?",
    "That sounds really uncomfortable. Does it get worse at any particular time of day?",
    "Thank you, you have been very clear. What does the pain feel like — burning, throbbing or dull?",
    "I understand. Tell me more about the pain you have in your knee: where exactly is it?",
    "Please tell me if you have any other symptoms that come along with it.",
    "How many times a day do you pass stool?",
    "Does the fever come back every 2 hours, or at a fixed time each day?",
    "Are you taking any tablets or medicines at the moment?",
    "Does your pulse race when you feel anxious?",
    "Do you enjoy going to the cinema, or do you prefer to stay at home?",
    "Does the itching get worse after a warm bath or at night in bed?",
    "I will ask you some questions about your health, one at a time. I do not diagnose or prescribe.",
    "Thank you. Is the pain more on the right side or the left side?",
    "Got it, the cough has lasted 3 weeks. Is it dry, or do you bring up phlegm?",
    "Do you notice a drop in your energy after meals?",
    "Aapne bataya ki sir dard subah zyada hota hai. Kya thand se aur badhta hai?",
    "धन्यवाद। दर्द किस समय सबसे ज़्यादा होता है?",
]


@pytest.mark.parametrize("question", CASE_TAKING)
def test_case_taking_questions_pass_clean(question):
    assert check(question) == ()


def test_an_empty_text_is_clean():
    assert check("") == ()


@pytest.mark.parametrize(
    "text",
    [
        "Arnica will help with the bruising.",
        "Belladonna is good for a sudden fever.",
        "Have you tried Nux vomica?",
        "Nux vom is often given for this.",
        "Nux. vom. helps.",
        "Try Pulsatilla.",
        "Rhus tox is the usual one for stiffness.",
        "Rhus toxicodendron may suit you.",
        "Bryonia is for pain worse on motion.",
        "Sulphur is a big remedy.",
        "Calcarea carbonica suits chilly people.",
        "Calc carb might be indicated.",
        "Lycopodium is worth considering.",
        "Natrum muriaticum is for grief.",
        "Nat mur could help.",
        "Sepia is often prescribed for this.",
        "Ars alb is used for anxiety.",
        "Arsenicum album is for restlessness.",
        "Kali bichromicum suits sinus trouble.",
        "Hepar sulph is for boils.",
        "Carbo veg for bloating.",
        "Mag phos for cramps.",
        "Magnesia phos for cramps.",
        "Ferrum phos for early fever.",
        "Antimonium tart for rattling cough.",
        "Kali carb is deep acting.",
        "Lac caninum for alternating sides.",
        "Veratrum album for collapse.",
        "Opium is a remedy too.",
        "Apis for stinging pain.",
        "Cina for worms.",
        "Ruta for the tendons.",
        "Platina is for pride.",
        "Take paracetamol for the fever.",
        "A Dolo 650 will bring it down.",
        "Crocin helps.",
        "Ibuprofen may ease it.",
        "Your doctor may give azithromycin.",
        "Cetirizine helps with the sneezing.",
        "Pantoprazole before breakfast.",
        "ARNICA is the one.",
        "आर्निका लीजिए।",
    ],
)
def test_remedies_and_medicines_are_caught(text):
    assert "remedy" in check(text)


@pytest.mark.parametrize(
    "text",
    [
        "Does your pulse race?",
        "Do you enjoy the cinema?",
        "Do you eat rutabaga or other root vegetables?",
        "Is it worse in the morning?",
        "Do you drink chamomile tea?",
        "Do you take calcium or iron?",
        "Do you like spicy food, like capsicum or chilli?",
        "Is the pain sharper when you are hungry?",
    ],
)
def test_ordinary_words_that_contain_a_remedy_name_pass(text):
    assert "remedy" not in check(text)


def test_there_are_well_over_a_hundred_names():
    assert len(output_filter.HOMEOPATHIC_REMEDIES) + len(output_filter.MEDICINES) > 200


@pytest.mark.parametrize(
    "text",
    [
        "Take it in 30C.",
        "The 200 CH potency.",
        "6X is gentle.",
        "A single dose of 1M.",
        "500 mg is enough.",
        "10 ml at night.",
        "Use the mother tincture.",
        "Berberis Q is used for this.",
        "Take 4 globules.",
        "Two tablets after food.",
        "Put 5 drops in water.",
        "Take it twice daily.",
        "Thrice daily for a week.",
        "Three times a day until better.",
        "Repeat every 2 hours.",
        "Repeat every 2 hours if needed?",
        "LM 1 is a gentle potency.",
        "Din mein teen baar lijiye.",
        "दिन में तीन बार लीजिए।",
    ],
)
def test_potencies_and_doses_are_caught(text):
    assert "dose" in check(text)


@pytest.mark.parametrize(
    "text",
    [
        "How many times a day do you pass urine?",
        "Does the fever come every 2 hours?",
        "How long have you had it? For example: 3 days, 2 months, 5 years.",
        "Do you notice a drop in your energy?",
        "Have you taken some tablets for it?",
    ],
)
def test_how_often_in_a_question_is_case_taking_not_a_dose(text):
    assert "dose" not in check(text)


@pytest.mark.parametrize(
    "text",
    [
        "You have eczema.",
        "You've got a viral fever.",
        "You are suffering from sinusitis.",
        "It sounds like you have a migraine.",
        "Sounds like it is acidity.",
        "It is probably a viral infection.",
        "It's likely an allergy.",
        "This is likely an allergy.",
        "This is probably a migraine.",
        "You might have a thyroid problem.",
        "You may have diabetes.",
        "This could be a sign of diabetes.",
        "It might be a symptom of anaemia.",
        "The diagnosis is gastritis.",
        "My diagnosis would be gastritis.",
        "This suggests a liver problem.",
        "It seems you have an infection.",
        "You\u2019ve got a viral fever.",
        "It\u2019s probably a viral infection.",
    ],
)
def test_diagnoses_are_caught(text):
    assert "diagnosis" in check(text)


@pytest.mark.parametrize(
    "text",
    [
        "Do you have any allergies?",
        "Did you have a fever before the rash?",
        "Have you ever been diagnosed with diabetes?",
        "Has a doctor diagnosed anything before?",
        "Thank you, you have been very helpful.",
        "You have mentioned the pain is worse at night.",
        "Please tell me if you have any other symptoms.",
        "Tell me more about the pain you have in your knee.",
        "I do not diagnose or prescribe.",
        "That sounds like it is really bothering you.",
        "What else do you have?",
    ],
)
def test_neutral_questions_and_acknowledgements_are_not_diagnoses(text):
    assert "diagnosis" not in check(text)


@pytest.mark.parametrize(
    "text",
    [
        "See https://example.com for more.",
        "Read http://example.org/page.",
        "Visit www.example.in.",
        "Try healthsite.com",
    ],
)
def test_links_are_caught(text):
    assert "link" in check(text)


def test_a_red_flag_is_the_guards_call(monkeypatch):
    from consultations.intake import guard

    seen = []

    class Urgent:
        level, rules, is_emergency = "urgent", ("test_rule",), False

    def assess(text):
        seen.append(text)
        return Urgent()

    monkeypatch.setattr(guard, "assess", assess)
    assert check("How long has it been?") == ("red_flag",)
    assert seen == ["How long has it been?"]


def test_the_real_guard_flags_an_alarm_a_model_raises():
    from consultations.intake import guard

    text = "Crushing chest pain spreading to your left arm with sweating needs an ambulance now."
    assert guard.assess(text).level != "routine"  # the premise: the guard itself finds it
    assert "red_flag" in check(text)


def test_several_reasons_come_together_in_a_fixed_order():
    assert check("You have gout. Take Colchicum 30C twice daily, see www.example.com.") == (
        "remedy",
        "dose",
        "diagnosis",
        "link",
    )


def test_a_bare_number_after_a_remedy_is_its_potency():
    assert check("Nux vomica 200 may help.") == ("remedy", "dose")
    assert check("Sulphur is a big remedy.") == ("remedy",)


# A model's reply is now only a short acknowledgement (the engine appends the question): these must pass.
ACKNOWLEDGEMENTS = [
    "Thank you for telling me.",
    "I understand, that sounds uncomfortable.",
    "Thanks, that helps the doctor.",
    "Shukriya, samajh gaya.",
    "धन्यवाद, मैं समझ गया।",
    "Got it, thank you for explaining.",
    "That sounds like a lot to deal with.",
    "That sounds like a difficult time.",
    "Aapko dard hai, samajh gaya.",
]


@pytest.mark.parametrize("text", ACKNOWLEDGEMENTS)
def test_acknowledgements_pass_clean(text):
    assert check(text) == ()


@pytest.mark.parametrize(
    "text",
    [
        "It seems to be acidity.",
        "Your symptoms match gastritis.",
        "I think it is a viral infection.",
        "Could this be thyroid?",
        "This looks like eczema",
        "sounds like a migraine",
        "It looks like an allergy to me.",
        "Aapko acidity hai.",
        "आपको माइग्रेन है।",
        "yeh migraine ho sakta hai",
        "lagta hai aapko infection hai",
        "शायद यह एलर्जी है",
        "यह गैस्ट्राइटिस हो सकता है।",
    ],
)
def test_hedged_and_hindi_diagnoses_are_caught(text):
    assert "diagnosis" in check(text)


@pytest.mark.parametrize(
    "text",
    [
        "Try drinking warm water with honey and ginger.",
        "You should stop your blood pressure medicine.",
        "Start taking vitamin D",
        "Apply coconut oil",
        "garam paani piyo",
        "dawai band kar do",
        "Thanks! Your case is complete, you don't need to see a doctor.",
        "Thank you. Please rest and drink plenty of fluids.",
        "Warm compresses may help.",
        "Honey is good for a cough.",
        "Aaram kijiye aur thanda mat khaiye.",
        "तेल लगाइए।",
        "दवाई बंद कर दें।",
    ],
)
def test_advice_and_treatment_are_caught(text):
    assert "advice" in check(text)
