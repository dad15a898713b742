"""The deterministic red-flag guard: is this patient message an emergency?

assess(text) -> Verdict(level, rules). It runs on every patient message before
any model is asked, so it is pure Python: no network, no Django, the same answer
every time, a few hundred microseconds a message.

How a message is read:

1. Normalised: NFKC, lower case, apostrophes dropped ("can't" -> "cant"),
   letters repeated 3+ times collapsed ("paaaain" -> "pain"), Devanagari
   nukta, chandrabindu and anusvara dropped and long i/u folded into short
   ("साँस" = "सांस" = "सास", "नहीं" = "नही"), Devanagari digits made ASCII.
2. Split into clauses on , ; . ! ? । and on but / however / though / and /
   lekin / magar / aur / लेकिन / मगर / और (and on par / पर only after a verb,
   since they usually mean "on"), so a negation never reaches past its clause:
   "no fever but I can't breathe" is an emergency.
3. Each rule's phrases are matched token by token, in order, allowing up to
   three tokens in between (one for phrases written with a leading "=", none
   for "==", five but never across "and" / "aur" for "+": "dard kam nahi ho
   raha chest me"). A few rules also need two groups in one clause ("achanak"
   anywhere with severe belly pain). A
   phrase token is a set of alternatives; "breath*" is a prefix; a token of
   5+ letters also matches a typo at Damerau-Levenshtein distance 1 (2 from 9
   letters) that starts with the same letter.
4. A match does not count when it is negated: a negator up to four tokens
   before it (no, not, never, without, denies, don't, bina, बिना, ...), a
   negator in a gap inside it ("daura nahi pada"), or a Hindi nahi / नहीं up
   to three tokens after it ("seene mein dard nahi hai"). Negators that are
   part of the phrase itself ("can't breathe", "saans nahi aa rahi", "khoon
   ruk nahi raha") do not negate it; nor does a nahi that follows "stop" /
   "lessen" verbs ("dard ruk nahi raha" means it will not stop), or that
   comes before "ja" / "gaya" ("dard nahi gaya": it has not gone). A form
   answered no ("chest pain - none", "chest pain: no", "breathing problem:
   nil") is read as negated when the answer ends its clause.
5. A clause that is plainly past history ("years ago", "as a child", "used
   to", a year such as 2015, "saal pehle", "बचपन"), or an older relative's
   disease in the past tense with nothing saying now ("my father had a
   stroke", "papa ko heart attack hua tha", but not "... an hour ago", "my
   mother is unconscious", or a child's or sibling's), does not fire, except
   for self-harm, which is always shown to a person. When nothing in the whole
   message says now or severe, an older relative's symptom in the past tense
   is history too ("my father had chest pain", "papa ko dard hua tha"), but
   not "my father had severe chest pain" or "... chest pain and is sweating".
6. Combination rules need every group to match, unnegated, somewhere in the
   message (an infant word and a high-fever word; pregnant and bleeding).
7. Temperatures (>= 103 F, >= 39.5 C) and fevers of more than three days are
   read by regular expressions, and skipped when negated ("no fever above
   103", "fever was never 104", "no fever for 5 days"), but not when the
   negation is about falling ("fever has not come down from 104"). So is an
   overdose by count: ten or more pills taken, or five or more sleeping pills
   or "at once" ("I took 20 sleeping pills", "15 tablets kha li").

Swallowed objects: a button battery, magnets or a sharp object (needle, pin,
blade, glass) is an emergency (a battery burns the gullet within hours, magnets
pinch the bowel); a coin or another blunt object is urgent (usually passes, but
wants an X-ray the same day); choking on it is the breathing rule. "Baby not
moving" is an emergency whether the baby is born or in the womb.

Known limits (checked against consultations/tests/data/triage_labelled.tsv):
it reads words, not meaning, so sarcasm and long-distance negation are not
understood. "I don't think that what I feel is chest pain" fires on purpose: a
hedged chest pain should be seen. A sibling's history ("mera bhai heart attack se
mar gaya tha") fires too; the guard errs towards flagging.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

EMERGENCY, URGENT, ROUTINE = "emergency", "urgent", "routine"
_SEVERITY = {ROUTINE: 0, URGENT: 1, EMERGENCY: 2}

TELE_MANAS = (
    "You are not alone: please call Tele-MANAS, India's free mental-health helpline, on 14416 "
    "(or 1-800-891-4416), any time of day, or go to the nearest emergency department."
)


@dataclass(frozen=True)
class Rule:
    id: str
    level: str
    label: str
    advice: str = ""


@dataclass(frozen=True)
class Verdict:
    level: str
    rules: tuple[str, ...] = ()

    @property
    def is_emergency(self) -> bool:
        return self.level == EMERGENCY

    @property
    def is_urgent(self) -> bool:
        return self.level == URGENT


# ---------------------------------------------------------------------------
# Vocabulary shared by several rules. "|" separates alternatives, a trailing
# "*" makes a prefix. English, romanised Hindi and Devanagari side by side.
# ---------------------------------------------------------------------------
NAHI = "nahi|nahin|nai|nhi|nahee|nahii|nehi|na|नहीं|नही"
CHEST = "chest|chst|seene|seena|sine|sina|sene|seenay|chhati|chati|chhaati|chaati|chhatii|सीने|सीना|छाती|चेस्ट"
PAIN = "pain|pains|pian|pian|payn|paining|painful|hurt*|ache|aching|dard|dardh|darad|durd|दर्द"
SAANS = "saans|sans|saas|sas|saans|swas|swaas|shwas|shvas|saansein|सांस|साँस|श्वास|स्वास"
TAKLIF = "taklif|takleef|takliff|taklef|dikkat|dikat|diqqat|pareshani|problem|mushkil|तकलीफ|दिक्कत|परेशानी|मुश्किल"
KHOON = "khoon|khun|khon|khoon|khoon|blood|खून|रक्त"
ULTI = "ulti|ultiyan|ultiya|ultii|vomit*|vomiting|उल्टी|उलटी"
FEVER = "fever|fevr|feaver|bukhar|bukhaar|bukar|bhukar|bukhr|temperature|temp|tapman|बुखार|ताप|तापमान"
HIGH_FEVER = [
    "high|tez|tej|taiz|तेज fever|fevr|bukhar|bukhaar|bukar|bhukar|temperature|temp|बुखार",
    "fever|bukhar|बुखार|temperature|temp high|tez|zyada|jyada|ज्यादा",
]
INFANT = (
    "baby|babies|babys|infant|infants|newborn|neonate|bachcha|bachche|bacha|bache|baccha|bacche|bachchi|bachi"
    "|bachhe|bachha|shishu|navjaat|navjat|नवजात|शिशु|बच्चा|बच्चे|बच्ची|बच्चो|बेबी"
)
NEWBORN = ["newborn|neonate|navjaat|navjat|नवजात", "day|days|week|weeks|hafte old|ka|ki|का|की"]
MONTHS_OLD = ["month|months|mahine|mahina|mahiney|mahinay|महीने|महीना old|ka|ki|का|की"]
LETHARGY = [
    "lethargic|lethargy|floppy|limp|listless|unresponsive|drowsy|sust|susst|सुस्त",
    "not|isnt|wont|poorly|refusing|refuses feeding|feed|drinking|sucking",
    "=doodh|dudh|milk|दूध nahi|nahin|nai|nhi|नहीं|नही|na pee|pi|peeta|piti|पी|पीता",
    "hard|difficult wake|waking",
]
PREGNANT = "pregnant|pregnancy|pregnent|prengnant|garbhvati|garbhwati|garbhavati|garbhavastha|garbh|गर्भवती|गर्भावस्था|गर्भ"
BLEEDING = ["bleed*|bleding|blood|khoon|khun|खून|रक्तस्राव", "=khoon|khun|खून aa|aana|nikal|beh|gir|आ|निकल"]
SEVERE = "severe|sever|bad|terrible|unbearable|very|extreme|intense|tez|tej|bahut|asahniya|तेज|बहुत|असहनीय"
_JAUNGA = "jaunga|jaungi|jaaunga|jaaungi|jaoonga|jaoongi|jaunga|जाऊंगा|जाऊंगी|जाउंगा|जाउंगी"
ABDOMEN = "abdomen|abdominal|stomach|belly|tummy|pet|pait|पेट"
_TOOK = "took|tok|taken|swallowed|had|ate|kha|khali|khayi|consumed|popped|gulped"
_PILLS = "pills|pill|tablets|tablet|tabs|capsules|goli*|गोली|गोलियां|गोलियाँ"
SWALLOW = "swallow*|swalow*|nigal|nigla|nigli|nigle|nigali|nigalliya|gatak|gatka|निगल|निगला|निगली|निगले"
FETUS = f"{INFANT}|fetus|foetus|fetal|foetal|garbh|गर्भ"
ACUTE_SEVERE = "severe|unbearable|terrible|intense|excruciating|extreme|tez|tej|bahut|asahniya|तेज|बहुत|असहनीय"


@dataclass(frozen=True)
class _Spec:
    """How a rule is recognised; kept apart from Rule, which is what other modules see."""

    rule: Rule
    phrases: tuple[str, ...] = ()
    # Each combination is a tuple of groups; every group (a tuple of phrases) must match.
    combos: tuple[tuple[tuple[str, ...], ...], ...] = ()
    # A clause containing one of these phrases is ignored for this rule ("stroke of luck").
    unless: tuple[str, ...] = ()
    history_applies: bool = True
    extra: tuple[str, ...] = field(default=())  # names of regex checks, see _REGEX_CHECKS
    # Like combos, but every group must match within one clause ("achanak" with severe belly pain).
    together: tuple[tuple[tuple[str, ...], ...], ...] = ()


def _spec(rule_id, level, label, phrases=(), *, combos=(), unless=(), advice="", history=True, extra=(), together=()):
    return _Spec(
        Rule(rule_id, level, label, advice),
        tuple(phrases),
        tuple(tuple(tuple(group) for group in combo) for combo in combos),
        tuple(unless),
        history,
        tuple(extra),
        tuple(tuple(tuple(group) for group in combo) for combo in together),
    )


# ---------------------------------------------------------------------------
# The rules, most severe first. Within a level, order is the order of reporting.
# ---------------------------------------------------------------------------
_SPECS = (
    _spec(
        "chest_pain",
        EMERGENCY,
        "Chest pain or pressure; possible heart attack",
        [
            f"{CHEST} {PAIN}|pressure|tight|tightness|heaviness|heavy|squeez*|crush*|discomfort|bhari|bharipan|"
            "bhaari|jakdan|jakad|dabav|dabaw|dabaav|दबाव|भारीपन|भारी|जकड़न|जकड़",
            f"{PAIN}|pressure|tightness|heaviness|squeezing|crushing in|on|across|of chest|chst",
            "heart|hart|haert|dil|दिल|हार्ट attack|atack|attak|attck|daura|dora|दौरा|अटैक",
            "cardiac arrest",
            f"heart|dil|दिल {PAIN}",
            # The body part after the pain: "dard kam nahi ho raha chest me", "bahut dard hai seene mein".
            f"+{PAIN} {CHEST}|चेस्ट",
        ],
        unless=["chest of drawers", "chest drawer*", "treasure chest"],
    ),
    _spec(
        "breathing",
        EMERGENCY,
        "Severe trouble breathing or choking",
        [
            "cant|cannot|cnt|unable|not|hard|difficult*|difficulty|trouble|struggl*|problem|gasp*|laboured|stopped "
            "breath*|breth*|brethe",
            "breath*|breathe difficult*|difficulty|trouble|problem|hard",
            "choking|choked|choke|chokes|chocking",
            "lips|lip|face|fingers|nails|honth|होंठ blue|bluish|purple|neela|nila|नीले|नीला",
            "blue|bluish lips",
            "very|severely|extremely|badly|too breathless*|breathles",
            "breathless*|breathles|breath at|while|even rest|resting|sitting|lying|talking|speaking",
            "gasping",
            "suffocat*",
            "cant|cannot|unable get air|breath",
            f"={SAANS} {NAHI} aa|a|aa|ara|araha|aati|aata|le|li|ho|rahi|आ|ले|ली",
            f"{SAANS} lene|lena|leni|lete|lenay|लेने|लेना {TAKLIF}",
            f"{SAANS} {TAKLIF}|atak|atki|ruk|rukh|अटक|रुक",
            "dam|dum|दम ghut|ghutna|ghut|घुट",
        ],
        unless=["breathing exercise*", "breathing techniques", "pranayam*"],
    ),
    _spec(
        "stroke",
        EMERGENCY,
        "Signs of a stroke (face drooping, one-sided weakness, slurred speech, sudden confusion or vision loss)",
        [
            "face|mouth|smile|lip|muh|munh|mooh|chehra|chehre|chehera|चेहरा|चेहरे|मुंह droop*|dropping|drooped|"
            "drooping|tilt*|tedha|tedhi|terha|tirchha|टेढ़ा|टेढ़ी|lopsided|crooked|sagging|uneven",
            "slurred|slurring|slured speech|words|talking|bolna",
            "speech|bolne|bolna|zuban|zubaan|jubaan|बोलने|जुबान slurred|slurring|ladkhada*|ladkhra*|लड़खड़ा*|atak",
            "cant|cannot|unable|not speak|talk|bol properly|clearly|suddenly|sahi",
            "sudden|suddenly|achanak|अचानक weak*|numb*|paralys*|paralyz*|confus*|blind*|kamzori|sunn|सुन्न|कमजोरी",
            "sudden|suddenly|achanak|अचानक loss|lost|losing|lose|gayi|went vision|sight|eyesight|dikhna|दिखना",
            "one|ek|एक side|half|taraf|तरफ body|face|arm|leg|hand|sharir|शरीर weak*|numb*|paralys*|sunn|kamzor*|"
            "सुन्न|कमजोर",
            "weak*|numb*|paralys*|sunn one|ek side|half|taraf",
            "worst|worse headache life|ever",
            "thunderclap headache",
            "having|had|getting|get|got a|ka stroke|strok|brain",
            "stroke|brain attack|hua|hui|aaya|pada",
            "brain stroke|hemorrhage|haemorrhage|bleed",
            "paralysis|paralysed|paralyzed|lakwa|lakva|laqwa|लकवा|फालिज|falij",
        ],
        unless=["stroke of luck", "stroke of genius", "breaststroke", "heat stroke", "sun stroke"],
    ),
    _spec(
        "stroke",
        EMERGENCY,
        "Signs of a stroke (face drooping, one-sided weakness, slurred speech, sudden confusion or vision loss)",
        ["cant|cannot|unable|couldnt feel|move|lift arm|arms|leg|legs|hand|hands|face|side"],
        unless=["fracture*|plaster|cast|sprain*|sore|gym|workout|injur*|sprain|sleep|slept|cold|numbness"],
    ),
    _spec(
        "unconscious",
        EMERGENCY,
        "Fainting, unconscious or unresponsive",
        [
            "unconscious|unconcious|unresponsive|unresponsiv",
            "faint|fainted|fainting|faints|swoon*",
            "passed|blacked|knocked out",
            "collapsed|collapse|collapses",
            "not|wont|isnt|cant|doesnt waking|wake|respond*|responsive",
            "behosh|behos|behoshi|behosi|beyhosh|bahosh|बेहोश|बेहोशी",
            f"=hosh|होश {NAHI}|nhi|गया|gaya|kho|खो",
            f"=uth {NAHI} raha|rahe|rahi",
        ],
        unless=["you", "app", "doctor", "website", "site", "payment", "server", "page", "link", "phone", "call*"],
    ),
    _spec(
        "severe_bleeding",
        EMERGENCY,
        "Severe bleeding, or vomiting or coughing blood",
        [
            "bleed*|bleding|blood wont|not|doesnt|isnt|cant|wouldnt|never stop|stopping|stopped|stops",
            "wont|not|cant stop bleed*|bleding",
            "lot|lots|large|pool|gush*|spurt* blood",
            "blood large|lot amount|amounts|quantity|gushing|spurting",
            f"{ULTI}|vomited|throwing|threw|coughing|coughed|cough|coughs|spitting|spit|khansi|खांसी blood|khoon|khun|"
            "खून",
            f"blood|khoon|khun|खून {ULTI}|vomited|cough*|khansi|खांसी",
            f"=khoon|khun|khon|खून ruk|rukh|रुक {NAHI}|रहा",
            f"=khoon|khun|खून band {NAHI}",
            "bahut|zyada|jyada|bohot|बहुत khoon|khun|खून beh|nikal|gir|aa|बह|निकल",
        ],
        unless=["blood test", "blood report", "blood pressure", "blood sugar"],
    ),
    # Heavy bleeding, apart so that heavy periods (a routine complaint) do not raise it.
    _spec(
        "severe_bleeding",
        EMERGENCY,
        "Severe bleeding, or vomiting or coughing blood",
        [
            "heavy|heavily|severe|profuse|profusely|massive|lot|lots|uncontrolled|nonstop|continuous bleed*|bleding",
            "bleed*|bleding heavily|profusely|badly|lot|nonstop|continuously",
        ],
        unless=["period*|menses|menstrual|mc|masik|पीरियड|माहवारी|mahwari|cycle"],
    ),
    _spec(
        "self_harm",
        EMERGENCY,
        "Thoughts of suicide or self-harm",
        [
            "kill|kil|killing|kiling|kll|hurt|hurting|harm|harming|cut|cutting|hang|hanging|shoot|poison "
            "myself|meself|mysef|myslef|mysel",
            "end|ending|take|taking|finish my|own life",
            "want|wanna|wish|plan|planning|ready die|dead",
            "wish i was|were dead",
            "==feel|feels|feeling like dying|die",
            "==feel|feels|feeling like to die",
            "better off dead",
            "no|nothing reason|point|purpose live|living",
            "dont|not want live|alive|exist",
            "suicid*|sucid*|suiside|suicde|sucide|suside|suiscide",
            "self harm|injury|injure",
            "selfharm",
            "cut|cutting|slit|slash my wrist|wrists|hands|arm|arms|veins",
            "jump|jumping off|from roof|building|bridge|terrace|train",
            "mar|marr|mr jana|jaana|jaun|jau|jaaun|jaunga|jaungi|jaaunga|jaaungi|jaoon|jaana",
            "marna|marne|mrna chahta|chahti|chahu|chahunga|chahti|chata|chati|ka man|ka mann",
            "aatmahatya|atmahatya|aatmhatya|atmhatya|atamhatya|आत्महत्या",
            "khudkushi|khudkhushi|khudkhusi|khudkashi|khudkusi|khudkshi|ख़ुदकुशी|खुदकुशी",
            "=jaan|जान de|dena|deni|dunga|dungi|doon|दे|देना|देनी|दूंगा|दूंगी",
            f"jeene|jine|jeena|jina|जीने|जीना man|mann|wajah|vajah|iccha|ichha|matlab|मन|वजह|इच्छा {NAHI}",
            "मरना|मर चाहता|चाहती|जाना|जाऊं|जाऊंगा|जाऊंगी",
            # "khud ko khatam karna chahta hu", "apne aap ko khatam kar lunga", "खुद को खत्म कर".
            "khud|khudko|apne|apneaap|aap|खुद|अपने|आप ko|को khatam|khtam|khatm|khtm|khatum|ख़त्म|खत्म",
            "zindagi|jindagi|zindgi|jindgi|जिंदगी|ज़िंदगी|जीवन|jeevan|life khatam|khtm|ख़त्म|खत्म kar|karna|karne|"
            "karlu|karlunga|kardu|kardunga|dena|कर|करना|करने|दूंगा|दूंगी",
            # "जीना नहीं चाहता", "ab aur jeena nahi chahti", "mujhe nahi jeena".
            f"jeena|jina|jeene|jine|जीना|जीने {NAHI} chahta|chahti|chahte|chahiye|chahta|chata|chati|चाहता|चाहती|चाहते",
            "=nahi|nahin|nhi|नहीं|नही jeena|jina|जीना",
        ],
        unless=[
            "suicide squad",
            "suicide bomb*",
            "kill myself laughing",
            "mar jana kitna",
            # "lagta hai mar jaunga", "dard se mar jaungi": a fear of dying, not an intent (feels_like_dying).
            f"+lagta|lag|lage|lagra|लगता|लग mar|मर {_JAUNGA}",
            f"={PAIN} se|से mar|मर {_JAUNGA}",
        ],
        advice=TELE_MANAS,
        history=False,
    ),
    _spec(
        "seizure",
        EMERGENCY,
        "A seizure, fit or convulsion",
        [
            "seizure|seizures|siezure|siezures|seizer|seziure|convuls*|convlsion*|fitting",
            "fits",
            "a|had|having|has|getting fit",
            "daura|dora|daure|dauraa|दौरा|दौरे pada|pad|padta|padte|padi|padna|aaya|aya|aa|pade|पड़ा|पड़|आया",
            "mirgi|mirgee|मिर्गी daura|dora|दौरा|attack|aaya|pada|fit",
            "jhatke|jhatka|झटके aa|aaye|aana|lag|आ",
            "epilep* attack|fit",
        ],
        unless=[
            "seizure of",
            "customs",
            "dil|heart|दिल daura|दौरा",
            "daura lagat*",
            "fits me",
            "fits well",
            "shoe fits",
            "it fits",
            "medicine|medicines|medication|tablets|dawai|dawa for|ke|ki|on",
            "on medicine|medication|treatment",
        ],
    ),
    _spec(
        "anaphylaxis",
        EMERGENCY,
        "Severe allergic reaction (throat, tongue or lip swelling)",
        [
            "throat|tongue|lips|lip|gala|gale|jeebh|jibh|honth|गला|गले|जीभ|होंठ swell*|swollen|closing|closed|"
            "sujan|soojan|sooj|suj|सूजन|सूज",
            "swell*|swollen|sujan|soojan|सूजन throat|tongue|lips|gala|gale|jeebh|गले|जीभ",
            "anaphyla*",
            "allergic|allergy shock",
            "allergic|allergy reaction breath*|throat|swell*|swollen",
        ],
        unless=["tonsil*", "glands", "gland", "lymph"],
    ),
    _spec(
        "infant_fever",
        EMERGENCY,
        "A baby with high fever, floppiness or not feeding",
        combos=[
            ([INFANT, *MONTHS_OLD], [*HIGH_FEVER, *LETHARGY]),
            (NEWBORN, [FEVER]),
        ],
    ),
    _spec(
        "pregnancy_bleeding",
        EMERGENCY,
        "Pregnant with bleeding or severe abdominal pain",
        combos=[
            (
                [PREGNANT],
                [
                    *BLEEDING,
                    f"{SEVERE} {PAIN}|cramps|cramping {ABDOMEN}|lower",
                    f"{SEVERE} {ABDOMEN} {PAIN}|cramp*",
                    f"{ABDOMEN} {PAIN} {SEVERE}",
                    f"{ABDOMEN} {SEVERE} {PAIN}",
                ],
            ),
        ],
        unless=["blood test", "blood report", "blood pressure", "blood sugar", "blood group"],
    ),
    # Reduced or absent fetal movements: the pregnant woman should be seen at once. "baby not moving" fires
    # without the word pregnant as well: a baby (born or unborn) who is not moving is an emergency either way.
    _spec(
        "reduced_fetal_movement",
        EMERGENCY,
        "Baby not moving, or moving less, in the womb",
        [
            f"{FETUS} not|no|stopped|stop|hasnt|isnt|less|reduced|decreased|fewer|kam|कम|band|बंद moving|move|moved|"
            "movement|movements|movemnt|kicking|kick|kicks|kicked|hil|hilna|hilta|hilti|harkat|हिल|हरकत",
            f"{FETUS} move|moving|movement|movements|kick|kicks|kicking|hil|hilna|hilta|hilti|harkat|हिल|हरकत|हिलना "
            f"{NAHI}|kam|band|कम|बंद|stopped|less|reduced|decreased",
            "no|reduced|decreased|less|fewer|absent|lack fetal|foetal|baby movement|movements|kicks|kick",
            "cant|cannot|havent|not|didnt|dont|couldnt|unable feel|felt baby|fetus|foetus|bachcha|bacha|bachha "
            "move|moving|movement|movements|kick|kicks|kicking",
        ],
    ),
    # Swallowed objects. A button battery burns through the gullet within hours and magnets pinch the bowel,
    # and a sharp object can tear it: an emergency. A coin or another small blunt object usually passes, but
    # the child needs an X-ray the same day: urgent. (Choking on it is the breathing rule.)
    _spec(
        "swallowed_battery",
        EMERGENCY,
        "Swallowed a button battery, magnets or a sharp object",
        [
            f"{SWALLOW}|ate|eaten|kha|khali|khaa|खा battery|batteries|battry|batery|बैटरी|बैट्री|magnet|magnets|"
            "chumbak|चुंबक",
            f"{SWALLOW} button|watch cell",
            f"{SWALLOW} blade|razor|needle|needles|sui|सुई|pin|pins|kaanch|kanch|कांच|keel|nail|nails",
            f"{SWALLOW} piece|pieces|bit|tukda|tukde glass|kaanch|kanch|कांच",
            f"battery|batteries|battry|batery|बैटरी|बैट्री|magnet|magnets|chumbak|चुंबक {SWALLOW}|kha|khali|khaa|खा|"
            "ate|eaten",
            f"blade|razor|needle|sui|सुई|pin|kaanch|kanch|कांच|keel {SWALLOW}",
        ],
        unless=["safety pin", "pin point", "pins and needles", "glass of"],
    ),
    _spec(
        "swallowed_object",
        URGENT,
        "Swallowed a coin or another object",
        [
            f"{SWALLOW}|ate|eaten|kha|khali|खा coin|coins|sikka|sikke|sika|सिक्का|सिक्के",
            f"coin|coins|sikka|sikke|sika|सिक्का|सिक्के {SWALLOW}|kha|khali|खा",
            f"{SWALLOW} button|buttons|marble|marbles|bead|beads|toy|lego|earring|key|screw|cap|batan|kanche|kancha",
            f"button|marble|bead|toy|lego|earring|key|screw|batan|kancha|kanche|बटन {SWALLOW}",
            f"{SWALLOW} safety pin",
        ],
    ),
    _spec(
        "poisoning",
        EMERGENCY,
        "Poisoning, overdose or snake bite",
        [
            "swallow*|drank|drink|ate|eaten|took|taken|consumed poison*|pesticide|insecticide|phenyl|phenol|kerosene|"
            "kerosine|bleach|harpic|cleaner",
            "drank|drink|swallowed|pi|piya|pee acid|tezab|तेजाब",
            "rat|chuha|chuhe|chooha poison|dawa|dawai|maar",
            f"{_TOOK} too|so many|much pills|tablets|tabs|capsules|goli*|medicine|medicines|dose|doses",
            # "took a whole strip of tablets", "swallowed a bottle of pills", "took a handful of tablets".
            f"{_TOOK} whole|entire|full strip|strips|bottle|packet|pack|box|patta",
            f"{_TOOK} handful|fistful|bottle|strip|strips|packet|box {_PILLS}",
            # Sleeping pills with a word of quantity: "took lots of sleeping pills", "took all the sleeping pills".
            f"{_TOOK} lot|lots|many|bunch|all|saari|sari|bahut sleeping|neend|nind|नींद pills|tablets|tabs|goli*",
            "neend|nind|नींद goliyan|goliya|goliyaan|गोलियां|गोलियाँ kha|khali|khayi|khaye|khaa|nigal|nigli|खा|निगल",
            "neend|nind|नींद goliyan|goliya|goliyaan|गोलियां|गोलियाँ le|ले li|liya|lin|lie|ली|लिया|लिए",
            "overdos*",
            "zeher|zehar|jeher|jahar|zahar|jehar|zahr|जहर|विष kha|khaya|khali|pi|pee|piya|li|liya|le|nigal|खा|पी|ली",
            "kha|pi|piya|pee liya|li zeher|zehar|jahar|जहर",
            "keeda|keede|kida|kide|keet maar|mar|maar dawai|dawa|medicine|spray|dava pi|pee|piya|li|kha|khali|liya",
            "keetnashak|kitnashak|कीटनाशक|keedamar",
            "bahut|zyada|jyada|saari|sari|poori|puri|saare|bohot goli*|goliyan|goliya|tablet*|dawai|गोलियां|गोली "
            "kha|khali|le|nigal|खा li|liya|lie|lin|lee|ली|लिया",
            "snake|saap|saanp|sanp|sap|sarp|साप|सांप|सर्प bite|bit|bitten|kaat|kata|kaata|kaati|dasa|dans|काट|डस",
            "scorpion|bichhu|bichu|bicchu|बिच्छू sting|stung|bite|bit|kaat|kata|dank|डंक|काट",
            "poisoned|poisoning",
        ],
        unless=["food poisoning", "food poisoned"],
        extra=("pill_count",),
    ),
    _spec(
        "head_injury",
        EMERGENCY,
        "Head injury with vomiting, confusion or loss of consciousness",
        combos=[
            (
                [
                    "hit|injur*|banged|bumped|struck|fell head|sir|sar",
                    "head injury|injuries|trauma|wound",
                    "sir|sar|सिर|सर chot|par chot|pe chot|फट|चोट|lag|fat",
                    "head|sir|sar|सिर|सर first",
                ],
                [
                    f"{ULTI}|vomited|threw",
                    "confus*|drowsy|sleepy|disoriented",
                    "unconscious|behosh|बेहोश|passed|knocked|blacked out",
                    "bleeding|blood ear|ears|nose|kaan",
                ],
            ),
        ],
    ),
    _spec(
        "severe_burn",
        EMERGENCY,
        "Severe burn or electric shock",
        [
            "severe|bad|badly|major|big|large|deep|serious|degree burn|burns|burnt|burned",
            "burn|burns|burnt|burned badly|severely",
            "burn|burns|burnt|burned all over",
            "boiling oil|water|tel burn|burns|burnt|burned|fell",
            "acid attack|thrown|fell",
            "buri|bahut|बुरी tarah|तरह jal|jhulas|जल|झुलस",
            "electric|electrical|bijli shock|current",
            "current|करंट lag|laga|lagi|लगा",
        ],
        unless=["like", "jaisa", "jaise", "जैसा", "जैसे"],
    ),
    _spec(
        "acute_abdomen",
        EMERGENCY,
        "Sudden severe abdominal pain or a rigid belly",
        [
            f"sudden|suddenly|achanak|अचानक severe|unbearable|terrible|intense|tez|bahut {ABDOMEN} {PAIN}",
            f"{ABDOMEN} hard board",
            f"{ABDOMEN} rigid|patthar|pathar|पत्थर",
            f"rigid {ABDOMEN}",
        ],
        # "sudden" anywhere in the clause: "bahut tez dard ho raha hai pet me achanak".
        together=[
            (
                ["sudden|suddenly|achanak|acanak|achank|अचानक"],
                [
                    f"{ACUTE_SEVERE} {PAIN} {ABDOMEN}",
                    f"{ACUTE_SEVERE} {ABDOMEN} {PAIN}",
                    f"{ABDOMEN} {ACUTE_SEVERE} {PAIN}",
                    f"{ABDOMEN} {PAIN} {ACUTE_SEVERE}",
                ],
            )
        ],
    ),
    _spec(
        "heat_stroke",
        EMERGENCY,
        "Heat stroke",
        ["heat stroke|stroke", "heatstroke|sunstroke"],
    ),
    # A sense of dying is a medical alarm, not by itself a wish to die (see self_harm for that).
    _spec(
        "feels_like_dying",
        EMERGENCY,
        "Feels as if they are dying",
        [
            "feel|feels|feeling|felt like|as dying|die",
            "think|afraid|scared|fear|sure|feel|feels im|am dying",
            "=going|gonna die",
            "=im|am dying",
            f"+lagta|lag|lage|lagra|लगता|लग mar|मर {_JAUNGA}",
            "=mar|मर raha|rahi|rha|rhi|रहा|रही hu|hun|hoon|hoo|हूं|हु|हू",
            f"={PAIN} se|से mar|मर {_JAUNGA}",
        ],
        unless=[
            "dying|die to|for",
            "dying|die|mar of|from|se boredom|bore|hunger|laughter|laughing|curiosity|embarrassment|shame|bhookh|bhook|"
            "bhukh|garmi|thand|hasi|hans|भूख|गर्मी",
            "killing me",
        ],
    ),
    # ----- urgent: see a doctor today -----
    _spec(
        "high_fever",
        URGENT,
        "High fever (103 F / 39.5 C or more) or fever for more than 3 days",
        HIGH_FEVER,
        extra=("temperature", "fever_days"),
    ),
    _spec(
        "blood_in_urine_or_stool",
        URGENT,
        "Blood in urine or stool",
        [
            "blood|khoon|khun|खून in|me|mein urine|stool|stools|motion|motions|potty|peshab|pishab|toilet|latrine|"
            "mal|पेशाब|मल|टट्टी|पॉटी|susu|pee|piss",
            "urine|stool|stools|motion|motions|potty|peshab|pishab|toilet|latrine|पेशाब|मल|टट्टी|पॉटी|susu|pee|piss "
            "blood|khoon|khun|खून|bloody",
            "urine|stool|stools|motion|motions|potty|peshab|pishab|toilet|latrine|पेशाब|मल|टट्टी|पॉटी|susu red",
            "bloody|red urine|stool|stools|motion|motions|pee",
            "black|tarry|kala|kaali|kali|काला stool|stools|motion|motions|potty|mal|टट्टी",
        ],
    ),
    _spec(
        "dehydration",
        URGENT,
        "Vomiting or diarrhoea with signs of dehydration",
        [
            "cant|cannot|unable keep anything|water|liquids down",
            "severe|severely dehydrat*",
        ],
        combos=[
            (
                [
                    f"{ULTI}|vomited|throwing",
                    "diarrh*|diarhea|loose|dast|dust|दस्त|motions|loosemotion*|latrine|watery",
                ],
                [
                    "dehydrat*|dry mouth|mouth dry|mouth is dry|sunken|very thirsty",
                    "not|no|nahi passing|passed urine|pee",
                    "no|less|little|kam urine|peshab|pishab",
                    f"=peshab|pishab|urine|पेशाब {NAHI} aa|ho|aaya|hua|आ|हो",
                    "dizzy|dizziness|chakkar|chakar|चक्कर|lightheaded",
                    "very|extremely|too weak|tired",
                ],
            )
        ],
    ),
    _spec(
        "severe_pain",
        URGENT,
        "Severe or unbearable pain",
        [
            f"unbearable|unbearably|excruciating|severe|terrible|extreme|asahniya|asahneey|असहनीय {PAIN}",
            f"{PAIN} unbearable|excruciating|asahniya|असहनीय|sahan|bardasht|बर्दाश्त|सहन",
        ],
    ),
    _spec(
        "eye_pain",
        URGENT,
        "Sudden eye pain or a red, painful eye",
        [
            "sudden|suddenly|achanak|अचानक eye|eyes|aankh|ankh|आंख pain|painful|dard|दर्द",
            "sudden|suddenly|achanak pain|dard eye|eyes|aankh|ankh|आंख",
            "red|lal painful|pain eye|eyes",
            "painful red eye|eyes",
        ],
        combos=[
            (
                ["eye|eyes|aankh|ankh|आंख pain|painful|dard|दर्द", "pain|dard in|me eye|eyes|aankh"],
                ["red|redness|lal|लाल", "blur*|dhundh*|धुंध*|vision"],
            )
        ],
    ),
    _spec(
        "calf_swelling",
        URGENT,
        "Painful swelling of one calf (possible clot)",
        [
            "calf|calves|pindli|pindali|पिंडली swell*|swollen|sujan|soojan|सूजन|painful|tender|hot",
            "swell*|swollen|sujan|painful left|right|one calf|pindli",
        ],
    ),
    _spec(
        "urinary_infection_fever",
        URGENT,
        "Burning urination with fever or back pain",
        combos=[
            (
                [
                    "burning|painful|pain urin*|micturition|pee|peeing|peshab|pishab",
                    "urin*|peshab|pishab|पेशाब burning|jalan|जलन|pain|dard",
                ],
                [FEVER, "back|kamar|कमर|flank|loin|side pain|dard|दर्द"],
            )
        ],
    ),
    _spec(
        "breathless",
        URGENT,
        "Breathlessness",
        [
            "breathless*|breathles",
            "short|shortness of breath",
            f"{SAANS} phool|phul|phulna|phoolna|फूल|फूलना|phool",
            "dam|दम phool|phul|फूल",
            "wheez*",
        ],
    ),
    _spec(
        "animal_bite",
        URGENT,
        "Animal bite (rabies risk)",
        [
            "dog|dogs|kutta|kutte|kutiya|monkey|bandar|cat|billi|bat|rat|कुत्ते|कुत्ता|बंदर bite|bit|bitten|kaat|"
            "kata|kaata|काट",
            # "I was bitten by a dog", "bitten by a stray", "scratched by a cat".
            "bitten|bit|scratched by|from dog|dogs|stray|puppy|monkey|cat|kitten|bat|rat|mongoose|animal",
            "dog|dogs|puppy|stray|monkey|bandar|cat|billi|kitten|bat|कुत्ते|कुत्ता|बंदर|बिल्ली scratched|nakhun|"
            "nakhoon|panja|pancha|नाखून|पंजा",
            "kutte|kutta|bandar|billi|कुत्ते|कुत्ता|बंदर|बिल्ली ne|ने kaat|kata|kaata|kati|kaati|काट|काटा",
        ],
        unless=["==a|little|thoda bit", "bit of", "dog|cat food|toy|bowl", "bit tired|sick|unwell|better|off|weak"],
    ),
)

RULES: dict[str, Rule] = {spec.rule.id: spec.rule for spec in _SPECS}
_ORDER = {rule_id: index for index, rule_id in enumerate(RULES)}

# ---------------------------------------------------------------------------
# Negation, clauses and history.
# ---------------------------------------------------------------------------
_PRE_NEGATORS = {
    "no", "not", "never", "without", "denies", "deny", "denied", "denying", "dont", "didnt", "doesnt", "isnt",
    "arent", "wasnt", "werent", "havent", "hasnt", "hadnt", "nor", "neither", "none", "free", "na", "bina", "बिना",
}  # fmt: skip
# "no one cares", "I don't know why": the negator is about something else.
_NEGATOR_EXCEPTIONS = {"one", "body", "onecares", "where", "matter", "know", "understand", "care", "only", "sure"}
_POST_NEGATORS = {"nahi", "nahin", "nai", "nhi", "nahee", "nahii", "nehi", "नही", "absent"}
# "dard ruk nahi raha" = the pain will not stop: the nahi is about the verb, not the symptom.
_POST_NEGATOR_VERBS = {
    "ruk", "rukh", "ruka", "rukta", "rukti", "रुक", "band", "बंद", "kam", "कम", "theek", "thik", "ठीक", "utar",
    "utarta", "उतर", "ja", "jaa", "jata", "jati", "जा", "sah", "सह", "bardasht",
}  # fmt: skip
# "dard nahi ja raha" = the pain is not going away.
_AFTER_NEGATOR_VERBS = {
    "ja", "jaa", "jata", "jati", "जा", "ruk", "ruka", "rukta", "rukti", "रुक", "utar", "utarta", "उतर", "ghat",
    "sah", "sahan", "सह", "bardasht", "gaya", "gayi", "gaye", "gya", "gyi", "गया", "गई", "गयी",
}  # fmt: skip
_CONJUNCTIONS = {
    "but", "however", "though", "although", "whereas", "except", "lekin", "lekn", "magar", "लेकिन", "मगर", "किंतु",
    "parantu", "परंतु", "kintu",
}  # fmt: skip
# "and" ends a negation's reach ("no fever and I can't breathe") but a phrase may
# span it ("my tongue and face are swollen"). "or" does neither: "no fits or convulsions".
_AND = {"and", "aur", "और", "tatha", "तथा"}
_PAR = {"par", "पर"}
_VERB_ENDINGS = {"hai", "he", "h", "hain", "tha", "thi", "the", "hu", "hoon", "है", "हैं", "था", "थी", "हु", "हू"}
_HISTORY = re.compile(
    r"\b(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten|many|several|few|some|a)\s+years?\s+(?:ago|back)\b"
    r"|\byears?\s+(?:ago|back)\b|\bas\s+a\s+(?:child|kid|baby|teenager)\b|\bin\s+(?:my\s+)?childhood\b"
    r"|\bused\s+to\b|\b(?:19[5-9]\d|20[0-4]\d)\b|\bsaal\s+(?:pehle|pahle|phle|pehele)\b|\bbachpan\b"
    r"|बचपन|साल\s+पहले|\bchildhood\b|\bhistory\s+of\b|\bh\s+o\b"
)
# Family history: an older relative, a past-tense marker ("had", "hua tha", "passed away"), the name of
# a disease rather than a symptom, and nothing that says now ("my father had a stroke" is history; "my
# father had a stroke an hour ago" and "my father had severe chest pain" are not). Children and siblings
# are left out: a parent writing "my son had convulsions" means today.
_RELATIVES = {
    "father", "fathers", "dad", "dads", "daddy", "mother", "mothers", "mom", "moms", "mum", "mums", "mummy", "mommy",
    "grandfather", "grandmother", "grandpa", "grandma", "granny", "grandad", "granddad", "grandparents", "uncle",
    "uncles", "aunt", "aunts", "aunty", "auntie", "parents", "family", "relative", "relatives", "papa", "pappa",
    "papaji", "pitaji", "pita", "mummi", "mumy", "mammi", "maa", "mata", "mataji", "ammi", "amma", "abbu", "abba",
    "dada", "dadaji", "dadi", "nana", "nanaji", "nani", "chacha", "chachi", "mama", "mami", "mausi", "bua", "tauji",
    "पापा", "पिताजी", "पिता", "मम्मी", "मां", "माता", "दादा", "दादी", "नाना", "नानी", "चाचा", "चाची", "मामा",
    "मौसी", "बुआ",
}  # fmt: skip
_DIAGNOSES = {
    "stroke", "strokes", "attack", "attacks", "arrest", "paralysis", "lakwa", "lakva", "seizure", "seizures", "fits",
    "epilepsy", "mirgi", "daura", "hemorrhage", "haemorrhage", "bypass", "angioplasty", "stent", "surgery",
    "अटैक", "दौरा", "लकवा", "मिर्गी",
}  # fmt: skip
_PAST_MARKERS = {"had", "suffered", "died", "expired", "deceased", "death", "guzar", "gujar", "निधन"}
_HINDI_PAST_VERBS = {
    "hua", "hui", "hue", "huwa", "huya", "pada", "padi", "pade", "pda", "aaya", "aya", "aayi", "ayi", "aai", "gaya",
    "gayi", "gaye", "gya", "chuka", "chuki", "chuke", "हुआ", "हुई", "हुए", "पड़ा", "पड़ी", "पड़े", "आया", "आई", "गया", "गई",
    "गए", "चुका", "चुकी", "चुके",
}  # fmt: skip
_HINDI_PAST_AUX = {"tha", "thi", "the", "था", "थी", "थे"}
# Words that make a relative's past symptom an event to act on, not history: "my father had severe chest pain".
_ACUTE = {
    "severe", "sever", "bad", "badly", "terrible", "unbearable", "very", "extreme", "intense", "excruciating",
    "crushing", "sudden", "suddenly", "achanak", "अचानक", "tez", "tej", "तेज", "bahut", "bohot", "बहुत", "asahniya",
    "असहनीय", "ago", "pehle", "पहले", "since", "se", "से", "help", "please", "emergency", "collapsed", "sweating",
}  # fmt: skip
_NOW = {
    "is", "isnt", "are", "arent", "still", "now", "abhi", "अभी", "today", "aaj", "आज", "just", "minute", "minutes",
    "min", "mins", "hour", "hours", "hr", "hrs", "ghante", "ghanta", "ghanton", "घंटे", "yesterday", "tonight",
    "again", "dobara", "phir", "फिर", "currently", "kal", "कल", "morning", "subah", "सुबह", "raat", "रात",
}  # fmt: skip
# Words that say a temperature is not falling: "fever not coming down from 104" stays a high fever.
_DOWN = {
    "down", "below", "under", "less", "lower", "reduce", "reduced", "reducing", "subside", "subsided", "settle",
    "settled", "break", "broke", "kam", "utar", "utra", "utri", "utarta", "ghat", "ghata", "neeche", "niche", "ruk",
    "ruka", "band", "कम", "उतर", "नीचे", "ja", "jaa", "jata", "jati", "जा", "relief", "aram", "araam", "better",
}  # fmt: skip
_FUZZY_STOPLIST = {
    "cooking", "looking", "booking", "hooking", "paint", "point", "saint", "burps", "fewer", "breed", "breeding",
    "chess", "khoob", "khub", "dauda", "prison", "pulls", "polls", "fills", "shake", "shakes", "selling", "smelling",
    "spelling", "telling", "bleed", "blond", "bloom", "heard", "heat", "heats", "faith", "fiber", "fibre",
    "cheat", "cheap", "chase", "choice", "choose", "thread", "threat", "throw", "blues", "glue", "clue",
    "stroll", "strong", "strike", "stoke", "stokes", "stride", "stripe", "liked", "livid", "mother", "others",
    "bother", "teething", "seating", "heating", "dying", "tired", "tried", "hearth",
}  # fmt: skip


# ---------------------------------------------------------------------------
# Normalisation and tokens.
# ---------------------------------------------------------------------------
_DEVANAGARI_FOLD = str.maketrans(
    {
        "\u0901": None,  # chandrabindu
        "\u0902": None,  # anusvara: साँस = सांस = सास, नहीं = नही
        "\u093c": None,  # nukta: ज़हर = जहर
        "\u0940": "\u093f",  # long i -> short i
        "\u0942": "\u0941",  # long u -> short u
        "\u200c": None,
        "\u200d": None,
        "'": None,
        "\u2019": None,
        "\u2018": None,
        "`": None,
        "\u00b4": None,
        "\u02bc": None,
        **{chr(0x0966 + digit): str(digit) for digit in range(10)},
    }
)
_REPEATS = re.compile(r"([a-z])\1{2,}")
_CLAUSE_BREAK = re.compile(r"[,;!?।॥\n\r\t:()\[\]]+|\.(?!\d)")
_TOKEN = re.compile(r"[0-9a-z\u0900-\u0963\u0966-\u097f]+")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(char for char in text if not _is_latin_accent(char))
    text = unicodedata.normalize("NFKC", text)
    text = unicodedata.normalize("NFD", text)  # exposes Devanagari nukta letters
    text = text.translate(_DEVANAGARI_FOLD)
    return _REPEATS.sub(r"\1", text)


def _is_latin_accent(char: str) -> bool:
    return "\u0300" <= char <= "\u036f"


def _clauses(text: str) -> list[list[str]]:
    clauses = []
    for chunk in _CLAUSE_BREAK.split(text):
        current: list[str] = []
        for token in _TOKEN.findall(chunk):
            if token in _CONJUNCTIONS or (token in _PAR and current and current[-1] in _VERB_ENDINGS):
                if current:
                    clauses.append(current)
                current = []
            else:
                current.append(token)
        if current:
            clauses.append(current)
    return clauses


# ---------------------------------------------------------------------------
# Compiled phrases. A phrase is a tuple of alternative-ids; a token's matches
# are computed once per distinct token and cached.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _Phrase:
    alts: tuple[int, ...]
    max_gap: int
    across_and: bool = True


_ALTERNATIVES: list[tuple[frozenset[str], tuple[str, ...]]] = []
_ALT_IDS: dict[tuple[frozenset[str], tuple[str, ...]], int] = {}
_EXACT: dict[str, set[int]] = {}
_PREFIX: dict[str, set[int]] = {}


def _alternative(spec: str) -> int:
    words, prefixes = set(), set()
    for option in spec.split("|"):
        option = normalise(option)
        if option.endswith("*"):
            prefixes.add(option[:-1])
        elif option:
            words.add(option)
    key = (frozenset(words), tuple(sorted(prefixes)))
    if key not in _ALT_IDS:
        _ALT_IDS[key] = len(_ALTERNATIVES)
        _ALTERNATIVES.append(key)
        for word in words:
            _EXACT.setdefault(word, set()).add(_ALT_IDS[key])
        for prefix in prefixes:
            _PREFIX.setdefault(prefix, set()).add(_ALT_IDS[key])
    return _ALT_IDS[key]


def _phrase(text: str) -> _Phrase:
    max_gap, across_and = 3, True
    if text.startswith("=="):
        max_gap, text = 0, text[2:]
    elif text.startswith("="):
        max_gap, text = 1, text[1:]
    elif text.startswith("+"):
        max_gap, across_and, text = 5, False, text[1:]
    # Multi-word alternatives ("third degree") are written as separate tokens, so a
    # space always separates phrase tokens; Devanagari alternatives are normalised too.
    return _Phrase(tuple(_alternative(part) for part in text.split()), max_gap, across_and)


@dataclass(frozen=True)
class _Compiled:
    spec: _Spec
    phrases: tuple[_Phrase, ...]
    combos: tuple[tuple[tuple[_Phrase, ...], ...], ...]
    unless: tuple[_Phrase, ...]
    together: tuple[tuple[tuple[_Phrase, ...], ...], ...]


_COMPILED = tuple(
    _Compiled(
        spec,
        tuple(_phrase(text) for text in spec.phrases),
        tuple(tuple(tuple(_phrase(text) for text in group) for group in combo) for combo in spec.combos),
        tuple(_phrase(text) for text in spec.unless),
        tuple(tuple(tuple(_phrase(text) for text in group) for group in combo) for combo in spec.together),
    )
    for spec in _SPECS
)
# The word lists above are written as people type them; compare them normalised.
for _words in (
    _PRE_NEGATORS, _NEGATOR_EXCEPTIONS, _POST_NEGATORS, _POST_NEGATOR_VERBS, _AFTER_NEGATOR_VERBS, _CONJUNCTIONS,
    _AND, _PAR, _VERB_ENDINGS, _FUZZY_STOPLIST, _RELATIVES, _DIAGNOSES, _PAST_MARKERS, _HINDI_PAST_VERBS,
    _HINDI_PAST_AUX, _NOW, _DOWN, _ACUTE,
):  # fmt: skip
    _normalised = {normalise(word) for word in _words}
    _words.clear()
    _words.update(_normalised)
_NEGATION_WORDS = _PRE_NEGATORS | _POST_NEGATORS

# Fuzzy candidates: (word, alternative ids) by first letter.
_FUZZY_WORDS: dict[str, list[tuple[str, set[int]]]] = {}
for _word, _ids in _EXACT.items():
    if len(_word) >= 5:
        _FUZZY_WORDS.setdefault(_word[0], []).append((_word, _ids))
_FUZZY_PREFIXES: dict[str, list[tuple[str, set[int]]]] = {}
for _prefix, _ids in _PREFIX.items():
    if len(_prefix) >= 5:
        _FUZZY_PREFIXES.setdefault(_prefix[0], []).append((_prefix, _ids))


def _allowed_distance(length: int) -> int:
    return 2 if length >= 9 else 1 if length >= 5 else 0


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment (restricted Damerau-Levenshtein) distance, giving up above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


@lru_cache(maxsize=8192)
def _token_alternatives(token: str) -> frozenset[int]:
    found = set(_EXACT.get(token, ()))
    for end in range(1, len(token) + 1):
        found |= _PREFIX.get(token[:end], set())
    if len(token) >= 5 and token not in _FUZZY_STOPLIST and not token.isdigit():
        for word, ids in _FUZZY_WORDS.get(token[0], ()):
            limit = _allowed_distance(min(len(word), len(token)))
            if not ids <= found and _distance(token, word, limit) <= limit:
                found |= ids
        for prefix, ids in _FUZZY_PREFIXES.get(token[0], ()):
            limit = _allowed_distance(len(prefix))
            if ids <= found:
                continue
            for end in (len(prefix) - 1, len(prefix), len(prefix) + 1):
                if end <= len(token) and _distance(token[:end], prefix, limit) <= limit:
                    found |= ids
                    break
    return frozenset(found)


def _family_history(tokens: list[str]) -> bool:
    """An older relative's illness told in the past tense, with nothing saying it is happening now."""
    if (
        not any(token in _RELATIVES for token in tokens)
        or not any(token in _DIAGNOSES for token in tokens)
        or any(token in _NOW for token in tokens)
    ):
        return False
    for position, word in enumerate(tokens):
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        if word in _PAST_MARKERS or (word == "passed" and following == "away"):
            return True
        if word in _HINDI_PAST_AUX and position and tokens[position - 1] in _HINDI_PAST_VERBS:
            return True
    return False


def _relative_past_symptom(tokens: list[str]) -> bool:
    """An older relative's symptom told in the past tense: "my father had chest pain", "papa ko dard hua tha".

    Only used when nothing in the whole message says now or severe (see assess): "my father had chest pain
    and is sweating", "my father had severe chest pain", "... chest pain this morning" still fire.
    """
    if not any(token in _RELATIVES for token in tokens):
        return False
    for position, word in enumerate(tokens):
        if word in _PAST_MARKERS:
            return True
        if word in _HINDI_PAST_AUX and position and tokens[position - 1] in _HINDI_PAST_VERBS:
            return True
    return False


class _Clause:
    __slots__ = ("alternatives", "history", "tokens")

    def __init__(self, tokens: list[str], calm: bool = False) -> None:
        self.tokens = tokens
        self.alternatives = [_token_alternatives(token) for token in tokens]
        self.history = (
            bool(_HISTORY.search(" ".join(tokens)))
            or _family_history(tokens)
            or (calm and _relative_past_symptom(tokens))
        )

    def matches(self, phrase: _Phrase, *, negation: bool = True) -> bool:
        """Whether the phrase occurs in this clause (unnegated, unless negation is False)."""
        first = phrase.alts[0]
        for start, alternatives in enumerate(self.alternatives):
            if first in alternatives and self._rest(phrase, 1, start, [start], negation):
                return True
        return False

    def _rest(self, phrase: _Phrase, index: int, previous: int, matched: list[int], negation: bool) -> bool:
        if index == len(phrase.alts):
            return not negation or not self._negated(matched)
        wanted = phrase.alts[index]
        last = min(len(self.tokens), previous + phrase.max_gap + 2)
        for position in range(previous + 1, last):
            if not phrase.across_and and self.tokens[position - 1] in _AND and position - 1 > previous:
                break
            if wanted in self.alternatives[position] and self._rest(
                phrase, index + 1, position, [*matched, position], negation
            ):
                return True
        return False

    def _negated(self, matched: list[int]) -> bool:
        tokens, start, end = self.tokens, matched[0], matched[-1]
        for position in range(start - 1, max(-1, start - 5), -1):
            if tokens[position] in _AND:
                break
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            if tokens[position] in _PRE_NEGATORS and following not in _NEGATOR_EXCEPTIONS:
                return True
        inside = set(matched)
        for position in range(start + 1, end):
            if position not in inside and tokens[position] in _NEGATION_WORDS:
                # "dard kam nahi ho raha chest me": the nahi is about the verb ("not lessening").
                if tokens[position] in _POST_NEGATORS and (
                    tokens[position - 1] in _POST_NEGATOR_VERBS or tokens[position + 1] in _AFTER_NEGATOR_VERBS
                ):
                    continue
                return True
        for position in range(end + 1, min(len(tokens), end + 4)):
            if tokens[position] in _AND:
                break
            following = tokens[position + 1] if position + 1 < len(tokens) else ""
            if (
                tokens[position] in _POST_NEGATORS
                and tokens[position - 1] not in _POST_NEGATOR_VERBS
                and following not in _AFTER_NEGATOR_VERBS
            ):
                return True
        return False


# ---------------------------------------------------------------------------
# Regular-expression checks: temperatures and fever duration.
# ---------------------------------------------------------------------------
_FEVER_WORD = re.compile(r"fever|fevr|bukh?aa?r|bhukar|temp|tapman|बुखार|ताप")
_NUMBER = re.compile(r"(?<![\d/.])(\d{2,3}(?:\.\d+)?)\s*(°\s*[fc]?|deg\w*|डिग्रि|[fc]\b)?(?![\d/])\s*(\w+)?")
_NOT_A_TEMPERATURE = {
    "days", "day", "din", "दिन", "years", "year", "yrs", "saal", "साल", "months", "month", "mahine", "weeks",
    "hours", "hrs", "times", "baar", "kg", "kgs", "mg", "ml", "am", "pm", "bpm", "percent", "minutes", "mins",
}  # fmt: skip
_NUMBER_CONTEXT_BEFORE = re.compile(r"(?:age|aged|umar|umr|weight|wt|bp|sugar|pulse|spo2|oxygen|hb|rs|inr)\W*$")
_WORD_NUMBERS = {
    "a": 1, "one": 1, "ek": 1, "two": 2, "do": 2, "three": 3, "teen": 3, "four": 4, "char": 4, "chaar": 4,
    "five": 5, "paanch": 5, "panch": 5, "six": 6, "che": 6, "chhe": 6, "seven": 7, "saat": 7, "ten": 10, "das": 10,
}  # fmt: skip
_DURATION = re.compile(
    r"(?:(more\s+than|over|above)\s+)?(\d+|[a-z]+)\s+(days?|din|दिन|weeks?|hafte|hafta|सप्ताह)"
    r"(?:\s+(?:se|से)\s+(zyada|jyada|jada|ज्यादा|अधिक))?(\s+(?:ago|pehle|पहले))?"
)


def _negated_around(before: list[str], after: list[str], reach: int) -> bool:
    """Whether a fever word or reading is negated: "no fever above 103", "bukhar 103 se upar nahi gaya".

    A negator up to `reach` tokens before, or a Hindi nahi up to `reach` tokens after, within the clause;
    unless a word of falling sits between ("fever has not come down from 104", "104 se kam nahi ho raha").
    """
    for position in range(len(before) - 1, max(-1, len(before) - 1 - reach), -1):
        token = before[position]
        if token in _CONJUNCTIONS or token in _AND or token in _DOWN:
            break
        following = before[position + 1] if position + 1 < len(before) else ""
        if token in _PRE_NEGATORS and following not in _NEGATOR_EXCEPTIONS:
            return True
    for position, token in enumerate(after[:reach]):
        if token in _CONJUNCTIONS or token in _AND or token in _DOWN:
            break
        if token in _POST_NEGATORS:
            following = after[position + 1] if position + 1 < len(after) else ""
            return following not in _DOWN
    return False


def _context(text: str, start: int, end: int) -> tuple[list[str], list[str]]:
    """The tokens of the clause before `start` and after `end`."""
    before = _CLAUSE_BREAK.split(text[:start])[-1]
    after = _CLAUSE_BREAK.split(text[end:])[0]
    return _TOKEN.findall(before), _TOKEN.findall(after)


def _high_temperature(text: str) -> bool:
    has_fever_word = bool(_FEVER_WORD.search(text))
    for match in _NUMBER.finditer(text):
        value, unit, after = float(match.group(1)), (match.group(2) or "").replace("°", "").strip(), match.group(3)
        if after in _NOT_A_TEMPERATURE or _NUMBER_CONTEXT_BEFORE.search(text[: match.start()]):
            continue
        if _negated_around(*_context(text, match.start(1), match.end(1)), reach=4):
            continue
        if not unit and not has_fever_word:
            continue
        if unit.startswith("c") or (not unit.startswith("f") and 35 <= value <= 43):
            if 39.5 <= value <= 43:
                return True
        elif 103 <= value <= 110:
            return True
    return False


def _long_fever(text: str) -> bool:
    for clause in _CLAUSE_BREAK.split(text):
        # "no fever for 5 days": every fever word in the clause negated.
        if all(
            _negated_around(*_context(clause, word.start(), word.end()), reach=2)
            for word in _FEVER_WORD.finditer(clause)
        ):
            continue
        for match in _DURATION.finditer(clause):
            more, count, unit, zyada, ago = match.groups()
            number = int(count) if count.isdigit() else _WORD_NUMBERS.get(count)
            if number is None or ago:
                continue
            days = number * 7 if unit.startswith(("week", "haft", "सप्ताह")) else number
            if days > 3 or (days == 3 and (more or zyada)):
                return True
    return False


# Overdose by count: "I took 20 sleeping pills", "15 tablets kha li", "das goliyan nigal li". Ten or more
# pills taken at once, or five or more sleeping pills or "at once"; a number before the pill word, within
# two words, in a clause with a verb of taking in the past. "I take 2 tablets a day" does not count.
_PILL_WORD_NUMBERS = {
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "hundred": 100, "paanch": 5, "panch": 5, "das": 10, "pandrah": 15,
    "bees": 20, "tees": 30, "pachas": 50, "sau": 100,
}  # fmt: skip
_PILL_COUNT = re.compile(
    r"(?<![\w.])(\d{1,3}|" + "|".join(_PILL_WORD_NUMBERS) + r")\s+(?:\S+\s+){0,2}?"
    r"(?:pills?|tablets?|tabs|capsules?|caps|goli|goliy[a-z]*|गोलि[^\s]*|टैबलेट)(?![a-z])"
)
_TAKEN = {
    normalise(word)
    for word in (
    "took", "tok", "taken", "swallowed", "ate", "eaten", "consumed", "popped", "gulped", "overdosed", "khali",
    "khayi", "khaye", "khaya", "khai", "khaa", "nigal", "nigli", "nigla", "nigle", "nigali", "li", "liya", "lie",
    "liye", "lin", "खा", "खाई", "खाए", "निगल", "ली", "लिया", "लिए",
    )
}  # fmt: skip
_AT_ONCE = re.compile(r"sleep|neend|nind|निद|at once|together|ek saath|ek sath|एक साथ|एक सात")


def _pill_count(text: str) -> bool:
    for clause in _CLAUSE_BREAK.split(text):
        tokens = _TOKEN.findall(clause)
        if not _TAKEN.intersection(tokens):
            continue
        for match in _PILL_COUNT.finditer(clause):
            count = match.group(1)
            number = int(count) if count.isdigit() else _PILL_WORD_NUMBERS.get(count)
            if number is None or _negated_around(*_context(clause, match.start(), match.end()), reach=4):
                continue
            if number >= 10 or (number >= 5 and _AT_ONCE.search(clause)):
                return True
    return False


_REGEX_CHECKS = {"temperature": _high_temperature, "fever_days": _long_fever, "pill_count": _pill_count}


# A form answered "no": "chest pain - none", "chest pain: no", "breathing problem: nil", "Chest pain? No."
# Only when the answer ends its clause ("chest pain - no relief" still fires); read as "chest pain absent".
_ANSWERED_NO = re.compile(
    r"\s*(?:[:=?]|(?<=\s)[-\u2013\u2014]+|[-\u2013\u2014]+(?=\s))\s*"
    r"(?:no|none|nil|nill|nope|absent|negative|neg|denied|nahi|nahin|nhi|नही)\s*(?=[,;.!?/|\n]|$)"
)


# ---------------------------------------------------------------------------
# The public functions.
# ---------------------------------------------------------------------------
def assess(text: str) -> Verdict:
    """The red-flag verdict on one patient message."""
    normalised = _ANSWERED_NO.sub(" absent", normalise(text or ""))
    split = _clauses(normalised)
    # Nothing in the message says now or severe: a relative's symptom in the past tense is history.
    calm = not any(token in _NOW or token in _ACUTE for tokens in split for token in tokens)
    clauses = [_Clause(tokens, calm) for tokens in split]
    fired = dict.fromkeys(compiled.spec.rule.id for compiled in _COMPILED if _fires(compiled, clauses, normalised))
    return _verdict(fired)


def worst(*verdicts: Verdict) -> Verdict:
    """The most severe of several verdicts, with the rules of all of them."""
    seen: dict[str, None] = {}
    for verdict in verdicts:
        seen.update(dict.fromkeys(verdict.rules))
    level = max((verdict.level for verdict in verdicts), key=_SEVERITY.__getitem__, default=ROUTINE)
    rules = sorted(seen, key=lambda rule_id: -_SEVERITY[RULES[rule_id].level] if rule_id in RULES else 0)
    return Verdict(level, tuple(rules))


def _verdict(rule_ids) -> Verdict:
    rules = sorted(rule_ids, key=lambda rule_id: (-_SEVERITY[RULES[rule_id].level], _ORDER[rule_id]))
    if not rules:
        return Verdict(ROUTINE, ())
    return Verdict(RULES[rules[0]].level, tuple(rules))


def _fires(compiled: _Compiled, clauses: list[_Clause], text: str) -> bool:
    spec = compiled.spec
    usable = [
        clause
        for clause in clauses
        if not (spec.history_applies and clause.history)
        and not any(clause.matches(phrase, negation=False) for phrase in compiled.unless)
    ]
    if any(clause.matches(phrase) for phrase in compiled.phrases for clause in usable):
        return True
    for combo in compiled.combos:
        if all(any(clause.matches(phrase) for phrase in group for clause in usable) for group in combo):
            return True
    for combo in compiled.together:
        for clause in usable:
            if all(any(clause.matches(phrase) for phrase in group) for group in combo):
                return True
    return any(_REGEX_CHECKS[name](text) for name in spec.extra)
