"""The offline case-taking engine: what is asked next, and where each answer goes.

Pure and deterministic: functions over the case dict (the consultation's
`symptoms`, shape in consultations.schemas), no database, no clock, no model.
Every function copies the case it is given and returns a new one, valid
against schemas.SYMPTOMS whenever the input was.

The order is the homeopathic one: the chief complaint in the patient's own
words; for each complaint its location, sensation, onset, duration, severity,
modalities and concomitants; then the generals, the mind, the profile
(confirmed, not re-asked, when the profile already holds it) and the
histories. The engine records facts only; it never diagnoses, names a remedy
or gives a dose.

Where case-taking stands lives in case["intake"]: the state, the step whose
answer is awaited and the complaint it is about (see STEPS). A hand-edited or
unknown position restarts at the chief complaint without losing answers.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from doctors.schemas import SPECIALIZATIONS

MAX_COMPLAINTS = 3  # case-taking asks about at most this many complaints
MAX_PROMPT_CHARS = 600

SHORT_LIMIT = 300  # schemas._SHORT and a complaint's description
TEXT_LIMIT = 2000  # schemas._TEXT
LIST_LIMIT = 30  # schemas._WORDS maxItems

COMPLAINT_STEPS = (
    "location",
    "sensation",
    "onset",
    "duration",
    "severity",
    "modalities_better",
    "modalities_worse",
    "concomitants",
)
GENERAL_STEPS = ("appetite", "thirst", "cravings", "aversions", "sleep", "dreams", "thermal", "perspiration", "energy")
PROFILE_KEYS = ("allergies", "medications", "conditions")
STEPS = (
    "chief_complaint",
    *COMPLAINT_STEPS,
    "more_complaints",
    "another_complaint",
    *GENERAL_STEPS,
    "mentals",
    *(s for key in PROFILE_KEYS for s in (key, f"{key}_changed")),
    "past_history",
    "family_history",
    "done",
)
# Steps whose answer is about complaint case["intake"]["complaint"].
_COMPLAINT_SCOPED = frozenset((*COMPLAINT_STEPS, "more_complaints", "another_complaint"))

TAKING, PAUSED, DONE, EMERGENCY = "taking", "paused", "done", "emergency"

SKIP, PAUSE = "Skip", "Pause for now"
CONTINUE = "Continue"
CONFIRM_YES, CONFIRM_CHANGED = "Yes, that's right", "Something has changed"


@dataclass(frozen=True)
class ProfileFacts:
    """What the patient's profile already says (names only)."""

    allergies: tuple[str, ...] = ()
    medications: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Prompt:
    case: dict  # a new dict; the input case is never mutated
    text: str  # the assistant's next message: plain text, at most MAX_PROMPT_CHARS
    chips: tuple[str, ...]  # quick replies for typical answers; may be ()
    topic: str  # what is being asked, for a language model that rewords `text`
    state: str  # "taking", "paused" or "done" ("emergency" only if the case already is)


# --- Words the patient may answer with (compared after _norm) -------------------------------------------

PAUSE_WORDS = frozenset(
    {
        "pause",
        "pause for now",
        "pause now",
        "later",
        "continue later",
        "i'll continue later",
        "i will continue later",
        "not now",
        "stop",
        "stop for now",
        "break",
        "take a break",
        "baad mein",
        "baad me",
        "baad main",
        "bad mein",
        "baad mein karenge",
        "abhi nahi",
        "abhi nahin",
        "बाद में",
        "अभी नहीं",
    }
)
SKIP_WORDS = frozenset(
    {
        "skip",
        "skip it",
        "skip this",
        "next",
        "pass",
        "don't know",
        "dont know",
        "do not know",
        "i don't know",
        "i dont know",
        "idk",
        "no idea",
        "not sure",
        "can't say",
        "cant say",
        "pata nahi",
        "pata nahin",
        "pta nahi",
        "mujhe nahi pata",
        "malum nahi",
        "maloom nahi",
        "नहीं पता",
        "पता नहीं",
        "मालूम नहीं",
        "-",
        "--",
        "?",
        "n/a",
    }
)
YES_WORDS = frozenset(
    {
        "yes",
        "y",
        "yeah",
        "yep",
        "yup",
        "yes please",
        "sure",
        "ok",
        "okay",
        "correct",
        "right",
        "that's right",
        "thats right",
        "yes, that's right",
        "yes that's right",
        "yes, that is right",
        "still right",
        "ha",
        "haa",
        "haan",
        "han",
        "haanji",
        "haan ji",
        "ji",
        "ji haan",
        "ji ha",
        "sahi",
        "sahi hai",
        "theek hai",
        "thik hai",
        "हाँ",
        "हां",
        "हा",
        "जी",
        "जी हाँ",
        "जी हां",
        "सही",
        "सही है",
        "ठीक है",
    }
)
NO_WORDS = frozenset(
    {
        "no",
        "n",
        "nope",
        "nah",
        "no thanks",
        "no thank you",
        "not really",
        "no more",
        "nothing else",
        "that's all",
        "thats all",
        "that is all",
        "na",
        "nai",
        "nahi",
        "nahin",
        "nahi hai",
        "bas",
        "bas itna hi",
        "नहीं",
        "नही",
        "ना",
        "बस",
    }
)
# Answers meaning "none" to an "any ...?" question; recorded as "none".
NONE_WORDS = NO_WORDS | frozenset(
    {
        "none",
        "nothing",
        "nil",
        "no allergies",
        "no medicines",
        "kuch nahi",
        "kuchh nahi",
        "koi nahi",
        "कुछ नहीं",
        "कोई नहीं",
    }
)
CHANGED_WORDS = NO_WORDS | frozenset(
    {
        "something has changed",
        "something changed",
        "changed",
        "it has changed",
        "it's changed",
        "change",
        "not right",
        "not correct",
        "wrong",
        "badal gaya",
        "badla hai",
        "galat",
        "बदल गया",
        "गलत",
    }
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})


def _norm(text: str) -> str:
    """Lower case, one space between words, no punctuation at the ends ('?' alone stays '?')."""
    spaced = " ".join(unicodedata.normalize("NFC", text).translate(_APOSTROPHES).casefold().split())
    return spaced.strip(" .!?,;:\u0964") or spaced


def _clean(text: str, limit: int) -> str:
    """The patient's words as stored: no control characters, whitespace collapsed, cut to `limit`."""
    # Control characters (NUL above all: PostgreSQL's jsonb refuses it) and lone surrogates become spaces.
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)
    return " ".join(unicodedata.normalize("NFC", kept).split())[:limit].rstrip()


_LIST_SEPARATORS = re.compile(r"[,;\n\u0964]|\s&\s|\b(?:and|aur)\b|(?<!\S)और(?!\S)", re.IGNORECASE)


def _split_list(text: str) -> list[str]:
    """'sweets, salt and sour; ice' -> ['sweets', 'salt', 'sour', 'ice'] (deduplicated, in order)."""
    items: list[str] = []
    seen: set[str] = set()
    for part in _LIST_SEPARATORS.split(text):
        item = _clean(part, SHORT_LIMIT).strip(" .!")
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    return items[:LIST_LIMIT]


def _has_any(normed: str, words: Iterable[str]) -> int | None:
    """Position of the earliest of `words` in `normed` (whole words for Latin script), or None."""
    best = None
    for word in words:
        word = unicodedata.normalize("NFC", word)  # as _norm left the answer (nukta letters decompose)
        if word.isascii():
            match = re.search(rf"(?<![a-z0-9]){re.escape(word)}(?![a-z0-9])", normed)
            pos = match.start() if match else -1
        else:
            pos = normed.find(word)  # \b is unreliable inside Devanagari (vowel signs are not \w)
        if pos >= 0 and (best is None or pos < best):
            best = pos
    return best


# --- Severity and thermal state ----------------------------------------------------------------------

_SEVERE = ("severe", "very bad", "really bad", "unbearable", "terrible", "worst", "extreme", "very severe",
           "bahut", "bahut zyada", "bahut tez", "tez", "असहनीय", "बहुत", "तेज")  # fmt: skip
_MODERATE = ("moderate", "medium", "average", "so so", "so-so", "manageable", "bearable", "bad", "theek thaak",
             "thik thak", "madhyam", "मध्यम", "ठीक ठाक")  # fmt: skip
_MILD = ("mild", "slight", "slightly", "little", "a bit", "light", "not much", "halka", "halki", "thoda", "thodi",
         "हल्का", "हल्की", "थोड़ा", "थोड़ी")  # fmt: skip
_SCALE = re.compile(r"(\d{1,2})(?:\s*(?:/|out of)\s*10)?")


def severity_from(text: str) -> str | None:
    """'Severe', 'bahut zyada', '8/10' -> 'severe'; None when the answer does not say."""
    normed = _norm(text)
    scale = _SCALE.fullmatch(normed)
    if scale and int(scale.group(1)) <= 10:
        score = int(scale.group(1))
        return "mild" if score <= 3 else "moderate" if score <= 6 else "severe"
    # Stronger words first: "very bad" must not read as "bad".
    for level, words in (("severe", _SEVERE), ("moderate", _MODERATE), ("mild", _MILD)):
        if _has_any(normed, words) is not None:
            return level
    return None


_NEITHER = ("neither", "both", "no difference", "ambithermal", "dono", "na thand na garmi", "दोनों", "न ठंड न गर्मी")
_NEITHER_EXACT = frozenset({"normal", "same", "neither", "none"})
_CHILLY = ("chilly", "cold", "colder", "winter", "thand", "thandi", "thanda", "thund", "sardi", "ठंड", "ठण्ड",
           "ठंडी", "सर्दी")  # fmt: skip
_HOT = ("hot", "heat", "summer", "garmi", "garam", "गर्मी", "गरम")


def thermal_from(text: str) -> str | None:
    """'Chilly', 'thand lagti hai' -> 'chilly'; 'garmi' -> 'hot'; 'Neither' -> 'ambithermal'; else None.

    When both cold and heat are named, the first one named wins ("cold more than heat" -> chilly).
    """
    normed = _norm(text)
    if normed in _NEITHER_EXACT or _has_any(normed, _NEITHER) is not None:
        return "ambithermal"
    chilly, hot = _has_any(normed, _CHILLY), _has_any(normed, _HOT)
    if chilly is None and hot is None:
        return None
    if hot is None or (chilly is not None and chilly < hot):
        return "chilly"
    return "hot"


# --- The questions -----------------------------------------------------------------------------------

_FREE = (SKIP, PAUSE)

# step -> (question, chips, topic). Complaint, profile and chief-complaint questions are built in _question.
_QUESTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "location": (
        "Where exactly do you feel it? For example: right side of the head, lower back, whole body.",
        _FREE,
        "location: where the complaint is felt",
    ),
    "sensation": (
        "What does it feel like? For example: burning, throbbing, stitching, dull ache, itching.",
        ("Burning", "Throbbing", "Dull ache", "Itching", SKIP, PAUSE),
        "sensation: what the complaint feels like",
    ),
    "onset": (
        "When and how did it start? Anything that seemed to bring it on — a cold wind, grief, a fright, food?",
        _FREE,
        "onset: when and how it began, and what brought it on",
    ),
    "duration": (
        "How long have you had it? For example: 3 days, 2 months, 5 years.",
        ("A few days", "A few weeks", "Months", "Years", SKIP, PAUSE),
        "duration: how long the complaint has lasted",
    ),
    "severity": (
        "How bad is it?",
        ("Mild", "Moderate", "Severe", SKIP, PAUSE),
        "severity: mild, moderate or severe",
    ),
    "modalities_better": (
        "What makes it better? For example: rest, warmth, pressure, cold drinks, lying down. "
        "You can name several, with commas.",
        ("Nothing helps", SKIP, PAUSE),
        "modalities: what makes the complaint better",
    ),
    "modalities_worse": (
        "What makes it worse? For example: cold air, noise, morning, eating, moving.",
        _FREE,
        "modalities: what makes the complaint worse",
    ),
    "concomitants": (
        "Does anything else come with it? For example: nausea, sweating, thirst, a headache.",
        ("Nothing else", SKIP, PAUSE),
        "concomitants: other symptoms that come with the complaint",
    ),
    "more_complaints": (
        "Is there another complaint you'd like the doctor to know about?",
        ("Yes", "No", PAUSE),
        "whether the patient has another complaint (yes or no)",
    ),
    "another_complaint": (
        "Please tell me about it in your own words.",
        (PAUSE,),
        "the next complaint, in the patient's own words",
    ),
    "appetite": (
        "Now a few questions about you as a whole, not only the complaint. How is your appetite?",
        ("Good", "Low", "Always hungry", SKIP, PAUSE),
        "generals: appetite",
    ),
    "thirst": (
        "How thirsty are you usually?",
        ("Very thirsty", "Normal", "Hardly thirsty", SKIP, PAUSE),
        "generals: thirst",
    ),
    "cravings": (
        "Are there foods or drinks you really crave? For example: sweets, salt, spicy food, sour things.",
        ("Sweets", "Salty food", "Spicy food", "Nothing special", SKIP, PAUSE),
        "generals: food cravings",
    ),
    "aversions": (
        "Is there any food you dislike or cannot take? For example: milk, eggs, fatty food.",
        ("Milk", "Eggs", "Fatty food", "None", SKIP, PAUSE),
        "generals: food aversions",
    ),
    "sleep": (
        "How do you sleep? Any trouble falling asleep, waking at night, or a position you always sleep in?",
        ("I sleep well", "Trouble falling asleep", "I wake at night", SKIP, PAUSE),
        "generals: sleep",
    ),
    "dreams": (
        "Do you have any dreams that come again and again?",
        ("No dreams I remember", SKIP, PAUSE),
        "generals: dreams",
    ),
    "thermal": (
        "Do you feel the cold more, or the heat?",
        ("Chilly", "Hot", "Neither", SKIP, PAUSE),
        "generals: thermal state (chilly, hot or neither)",
    ),
    "perspiration": (
        "How much do you sweat, and where most? For example: head, palms, feet.",
        ("Very little", "Normal", "A lot", SKIP, PAUSE),
        "generals: perspiration",
    ),
    "energy": (
        "How is your energy through the day? Is any time of day worse?",
        ("Good", "Tired in the morning", "Tired in the evening", SKIP, PAUSE),
        "generals: energy through the day",
    ),
    "mentals": (
        "How have you been feeling in yourself — your mood, worries, temper, anything on your mind? "
        "Share as much or as little as you like.",
        _FREE,
        "mentals: mood and emotional state",
    ),
    "past_history": (
        "Any past serious illnesses, operations or hospital stays?",
        ("None", SKIP, PAUSE),
        "past history: serious illnesses, operations, hospital stays",
    ),
    "family_history": (
        "Any illnesses that run in your family? For example: diabetes, asthma, heart disease.",
        ("None", SKIP, PAUSE),
        "family history: illnesses that run in the family",
    ),
}

_PROFILE_WORDING = {
    # key -> (how the profile names it, the question when the profile is empty, topic)
    "allergies": (
        "allergies",
        "Do you have any allergies — to medicines, food, dust or anything else? If none, say none.",
        "allergies",
    ),
    "medications": (
        "medicines you take",
        "Do you take any medicines or supplements regularly? If none, say none.",
        "current medicines",
    ),
    "conditions": (
        "health conditions",
        "Do you have any long-term health conditions, like diabetes, thyroid or blood pressure? If none, say none.",
        "long-term health conditions",
    ),
}

_GREETING = (
    "Namaste! I will ask you some questions about your health, one at a time, so a homeopathic doctor "
    "can understand you well. I do not diagnose or prescribe. Answer in your own words; "
    "you can skip a question, or pause and come back later. "
)
_CHIEF_QUESTION = "In your own words, what is troubling you most?"
_DONE_TEXT = (
    "Thank you, that is everything I need. Your case is ready for a doctor. "
    "I do not diagnose or prescribe medicines; a homeopathic doctor will read your answers and advise you. "
    "You can now book a doctor with this case attached, using the button on this page."
)
_PAUSED_TEXT = (
    "No problem, we can stop here. Your answers so far are saved. "
    "When you are ready, come back to this chat and tap Continue. We will start from the same question."
)
_WELCOME_BACK = "Welcome back! Your earlier answers are saved. "
_RESTART_LEAD = "Let us start again from your main complaint. "
_EMERGENCY_TEXT = "Case-taking has stopped because of the urgent symptom you mentioned. Please get medical help now."


def _fit(text: str) -> str:
    return text if len(text) <= MAX_PROMPT_CHARS else text[: MAX_PROMPT_CHARS - 1].rstrip() + "…"


def _quote(text: str, limit: int) -> str:
    text = _clean(text, TEXT_LIMIT)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _facts(facts: ProfileFacts, key: str) -> list[str]:
    return [v for v in (_clean(str(x), SHORT_LIMIT) for x in getattr(facts, key) or ()) if v]


def _question(case: dict, step: str, index: int, facts: ProfileFacts) -> tuple[str, tuple[str, ...], str]:
    """The question awaiting an answer at (step, index): text, chips, topic."""
    if step == "chief_complaint":
        existing = case.get("chief_complaint")
        if isinstance(existing, str) and existing.strip():
            return (
                f"When you booked, you wrote: \u201c{_quote(existing, 200)}\u201d. Is that still what troubles you "
                "most? Tap Yes, or tell me in your own words.",
                (CONFIRM_YES, PAUSE),
                "chief complaint: confirm what the patient wrote earlier, or hear it in their own words",
            )
        return _CHIEF_QUESTION, (PAUSE,), "chief complaint in the patient's own words"
    if step == "done":
        return _DONE_TEXT, (), "case-taking finished; the patient can book a doctor with the case attached"
    if step in PROFILE_KEYS or step.endswith("_changed"):
        key = step.removesuffix("_changed")
        label, ask, topic = _PROFILE_WORDING[key]
        listed = _facts(facts, key)
        if step.endswith("_changed"):
            return f"What has changed? Please tell me your {label} now.", _FREE, f"profile: what changed in {topic}"
        if listed:
            return (
                f"Your profile lists {label}: {_quote(', '.join(listed), 300)}. Is that still right?",
                (CONFIRM_YES, CONFIRM_CHANGED, PAUSE),
                f"profile: confirm the {topic} on the patient's profile",
            )
        return ask, ("None", SKIP, PAUSE), f"profile: {topic}"
    text, chips, topic = _QUESTIONS[step]
    if step in COMPLAINT_STEPS:
        description = case["complaints"][index]["description"]
        topic = f"complaint {index + 1} ({_quote(description, 60)}), {topic}"
        if step == "location" and index > 0:
            text = f"Now about \u201c{_quote(description, 80)}\u201d. {text}"
    return text, chips, topic


# --- Position in the case ----------------------------------------------------------------------------


def _complaints(case: dict) -> list:
    complaints = case.get("complaints")
    return complaints if isinstance(complaints, list) else []


def _has_complaint(case: dict, index: int) -> bool:
    complaints = _complaints(case)
    return 0 <= index < len(complaints) and isinstance(complaints[index], dict) and "description" in complaints[index]


def _position(case: dict) -> tuple[str, int] | None:
    """(step, complaint index) from case["intake"], or None when it is missing or makes no sense."""
    intake = case.get("intake")
    if not isinstance(intake, dict):
        return None
    step, index = intake.get("step"), intake.get("complaint", 0)
    if step not in STEPS or type(index) is not int or not 0 <= index < MAX_COMPLAINTS:
        return None
    if step in COMPLAINT_STEPS or step == "more_complaints":
        return (step, index) if _has_complaint(case, index) else None
    if step == "another_complaint":
        return (step, index) if 1 <= index <= len(_complaints(case)) else None
    return step, 0


def _state(case: dict) -> str:
    intake = case.get("intake")
    state = intake.get("state") if isinstance(intake, dict) else None
    return state if state in (TAKING, PAUSED, DONE, EMERGENCY) else TAKING


def _set(case: dict, step: str, index: int, state: str) -> None:
    case["intake"] = {"state": state, "step": step, "complaint": index if step in _COMPLAINT_SCOPED else 0}


def _after_complaint(index: int) -> tuple[str, int]:
    return ("more_complaints", index) if index + 1 < MAX_COMPLAINTS else ("appetite", 0)


def _following(step: str, index: int, case: dict) -> tuple[str, int]:
    """The step after `step` in the homeopathic order (branching steps are decided in answer())."""
    if step in ("chief_complaint", "another_complaint"):
        return ("location", index) if _has_complaint(case, index) else ("appetite", 0)
    if step in COMPLAINT_STEPS:
        position = COMPLAINT_STEPS.index(step)
        if position + 1 < len(COMPLAINT_STEPS):
            return COMPLAINT_STEPS[position + 1], index
        return _after_complaint(index)
    if step == "more_complaints":
        return "appetite", 0
    order = [*GENERAL_STEPS, "mentals", *PROFILE_KEYS, "past_history", "family_history", "done"]
    key = step.removesuffix("_changed")
    return order[order.index(key) + 1], 0


def _prompt(case: dict, step: str, index: int, facts: ProfileFacts, *, state: str, lead: str = "") -> Prompt:
    if step == "done":
        state = DONE
    _set(case, step, index, state)
    text, chips, topic = _question(case, step, index, facts)
    if state == PAUSED:
        return Prompt(case=case, text=_PAUSED_TEXT, chips=(CONTINUE,), topic=f"paused at: {topic}", state=PAUSED)
    return Prompt(case=case, text=_fit(lead + text), chips=chips, topic=topic, state=state)


def _emergency(case: dict) -> Prompt:
    return Prompt(case=case, text=_EMERGENCY_TEXT, chips=(), topic="case-taking stopped: emergency", state=EMERGENCY)


# --- Recording answers -------------------------------------------------------------------------------

_TEXT_FIELDS = {
    # step -> (where in the case, limit)
    **{step: ("complaint", SHORT_LIMIT) for step in ("location", "sensation", "onset", "duration")},
    **{step: ("generals", SHORT_LIMIT) for step in ("appetite", "thirst", "sleep", "dreams", "perspiration", "energy")},
    "mentals": ("case", TEXT_LIMIT),
    "past_history": ("case", TEXT_LIMIT),
    "family_history": ("case", TEXT_LIMIT),
}
_LIST_FIELDS = {"modalities_better", "modalities_worse", "concomitants", "cravings", "aversions"}
# "Any ...?" questions: a plain "no" is recorded as "none".
_NONE_OK = {"concomitants", "cravings", "aversions", "past_history", "family_history"}


def _generals(case: dict) -> dict:
    if not isinstance(case.get("generals"), dict):
        case["generals"] = {}
    return case["generals"]


def _record(case: dict, step: str, index: int, text: str) -> None:
    """Store a (not skipped, not empty) answer to a plain question."""
    none = step in _NONE_OK and _norm(text) in NONE_WORDS
    if step in _LIST_FIELDS:
        items = ["none"] if none else _split_list(text)
        if not items:
            return
        if step.startswith("modalities_"):
            complaint = case["complaints"][index]
            if not isinstance(complaint.get("modalities"), dict):
                complaint["modalities"] = {}
            complaint["modalities"][step.removeprefix("modalities_")] = items
        elif step == "concomitants":
            case["complaints"][index]["concomitants"] = items
        else:
            _generals(case)[step] = items
        return
    if step == "severity":
        level = severity_from(text)
        if level:
            case["complaints"][index]["severity"] = level
        return
    if step == "thermal":
        thermal = thermal_from(text)
        if thermal:
            _generals(case)["thermal"] = thermal
        return
    where, limit = _TEXT_FIELDS[step]
    value = "none" if none else _clean(text, limit)
    if where == "complaint":
        case["complaints"][index][step] = value
    elif where == "generals":
        _generals(case)[step] = value
    else:
        case[step] = value


def _record_chief(case: dict, text: str | None) -> None:
    """The chief complaint; None keeps what the case already holds (a confirmed or skipped prefill)."""
    complaints = _complaints(case)
    if text is None:
        existing = case.get("chief_complaint")
        if not (isinstance(existing, str) and _clean(existing, SHORT_LIMIT)) or _has_complaint(case, 0):
            return
        text = existing
    else:
        case["chief_complaint"] = _clean(text, TEXT_LIMIT)
    description = _clean(text, SHORT_LIMIT)
    if _has_complaint(case, 0):
        # The booking form's complaint is the same trouble in fewer words: keep its details, which are
        # asked again below and kept when the patient skips.
        complaints[0]["description"] = description
    else:
        case["complaints"] = [{"description": description}, *complaints[1:]]


def _record_new_complaint(case: dict, index: int, text: str) -> None:
    complaint = {"description": _clean(text, SHORT_LIMIT)}
    complaints = _complaints(case)
    if index < len(complaints):
        complaints[index] = complaint  # a fresh complaint: nothing of an older one at this place is mixed in
    else:
        case["complaints"] = [*complaints, complaint]


_NO_FIRST = frozenset({"no", "nope", "nah", "nahi", "nahin", "nai", "nothing", "none", "bas", "नहीं", "नही", "ना", "बस"})
_YES_FIRST = frozenset({"yes", "yeah", "yep", "haan", "han", "ha", "ji", "हाँ", "हां", "जी"})
_YES_FILLERS = frozenset(
    {"", "there", "is", "hai", "please", "ji", "one", "more", "another", "i", "have", "do", "ek", "aur"}
)
_DONE_PHRASES = frozenset({"that's it", "thats it", "that is it", "no other", "nothing more", "kuch aur nahi"})


def _yes_no(normed: str) -> str | None:
    """'yes' / 'no' for a yes-or-no question, None when the answer says something else.

    "No, that's it" is a no; "yes there is" a yes; "yes, back pain" is neither: it names the thing.
    """
    if normed in YES_WORDS:
        return "yes"
    if normed in NONE_WORDS or normed in _DONE_PHRASES:
        return "no"
    words = re.split(r"[\s,.;:!]+", normed)
    if words[0] in _NO_FIRST:
        return "no"
    if words[0] in _YES_FIRST and all(w in _YES_FILLERS for w in words[1:]):
        return "yes"
    return None


_LEADING_YES = re.compile(r"^(?:yes|yeah|haan|han|ha|ji|हाँ|हां)(?=[\s,.:;!-])[\s,.:;!-]*", re.IGNORECASE)


# --- The interface -----------------------------------------------------------------------------------


def start(case: dict, facts: ProfileFacts) -> Prompt:
    """Greet and ask for the chief complaint. A chief complaint already in the case (from the booking form)
    is quoted back for the patient to confirm or restate; other answers in the case are kept."""
    case = copy.deepcopy(case)
    case["source"] = "ai_intake"
    return _prompt(case, "chief_complaint", 0, facts, state=TAKING, lead=_GREETING)


def current(case: dict, facts: ProfileFacts) -> Prompt:
    """The pending question again (the paused message when paused). The case is unchanged, unless its
    position was unknown: then it is set back to the chief complaint."""
    case = copy.deepcopy(case)
    state = _state(case)
    if state == EMERGENCY:
        return _emergency(case)
    if state == DONE:
        return _prompt(case, "done", 0, facts, state=DONE)
    position = _position(case)
    if position is None:
        return _prompt(case, "chief_complaint", 0, facts, state=state)
    return _prompt(case, *position, facts, state=state)


def resume(case: dict, facts: ProfileFacts) -> Prompt:
    """Back to taking after a pause: the pending question again, after a short welcome. A finished
    case stays finished; a case never started is started."""
    case = copy.deepcopy(case)
    if _state(case) == EMERGENCY:
        return _emergency(case)
    if not isinstance(case.get("intake"), dict):
        return start(case, facts)
    if _state(case) == DONE:
        return _prompt(case, "done", 0, facts, state=DONE)
    step, index = _position(case) or ("chief_complaint", 0)
    return _prompt(case, step, index, facts, state=TAKING, lead=_WELCOME_BACK)


def answer(case: dict, text: str, facts: ProfileFacts) -> Prompt:
    """Record `text` as the answer to the pending step and ask the next question.

    A pause word pauses; a skip word records nothing and moves on; an empty answer re-asks. While paused,
    any message resumes (re-asking the pending question, recording nothing: the patient may not remember
    what was asked). A finished case is left as it is.
    """
    case = copy.deepcopy(case)
    state = _state(case)
    if state == EMERGENCY:
        return _emergency(case)
    position = _position(case)
    if position is None:
        return _prompt(case, "chief_complaint", 0, facts, state=TAKING, lead=_RESTART_LEAD)
    step, index = position
    if step == "done" or state == DONE:
        return _prompt(case, "done", 0, facts, state=DONE)
    normed = _norm(text or "")
    if state == PAUSED:
        if normed in PAUSE_WORDS:
            return _prompt(case, step, index, facts, state=PAUSED)
        return _prompt(case, step, index, facts, state=TAKING, lead=_WELCOME_BACK)
    if normed in PAUSE_WORDS:
        return _prompt(case, step, index, facts, state=PAUSED)
    if not _clean(text or "", TEXT_LIMIT):
        return _prompt(case, step, index, facts, state=TAKING)
    skipped = normed in SKIP_WORDS

    if step == "chief_complaint":
        prefilled = isinstance(case.get("chief_complaint"), str) and bool(_clean(case["chief_complaint"], SHORT_LIMIT))
        if normed in YES_WORDS and not prefilled:
            return _prompt(case, step, 0, facts, state=TAKING)  # "yes" names no complaint: ask again
        _record_chief(case, None if skipped or normed in YES_WORDS else text)
        return _prompt(case, *_following(step, 0, case), facts, state=TAKING)

    if step == "more_complaints":
        reply = _yes_no(normed)
        if skipped or reply == "no" or index + 1 >= MAX_COMPLAINTS:
            return _prompt(case, "appetite", 0, facts, state=TAKING)
        if reply == "yes":
            return _prompt(case, "another_complaint", index + 1, facts, state=TAKING)
        # "Yes, also back pain" / "back pain too": the answer already describes the next complaint.
        described = _LEADING_YES.sub("", _clean(text, TEXT_LIMIT)) or text
        _record_new_complaint(case, index + 1, described)
        return _prompt(case, "location", index + 1, facts, state=TAKING)

    if step == "another_complaint":
        if not skipped:
            _record_new_complaint(case, index, text)
        return _prompt(case, *_following(step, index, case), facts, state=TAKING)

    if step in PROFILE_KEYS or step.endswith("_changed"):
        return _answer_profile(case, step, text, normed, skipped, facts)

    if not skipped:
        _record(case, step, index, text)
    return _prompt(case, *_following(step, index, case), facts, state=TAKING)


def _answer_profile(case: dict, step: str, text: str, normed: str, skipped: bool, facts: ProfileFacts) -> Prompt:
    """At most two turns per item: confirm (or ask), then, only after a bare "changed", what changed."""
    key = step.removesuffix("_changed")
    following = _following(step, 0, case)
    if skipped:
        return _prompt(case, *following, facts, state=TAKING)
    listed = _facts(facts, key)
    as_listed = _clean(", ".join(listed), TEXT_LIMIT)
    if step.endswith("_changed"):
        # "Nothing" after "something has changed" means the profile was right after all.
        unchanged = bool(listed) and normed in NONE_WORDS | YES_WORDS
        _confirm(case, key, as_listed if unchanged else text)
    elif not listed:
        _confirm(case, key, "none" if normed in NONE_WORDS else text)
    elif normed in YES_WORDS:
        _confirm(case, key, as_listed)
    elif normed in CHANGED_WORDS:
        return _prompt(case, f"{key}_changed", 0, facts, state=TAKING)
    else:
        _confirm(case, key, text)  # free text is the correction itself, in the patient's words
    return _prompt(case, *following, facts, state=TAKING)


def _confirm(case: dict, key: str, value: str) -> None:
    if not isinstance(case.get("profile_confirmed"), dict):
        case["profile_confirmed"] = {}
    case["profile_confirmed"][key] = _clean(value, TEXT_LIMIT)


# --- For the doctor ----------------------------------------------------------------------------------

_COMPLAINT_LABELS = (
    ("location", "Location"),
    ("sensation", "Sensation"),
    ("onset", "Onset"),
    ("duration", "Duration"),
    ("severity", "Severity"),
)
_GENERAL_LABELS = (
    ("appetite", "Appetite"),
    ("thirst", "Thirst"),
    ("cravings", "Cravings"),
    ("aversions", "Aversions"),
    ("sleep", "Sleep"),
    ("dreams", "Dreams"),
    ("thermal", "Thermal"),
    ("perspiration", "Perspiration"),
    ("energy", "Energy"),
)
_THERMAL_LABELS = {"chilly": "chilly (feels the cold)", "hot": "hot (feels the heat)", "ambithermal": "neither"}


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if str(v).strip())
    return str(value).strip() if isinstance(value, str | int | float) else ""


def summary(case: dict, triage_level: str) -> str:
    """A plain-text summary of the case for the doctor: labelled sections, only what was answered."""
    lines = ["Case summary (taken by the AI intake assistant; not a diagnosis)"]
    lines.append(f"Triage: {triage_level.strip() or 'not assessed'}")
    triage = case.get("triage")
    if isinstance(triage, dict) and _shown(triage.get("rules")):
        lines.append(f"Red flags noted: {_shown(triage['rules'])}")
    intake = case.get("intake")
    if isinstance(intake, dict) and intake.get("state") in (TAKING, PAUSED) and _position(case):
        topic = _question(case, *_position(case), ProfileFacts())[2]
        lines.append(f"Note: case-taking was not finished (stopped at {topic}).")
    elif isinstance(intake, dict) and intake.get("state") == EMERGENCY:
        lines.append("Note: case-taking stopped early because of an urgent symptom.")

    def section(title: str, rows: list[tuple[str, Any]]) -> None:
        shown = [(label, _shown(value)) for label, value in rows]
        shown = [(label, value) for label, value in shown if value]
        if shown:
            lines.append("")
            lines.append(title)
            lines.extend(f"  {label}: {value}" if label else f"  {value}" for label, value in shown)

    section("Chief complaint", [("", case.get("chief_complaint"))])
    for number, complaint in enumerate(_complaints(case), start=1):
        if not isinstance(complaint, dict):
            continue
        modalities = complaint.get("modalities") if isinstance(complaint.get("modalities"), dict) else {}
        section(
            f"Complaint {number}: {_shown(complaint.get('description'))}",
            [(label, complaint.get(key)) for key, label in _COMPLAINT_LABELS]
            + [
                ("Better from", modalities.get("better")),
                ("Worse from", modalities.get("worse")),
                ("Along with", complaint.get("concomitants")),
            ],
        )
    generals = case.get("generals") if isinstance(case.get("generals"), dict) else {}
    section(
        "Generals",
        [
            (label, _THERMAL_LABELS.get(generals.get(key), "") if key == "thermal" else generals.get(key))
            for key, label in _GENERAL_LABELS
        ],
    )
    section("Mind and emotions", [("", case.get("mentals"))])
    confirmed = case.get("profile_confirmed") if isinstance(case.get("profile_confirmed"), dict) else {}
    section(
        "Profile, as confirmed by the patient",
        [("Allergies", confirmed.get("allergies")), ("Medicines", confirmed.get("medications")),
         ("Conditions", confirmed.get("conditions"))],
    )  # fmt: skip
    section("Past history", [("", case.get("past_history"))])
    section("Family history", [("", case.get("family_history"))])
    suggested = case.get("suggested_specializations")
    if isinstance(suggested, list):
        labels = [SPECIALIZATIONS[s] for s in suggested if s in SPECIALIZATIONS]
        section("Suggested specialisations", [("", labels)])
    return "\n".join(lines)


# Organ-system keywords, English, romanised Hindi (whole words) and Devanagari (substrings).
_SPECIALTY_WORDS: dict[str, tuple[str, ...]] = {
    "dermatology": ("skin", "eczema", "acne", "pimple", "pimples", "rash", "rashes", "itch", "itching", "itchy",
                    "psoriasis", "hair", "hair fall", "hairfall", "dandruff", "wart", "warts", "urticaria", "hives",
                    "vitiligo", "ringworm", "fungal", "khujli", "daad", "baal", "त्वचा", "खुजली", "मुंहासे", "बाल"),
    "digestive": ("acidity", "acid", "reflux", "gas", "bloating", "constipation", "ibs", "indigestion", "diarrhoea",
                  "diarrhea", "loose motion", "loose motions", "stomach", "abdomen", "abdominal", "piles", "gastritis",
                  "heartburn", "kabz", "kabj", "कब्ज", "पेट", "एसिडिटी", "गैस"),
    "respiratory_allergy": ("asthma", "sinus", "sinusitis", "allergy", "allergies", "allergic", "sneeze", "sneezing",
                            "wheeze", "wheezing", "breathless", "breathlessness", "rhinitis", "hay fever", "dama",
                            "दमा", "छींक", "एलर्जी", "साइनस"),
    "mental_emotional": ("anxiety", "anxious", "sleep", "sleepless", "insomnia", "stress", "stressed", "depression",
                         "depressed", "panic", "fear", "fears", "worry", "worries", "tension", "low mood", "neend",
                         "nind", "ghabrahat", "नींद", "चिंता", "तनाव", "घबराहट", "डर"),
    "musculoskeletal": ("joint", "joints", "backache", "back ache", "back pain", "lower back",
                        "upper back", "knee", "knees", "arthritis", "spondylitis",
                        "spondylosis", "sciatica", "shoulder", "neck", "gout", "kamar", "ghutna", "ghutne",
                        "जोड़", "घुटन", "कमर"),
    "womens_health": ("pcos", "pcod", "period", "periods", "menstrual", "menses", "menopause", "leucorrhoea",
                      "white discharge", "masik", "माहवारी", "पीरियड", "मासिक"),
    "endocrine": ("thyroid", "hypothyroid", "hypothyroidism", "hyperthyroid", "diabetes", "diabetic", "sugar",
                  "थायराइड", "शुगर", "मधुमेह"),
    "paediatrics": ("child", "children", "baby", "babies", "infant", "toddler", "kid", "kids", "my son",
                    "my daughter", "teething", "bachcha", "bacha", "bachche", "बच्चा", "बच्चे", "बच्ची", "शिशु"),
    "ent": ("ear", "ears", "earache", "throat", "tonsil", "tonsils", "tonsillitis", "hearing", "tinnitus",
            "कान", "गला", "गले"),
    "acute": ("fever", "cold", "cough", "flu", "viral", "bukhar", "khansi", "zukam", "jukam", "बुखार", "खांसी",
              "जुकाम"),
}  # fmt: skip
_LONG_STANDING = re.compile(r"(?<![a-z])(?:years?|yrs?|saal|varsh|chronic|recurring|since childhood)(?![a-z])")
_LONG_STANDING_HI = ("साल", "वर्ष")
# "my 5 year old", "a 6-month-old": a child when 12 years or younger, any number of months.
_YOUNG = re.compile(r"(?:(\d{1,2})\s*-?\s*(?:years?|yrs?)|\d{1,2}\s*-?\s*months?)\s*-?\s*old")
_AGE = re.compile(r"\d+\s*-?\s*(?:years?|yrs?)\s*-?\s*old|\d+\s*(?:saal|sal)\s*(?:ka|ki|ke)\b")


def suggest_specializations(case: dict) -> list[str]:
    """1-3 slugs of doctors.schemas.SPECIALIZATIONS from keywords in the complaints; ["classical"] if none.

    Organ systems come in the order the patient first mentions them; a complaint of years adds "chronic"
    (and then "acute" is not suggested).
    """
    texts = [case.get("chief_complaint")]
    durations = []
    for complaint in _complaints(case):
        if isinstance(complaint, dict):
            texts += [complaint.get("description"), complaint.get("location")]
            durations.append(complaint.get("duration"))
    text = _norm(" . ".join(t for t in texts if isinstance(t, str)))
    found = sorted(
        (position, order, slug)
        for order, (slug, words) in enumerate(_SPECIALTY_WORDS.items())
        if (position := _has_any(text, words)) is not None
    )
    young = _YOUNG.search(text)
    if young and (young.group(1) is None or int(young.group(1)) <= 12):
        found = sorted([*found, (young.start(), 0, "paediatrics")])
    slugs = list(dict.fromkeys(slug for _, _, slug in found))
    long_text = _norm(" . ".join(d for d in durations if isinstance(d, str))) + " . " + text
    long_text = _AGE.sub(" ", long_text)  # "my 5 year old" is an age, not a duration
    if _LONG_STANDING.search(long_text) or any(w in long_text for w in _LONG_STANDING_HI):
        slugs = [s for s in slugs if s != "acute"][:2] + ["chronic"]
    return slugs[:3] or ["classical"]
