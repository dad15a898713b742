"""Documented shape of `consultations.symptoms` (JSON Schema 2020-12).

A structured homeopathic case, filled by the patient at booking, by the AI
intake assistant, or by the doctor. Every key is optional; unknown top-level
keys are refused so a typo cannot hide data.

    {
      "chief_complaint": "Headache for three weeks",
      "complaints": [{
        "description": "Headache", "location": "right temple", "sensation": "throbbing",
        "onset": "after a fright", "duration": "3 weeks", "severity": "moderate",
        "modalities": {"better": ["pressure", "dark room"], "worse": ["sun", "noise"]},
        "concomitants": ["nausea"]
      }],
      "generals": {"appetite": "low", "thirst": "thirstless", "cravings": ["sweets"],
                   "aversions": ["milk"], "sleep": "wakes at 3 am", "dreams": "falling",
                   "thermal": "chilly", "perspiration": "scalp", "energy": "low in the morning"},
      "mentals": "irritable, wants company",
      "past_history": "typhoid 2010",
      "family_history": "father: diabetes",
      "source": "patient",
      "profile_confirmed": {"allergies": "penicillin", "medications": "", "conditions": "asthma"},
      "triage": {"level": "routine", "rules": []},
      "suggested_specializations": ["digestive", "chronic"],
      "intake": {"state": "taking", "step": "location", "complaint": 0}
    }

The last four are written by the AI intake assistant (consultations.intake):
what the patient confirmed or corrected of their profile, the guard's
verdict (level and the rules that fired), the specialisations suggested for
the hand-off, and where case-taking stands (state: taking, paused, done,
emergency; the step whose answer is awaited; which complaint it is about;
the id of the last patient message already recorded, so a retried or
concurrent reply never records a message twice; while a reply is being
worded, when it started, so replies to one intake run one at a time).
"""

from __future__ import annotations

SEVERITIES = ["mild", "moderate", "severe"]
SOURCES = ["patient", "ai_intake", "doctor"]
THERMALS = ["chilly", "hot", "ambithermal"]
TRIAGE_LEVELS = ["emergency", "urgent", "routine"]
INTAKE_STATES = ["taking", "paused", "done", "emergency"]

_TEXT = {"type": "string", "maxLength": 2000}
_SHORT = {"type": "string", "maxLength": 300}
_WORDS = {"type": "array", "items": _SHORT, "maxItems": 30}

SYMPTOMS = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "chief_complaint": _TEXT,
        "complaints": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["description"],
                "additionalProperties": False,
                "properties": {
                    "description": {"type": "string", "minLength": 1, "maxLength": 300},
                    "location": _SHORT,
                    "sensation": _SHORT,
                    "onset": _SHORT,
                    "duration": _SHORT,
                    "severity": {"enum": SEVERITIES, "errorMessage": "severity must be mild, moderate or severe."},
                    "modalities": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {"better": _WORDS, "worse": _WORDS},
                    },
                    "concomitants": _WORDS,
                },
            },
        },
        "generals": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "appetite": _SHORT,
                "thirst": _SHORT,
                "cravings": _WORDS,
                "aversions": _WORDS,
                "sleep": _SHORT,
                "dreams": _SHORT,
                "thermal": {"enum": THERMALS, "errorMessage": "thermal must be chilly, hot or ambithermal."},
                "perspiration": _SHORT,
                "energy": _SHORT,
            },
        },
        "mentals": _TEXT,
        "past_history": _TEXT,
        "family_history": _TEXT,
        "source": {"enum": SOURCES},
        "profile_confirmed": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"allergies": _TEXT, "medications": _TEXT, "conditions": _TEXT},
        },
        "triage": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "level": {"enum": TRIAGE_LEVELS},
                "rules": {"type": "array", "items": _SHORT, "maxItems": 50},
            },
        },
        "suggested_specializations": _WORDS,
        "intake": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "state": {"enum": INTAKE_STATES},
                "step": {"type": "string", "maxLength": 40},
                "complaint": {"type": "integer", "minimum": 0, "maximum": 19},
                "answered": {"type": "string", "maxLength": 40},
                "replying": {"type": "string", "maxLength": 40},
            },
        },
    },
}
