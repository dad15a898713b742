"""What a model wrote may not reach the patient if it prescribes, diagnoses, alarms or links.

check(text) -> () when the text may be shown, else the reasons, in this order:

- "remedy"     it names a homeopathic remedy or a common (allopathic) medicine;
- "dose"       it gives a potency or a dose (30C, 1M, 500 mg, mother tincture,
               4 globules, twice daily, every 2 hours ...);
- "diagnosis"  it tells the patient what they have, or guesses it ("You have
               eczema.", "it is probably", "sounds like a migraine", "It seems to
               be acidity", "Your symptoms match gastritis", "I think it is",
               "Could this be thyroid?"), in Hindi too ("Aapko acidity hai",
               "आपको माइग्रेन है", "ho sakta hai", "lagta hai aapko", "शायद");
- "advice"     it tells the patient what to do, unless "remedy" or "dose" already
               says so: an instruction ("Try drinking warm water", "Start taking
               vitamin D", "Apply coconut oil", "You should stop your medicine",
               "garam paani piyo", "dawai band kar do"), a treatment claim ("may
               help", "is good for", home remedies), or reassurance that closes
               the case ("you don't need to see a doctor", "nothing to worry");
- "red_flag"   the deterministic guard (consultations.intake.guard) finds the
               text not routine: raising an alarm is the guard's job, never a model's;
- "link"       it contains a URL: the model must not send the patient off-site.

Only the model's wording passes through here; the engine's own questions are
shown as they are. A false positive costs little (the engine's words are used
instead of the model's) and a false negative may cost a lot, so the rules lean
strict, except where a case-taking question would trip them: "Do you have any
allergies?", "How many times a day do you pass stool?", "Have you ever been
diagnosed with diabetes?" are questions, not diagnoses or doses, and pass.
A model's reply is now only a short acknowledgement (the engine appends its own
question), so "diagnosis" and "advice" are deliberately broad: "That sounds like
a lot", "Aapko dard hai, samajh gaya" and "Thanks, that helps the doctor" pass,
but any hedge, guess or instruction does not.
"""

from __future__ import annotations

import re

# Word boundaries that also work for Devanagari: Python's \b treats a vowel sign
# (a combining mark) as a non-word character, so "\bआर्निका\b" would misfire.
_WORD = r"\w\u0900-\u097F"
_B = rf"(?<![{_WORD}])"  # start of a word
_E = rf"(?![{_WORD}])"  # end of a word

# --- remedies and medicines -------------------------------------------------------
# One entry per spelling; a space matches any run of spaces and an optional
# full stop ("Nux vom.", "Ars. alb."). Words that are also everyday English or
# Hindi are only matched in a remedy's full form: "China" (the country) only as
# "China officinalis", "Kali" (a Hindi word) only with its salt, "aloe",
# "cactus", "staph", "tub" and "med" not alone, and capsicum and asafoetida
# (kitchen words in Indian English) not at all.
HOMEOPATHIC_REMEDIES = (
    "abrotanum",
    "aconite",
    "aconitum",
    "acon",
    "aethusa",
    "agaricus",
    "allium cepa",
    "aloe soc",
    "aloe socotrina",
    "alumina",
    "ambra grisea",
    "anacardium",
    "ant crud",
    "ant tart",
    "antimonium",
    "antimonium crudum",
    "antimonium tart",
    "antimonium tartaricum",
    "apis",
    "apis mel",
    "apis mellifica",
    "apocynum",
    "arg nit",
    "argentum",
    "argentum nitricum",
    "arnica",
    "arnica montana",
    "ars alb",
    "arsenicum",
    "arsenicum album",
    "arsenicum iodatum",
    "arum triphyllum",
    "aurum",
    "aurum met",
    "aurum metallicum",
    "avena sativa",
    "bacillinum",
    "baryta carb",
    "baryta carbonica",
    "belladonna",
    "bellis perennis",
    "benzoic acid",
    "berberis",
    "berberis vulgaris",
    "bio combination",
    "biocombination",
    "bismuth",
    "borax",
    "bromium",
    "bryonia",
    "bryonia alba",
    "bufo",
    "cactus grandiflorus",
    "caladium",
    "calc",
    "calc carb",
    "calc fluor",
    "calc phos",
    "calc sulph",
    "calcarea",
    "calcarea carb",
    "calcarea carbonica",
    "calcarea fluorica",
    "calcarea phosphorica",
    "calcarea sulphurica",
    "calendula",
    "camphora",
    "cantharis",
    "canth",
    "carbo an",
    "carbo animalis",
    "carbo veg",
    "carbo vegetabilis",
    "carcinosin",
    "carcinosinum",
    "caulophyllum",
    "causticum",
    "caust",
    "cedron",
    "chamomilla",
    "cham",
    "chelidonium",
    "china off",
    "china officinalis",
    "chininum",
    "cicuta",
    "cimicifuga",
    "cimic",
    "cina",
    "cinchona",
    "cistus",
    "cocculus",
    "coffea",
    "coffea cruda",
    "colchicum",
    "coloc",
    "colocynth",
    "colocynthis",
    "conium",
    "crataegus",
    "crotalus",
    "croton tig",
    "cuprum",
    "cuprum met",
    "digitalis",
    "drosera",
    "dulcamara",
    "dulc",
    "echinacea",
    "equisetum",
    "eup per",
    "eupatorium",
    "eupatorium perfoliatum",
    "euphrasia",
    "ferrum",
    "ferrum met",
    "ferrum phos",
    "ferrum phosphoricum",
    "five phos",
    "fluoric acid",
    "gelsemium",
    "glonoine",
    "graphites",
    "hamamelis",
    "helleborus",
    "hepar",
    "hepar sulph",
    "hepar sulphuris",
    "hydrastis",
    "hyoscyamus",
    "hypericum",
    "ignatia",
    "ignatia amara",
    "iodum",
    "ipecac",
    "ipecacuanha",
    "iris versicolor",
    "kali bich",
    "kali bichromicum",
    "kali brom",
    "kali carb",
    "kali carbonicum",
    "kali iod",
    "kali mur",
    "kali phos",
    "kali phosphoricum",
    "kali sulph",
    "kalmia",
    "kreosotum",
    "lac can",
    "lac caninum",
    "lac defloratum",
    "lachesis",
    "lach",
    "ledum",
    "ledum pal",
    "lilium tigrinum",
    "lobelia",
    "lyco",
    "lycopodium",
    "lycopus",
    "mag carb",
    "mag mur",
    "mag phos",
    "magnesia carb",
    "magnesia phos",
    "magnesia phosphorica",
    "medorrhinum",
    "merc cor",
    "merc sol",
    "merc viv",
    "mercurius",
    "mercurius solubilis",
    "mezereum",
    "millefolium",
    "moschus",
    "muriatic acid",
    "nat carb",
    "nat mur",
    "nat phos",
    "nat sulph",
    "natrum",
    "natrum carb",
    "natrum mur",
    "natrum muriaticum",
    "natrum phos",
    "natrum sulph",
    "natrum sulphuricum",
    "nitric acid",
    "nux",
    "nux moschata",
    "nux vom",
    "nux vomica",
    "opium",
    "passiflora",
    "petroleum",
    "phos",
    "phos ac",
    "phosphoric acid",
    "phosphorus",
    "phytolacca",
    "picric acid",
    "platina",
    "plumbum",
    "podophyllum",
    "podo",
    "psorinum",
    "puls",
    "pulsatilla",
    "pulsatilla nigricans",
    "ranunculus",
    "rhus tox",
    "rhus toxicodendron",
    "rumex",
    "ruta",
    "ruta grav",
    "ruta graveolens",
    "sabadilla",
    "sambucus",
    "sanguinaria",
    "sarsaparilla",
    "secale",
    "selenium",
    "senega",
    "sepia",
    "silicea",
    "silica",
    "spigelia",
    "spongia",
    "spongia tosta",
    "squilla",
    "stannum",
    "staphysagria",
    "staphisagria",
    "sticta",
    "stramonium",
    "sulph",
    "sulphur",
    "sulphuric acid",
    "symphytum",
    "syphilinum",
    "tabacum",
    "tarentula",
    "terebinthina",
    "teucrium",
    "theridion",
    "thlaspi",
    "thuja",
    "thuja occidentalis",
    "tissue salt",
    "tissue salts",
    "tub bov",
    "tuberculinum",
    "urtica urens",
    "valerian",
    "valeriana",
    "variolinum",
    "veratrum",
    "veratrum album",
    "verat alb",
    "viburnum",
    "wyethia",
    "zinc met",
    "zincum",
    "zincum met",
    # Devanagari spellings of the most prescribed, for replies in Hindi.
    "आर्निका",
    "बेलाडोना",
    "नक्स वोमिका",
    "पल्सेटिला",
    "ब्रायोनिया",
    "सल्फर",
    "रस टॉक्स",
    "लाइकोपोडियम",
    "थूजा",
    "कैल्केरिया",
)

MEDICINES = (
    "aceclofenac",
    "acetaminophen",
    "acyclovir",
    "albendazole",
    "allegra",
    "alprazolam",
    "amitriptyline",
    "amlodipine",
    "amoxicillin",
    "amoxyclav",
    "asthalin",
    "aspirin",
    "atenolol",
    "atorvastatin",
    "augmentin",
    "azithral",
    "azithromycin",
    "betamethasone",
    "budesonide",
    "calpol",
    "carbimazole",
    "cefixime",
    "ceftriaxone",
    "cephalexin",
    "cetirizine",
    "chlorpheniramine",
    "ciprofloxacin",
    "clonazepam",
    "clopidogrel",
    "clotrimazole",
    "codeine",
    "combiflam",
    "crocin",
    "d cold",
    "deflazacort",
    "dexamethasone",
    "diazepam",
    "diclofenac",
    "digene",
    "disprin",
    "dolo",
    "domperidone",
    "doxycycline",
    "eltroxin",
    "enalapril",
    "eno",
    "escitalopram",
    "esomeprazole",
    "famotidine",
    "fexofenadine",
    "flagyl",
    "fluconazole",
    "fluoxetine",
    "furosemide",
    "gabapentin",
    "gelusil",
    "glimepiride",
    "hydrochlorothiazide",
    "hydrocortisone",
    "ibuprofen",
    "insulin",
    "itraconazole",
    "ivermectin",
    "ketoconazole",
    "lactulose",
    "levocetirizine",
    "levofloxacin",
    "levosalbutamol",
    "levothyroxine",
    "loperamide",
    "loratadine",
    "lorazepam",
    "losartan",
    "mefenamic acid",
    "meftal",
    "metformin",
    "methylprednisolone",
    "metoprolol",
    "metronidazole",
    "montelukast",
    "morphine",
    "naproxen",
    "nimesulide",
    "norfloxacin",
    "ofloxacin",
    "omeprazole",
    "ondansetron",
    "oseltamivir",
    "pantoprazole",
    "pan d",
    "paracetamol",
    "prednisolone",
    "prednisone",
    "pregabalin",
    "rabeprazole",
    "racecadotril",
    "ramipril",
    "ranitidine",
    "rosuvastatin",
    "salbutamol",
    "saridon",
    "sertraline",
    "simvastatin",
    "sinarest",
    "sucralfate",
    "telmisartan",
    "terbinafine",
    "thyronorm",
    "tinidazole",
    "tramadol",
    "warfarin",
    "zolpidem",
    "पैरासिटामोल",
    "डोलो",
    "क्रोसिन",
)


def _name_pattern(name: str) -> str:
    # "nux vom" matches "Nux vom", "Nux. vom.", "nux-vom", "Nux  Vomica" is its own entry.
    return r"\.?[\s-]+".join(re.escape(word) for word in name.split())


# Longest first, so that "nux vomica" wins over "nux" (the reason is the same,
# but tests and logs are easier to read when the whole name is the match).
_REMEDY = re.compile(
    _B
    + "(?:"
    + "|".join(_name_pattern(n) for n in sorted(set(HOMEOPATHIC_REMEDIES + MEDICINES), key=len, reverse=True))
    + r")\.?"
    + _E,
    re.IGNORECASE,
)

# --- doses --------------------------------------------------------------------------
# Counts, not "a" or "some": "a drop in energy" and "some tablets" are case-taking words.
_NUMBER_WORD = r"(?:\d+|one|two|three|four|five|six|seven|eight|ten|twelve)"
_DOSE = re.compile(
    "|".join(
        (
            # Potencies and amounts: 30C, 200 CH, 6X, 1M, 10M, 12CK, 500 mg, 5 ml, 2 g, 50 mcg.
            r"\b\d+\s?(?:c|ch|x|m|ck|lm|mg|mcg|ml|g|gm|gms)\b",
            r"\bLM\s?\d+\b",
            r"\b0/\d+\b",  # LM potencies are also written 0/1, 0/2 ...
            r"\bmother\s+tinctures?\b",
            r"\bpotenc(?:y|ies)\b",
            r"\bglobules?\b",
            r"\bdilutions?\b",
            r"\bunder\s+(?:the|your)\s+tongue\b",
            rf"\b{_NUMBER_WORD}\s+(?:pills?|globules?|tablets?|tabs?|capsules?|drops?|doses?|"
            r"(?:tea|table)?spoons?(?:ful)?)\b",
        )
    ),
    re.IGNORECASE,
)
_POTENCY_AFTER = re.compile(r"\s*\d")
# "Berberis Q": the mother-tincture potency. Case-sensitive: a capital Q alone
# after a word (not "Q:" or "Q1").
_Q_POTENCY = re.compile(r"\b[A-Za-z]{3,}\.?\s+Q(?![\w:])")
# How often: a dose in a statement ("Take it twice daily."), a symptom's
# periodicity in a question ("Does the fever come every 2 hours?"), which
# case-taking needs. So these count only in a sentence that is not a question
# or that tells the patient to take something.
_FREQUENCY = re.compile(
    rf"\b(?:(?:once|twice|thrice)\s+(?:daily|a\s+day|per\s+day)|{_NUMBER_WORD}\s+times\s+(?:a|per|every)\s+day|"
    rf"every\s+{_NUMBER_WORD}\s+(?:hours?|hrs?))\b|\b(?:daily|nightly)\s+(?:at|before|after)\s+\w+",
    re.IGNORECASE,
)
_DOSING_VERB = re.compile(
    r"\b(?:take|give|repeat|dissolve|put|use|continue|start|apply|chew|swallow|stop|increase|reduce)\b", re.IGNORECASE
)
# Hindi and Hinglish: "din mein teen baar", "दिन में तीन बार", "goli", "गोली".
_DOSE_HINDI = re.compile(
    _B
    + r"(?:din\s+(?:me|mein|main)\s+\w+\s+baar|roz\s+\w+\s+baar|goli(?:yan|yaan|yon)?|"
    + r"दिन\s+में\s+\S+\s+बार|रोज़?\s+\S+\s+बार|गोलियां|गोलियाँ|गोली|खुराक)"
    + _E,
    re.IGNORECASE,
)

# --- diagnoses ----------------------------------------------------------------------
_DIAGNOSIS = re.compile(
    "|".join(
        (
            r"\byou(?:'re|\s+are)\s+suffering\s+from\b",
            r"\bsuffering\s+from\s+(?:a|an)\b",
            r"\bsounds\s+like\s+(?:you\s+have|you've|you\s+may\s+have|you\s+might\s+have|"
            r"(?:it\s+is|it's)(?!\s+(?:been|really|very|quite|so|hard|difficult|tough|bothering|troubling|"
            r"affecting|painful|uncomfortable|worse|better|not|getting)\b))",
            r"\b(?:it|this|that)(?:'s|\s+is|\s+looks|\s+seems)\s+(?:most\s+|very\s+|quite\s+)?"
            r"(?:probably|likely|definitely|certainly|almost\s+certainly|clearly|possibly)\s+(?:a|an|to\s+be|due|caused)\b",
            r"\b(?:it|this|that)(?:'s|\s+is)\s+(?:most\s+)?(?:probably|likely|definitely)\b",
            r"\bthis\s+(?:is|looks|seems)\s+like\s+(?:a|an)\s+(?:case|sign|symptom|form|type|classic|typical)\b",
            r"\b(?:could|may|might|can)\s+be\s+(?:a\s+|an\s+)?(?:sign|symptom|signs|symptoms|case|indication)\s+of\b",
            r"\b(?:this|that|these|it)\s+(?:suggests?|indicates?|points?\s+to|is\s+consistent\s+with)\b",
            r"\b(?:a|the|my)\s+case\s+of\b",
            r"\byou\s+(?:are|were)\s+diagnosed\b",
        )
    ),
    re.IGNORECASE,
)


# Hedged diagnoses: "It seems to be acidity.", "This looks like eczema", "sounds like a migraine",
# "Your symptoms match gastritis.", "I think it is a viral infection.", "Could this be thyroid?". Not
# the acknowledgements "That sounds like it is really bothering you." or "that sounds like a lot".
_HEDGED_DIAGNOSIS = re.compile(
    "|".join(
        (
            r"\b(?:it|this|that|these|they)\s+(?:seems?|appears?|looks?)\s+to\s+be\b",
            r"\b(?:it|this|that|these|they|you)\s+(?:seems?|appears?|looks?)\s+like\s+(?:you\b|a\b|an\b)?"
            r"(?!\s*(?:a\s+lot|it|you(?:'re|\s+are)\s+(?:going|having)|it's)\b)",
            r"\b(?:sounds?|looks?|seems?)\s+like\s+(?:a|an|the|some|typical|classic)\s+"
            r"(?!(?:lot|difficult|hard|tough|rough|long|stressful|worrying|frightening|painful|trying|tiring|"
            r"exhausting|busy|bad\s+(?:time|day|week|night))\b)",
            r"\b(?:sounds?|looks?|seems?)\s+like\s+(?:it(?:'s|\s+is|\s+could\s+be|\s+may\s+be|\s+might\s+be))\s+"
            r"(?:a|an|some|the|due|caused|from)\b",
            r"\b(?:symptoms?|signs?|complaints?|problems?|condition|picture|pattern)\s+(?:\w+\s+)?"
            r"(?:match(?:es)?|fits?|resembles?|points?\s+to(?:wards)?|suggests?|indicates?|sounds?\s+like|looks?\s+like|"
            r"(?:is|are)\s+(?:typical|classic|characteristic|consistent)|are\s+those\s+of)\b",
            r"\bi\s+(?:think|believe|suspect|feel|guess|would\s+say|'d\s+say|am\s+(?:fairly\s+|quite\s+)?sure)\s+"
            r"(?:that\s+)?(?:it|this|that|these|you|your)\b",
            r"\b(?:could|might|may|can|would)\s+(?:this|it|that|these)\s+be\b",
            r"\b(?:this|it|that|these)\s+(?:could|might|may|would)\s+(?:well\s+)?(?:be|mean|indicate|suggest)\b",
            r"\b(?:probably|likely|possibly|perhaps|maybe)\s+(?:a|an|just|due\s+to|caused\s+by)\b",
            r"\b(?:due\s+to|caused\s+by|because\s+of)\s+(?:a|an|your)?\s*(?:infection|virus|viral|allergy|acidity|"
            r"gas|stress|deficiency|thyroid|hormones?)\b",
        )
    ),
    re.IGNORECASE,
)
# Hindi and Hinglish: "Aapko acidity hai.", "आपको माइग्रेन है।", "yeh migraine ho sakta hai",
# "lagta hai aapko infection hai", "शायद यह एलर्जी है". In a statement, not a question ("Aapko kab se dard
# hai?"); "aapko <symptom> hai" echoing the patient ("Aapko dard hai, samajh gaya") is left alone.
_SYMPTOM_ECHO = (
    r"(?:dard|dardh|takleef|taklif|pareshani|dikkat|problem|bukhar|khansi|thakan|kamzori|"
    r"दर्द|तकलीफ|परेशानी|दिक्कत|बुखार|खांसी|थकान|कमज़?ोरी)"
)
# The end of a word where a danda (।) may follow: _E counts the danda as a letter.
_E_DANDA = r"(?![\w\u0900-\u0963\u0966-\u097F])"
_HINDI_DIAGNOSIS = re.compile(
    "|".join(
        (
            _B + rf"(?:aapko|apko|aap\s+ko|tumhe|tumhein|tumko|आपको|तुम्हें|तुमको)\s+(?!{_SYMPTOM_ECHO}{_E})"
            r"(?:[\w\u0900-\u097F-]+\s+){1,3}?(?:hai|hain|he|h|है|हैं)" + _E_DANDA,
            _B + r"(?:ho\s+sakt[aie]|ho\s+skt[aie]|hona\s+chahiye|हो\s+सकत[ाीे]|होना\s+चाहिए)" + _E_DANDA,
            _B + r"(?:lagta|lag\s+raha|lagti|lag\s+rahi|लगता|लग\s+रहा|लगती)\s+(?:hai|है)\s+(?:ki\s+|कि\s+)?"
            r"(?:aapko|apko|aap|yeh|ye|yah|is|iska|आपको|आप|यह|ये|इस|इसका)" + _E_DANDA,
            _B + r"(?:shayad|shaayad|sayad|शायद)" + _E_DANDA,
        )
    ),
    re.IGNORECASE,
)

# --- advice -------------------------------------------------------------------------
# Telling the patient what to do (treatment, home remedies, starting or stopping medicines, whether to
# see a doctor): "Try drinking warm water with honey.", "You should stop your blood pressure medicine.",
# "Start taking vitamin D", "Apply coconut oil", "garam paani piyo", "dawai band kar do", "you don't need
# to see a doctor". A model's reply is only an acknowledgement, so any instruction is out of place.
_IMPERATIVE_VERBS = (
    r"try|start|stop|avoid|apply|drink|eat|take|use|rub|massage|gargle|keep|continue|increase|reduce|cut|skip|quit|"
    r"switch|add|mix|boil|soak|sip|inhale|rest|sleep|put|wash|cover|elevate|ice|consult|visit|see|go|get|have|"
    r"consider|give|chew|swallow|limit|stay|remember|make\s+sure|don't|do\s+not|never|stick|include|cook|"
    r"drink|hydrate|exercise|walk|lie|sit|breathe|place|wear|change"
)
_ADVICE = re.compile(
    "|".join(
        (
            r"\byou\s+(?:should|must|need\s+to|have\s+to|ought\s+to|'d\s+better|had\s+better|could\s+try|can\s+try|"
            r"may\s+want\s+to|might\s+want\s+to|might\s+try|may\s+try|can\s+also|could\s+also|should\s+also)\b",
            r"\b(?:you|u)\s+(?:don't|do\s+not|dont|won't|will\s+not)\s+need\b",
            r"\bno\s+need\s+(?:to|for)\b",
            r"\b(?:i|we)\s+(?:would\s+|'d\s+)?(?:recommend|suggest|advise|advice|prescribe)\b",
            r"\b(?:my|our)\s+(?:advice|suggestion|recommendation)\b",
            r"\b(?:it(?:'s|\s+is|\s+would\s+be|\s+may\s+be|\s+might\s+be)|best|better)\s+(?:best|better|good|wise|"
            r"advisable|helpful|important)?\s*to\s+(?:" + _IMPERATIVE_VERBS + r")\b",
            r"\b(?:may|might|will|can|could|should|would)\s+(?:\w+\s+)?(?:help|relieve|ease|soothe|cure|heal|fix)\b",
            r"\b(?:is|are)\s+(?:very\s+)?(?:good|great|best|helpful|useful|effective|beneficial)\s+for\b",
            r"\bhelps?\s+(?:with|to\s+(?:relieve|reduce|ease|soothe)|relieve|reduce|ease|soothe|cure)\b",
            r"\bhome\s+remed(?:y|ies)\b|\bgharelu\s+(?:upay|nuskhe?|ilaaj)\b|\bnuskh[ae]\b",
            r"\b(?:your|the|this)\s+(?:case|consultation|assessment)\s+is\s+(?:complete|done|over|finished|closed)\b",
            r"\b(?:nothing\s+to\s+worry|not\s+(?:serious|worrying|a\s+concern)|you(?:'re|\s+are|\s+will\s+be)\s+"
            r"(?:fine|ok|okay|alright|all\s+right|healthy|cured))\b",
        )
    ),
    re.IGNORECASE,
)
# An instruction at the start of a statement: "Try drinking warm water.", "Start taking vitamin D",
# "Please apply coconut oil."; "Do you ...?", "Tell me ..." and "Got it" are not in the list.
_IMPERATIVE = re.compile(
    r"^\W*(?:(?:please|just|simply|also|so|then|and|maybe|perhaps|meanwhile|for\s+now|in\s+the\s+meantime|"
    r"for\s+relief|at\s+home)[\s,]+){0,2}(?:" + _IMPERATIVE_VERBS + r")\b",
    re.IGNORECASE,
)
# Hindi and Hinglish instructions: "garam paani piyo", "dawai band kar do", "aaram kijiye", "तेल लगाइए".
_ADVICE_HINDI = re.compile(
    _B + r"(?:piyo|peeyo|pijiye|peejiye|pijiyega|piyein|piyen|piye|pi\s+lo|pi\s+lijiye|khao|khaiye|khaaiye|khayiye|"
    r"khayein|khaen|kha\s+lo|kha\s+lijiye|lagao|lagaiye|lagaaiye|lagayein|lagaen|laga\s+lo|laga\s+lijiye|"
    r"lijiye|lijie|le\s+lo|le\s+lijiye|lein|chhod\s+do|chod\s+do|chhod\s+dijiye|chod\s+dijiye|chhodiye|chodiye|"
    r"band\s+kar\s+(?:do|dijiye|dein|den|de)|band\s+karo|band\s+kariye|band\s+karein|"
    r"(?:aaram|aram|rest|malish|maalish|sikai|sekai|garare|gargle|bhap|bhaap|steam|parhez|parhej|perhez|"
    r"exercise|yoga|walk)\s+(?:karo|kariye|karein|karen|kijiye|kijie|lo|lijiye|lein|do)|"
    r"avoid\s+kar\w*|mat\s+(?:khao|piyo|lo|karo|khaiye|lijiye|pijiye)|"
    r"पियो|पीजिए|पीजिये|पिएं|पियें|खाओ|खाइए|खाइये|खाएं|लगाओ|लगाइए|लगाइये|लगाएं|लीजिए|लीजिये|लें|ले\s+लो|"
    r"छो(?:ड़|ड\u093c)\s+(?:दो|दें|दीजिए)|छो(?:ड़|ड\u093c)िए|बंद\s+कर\s+(?:दो|दें|दीजिए)|"
    r"(?:आराम|मालिश|सिकाई|गरारे|भाप|परहेज़?)\s+(?:करो|करें|कीजिए|कीजिये|लें|लीजिए)|मत\s+(?:खाओ|पियो|लो|खाइए))" + _E_DANDA,
    re.IGNORECASE,
)


def _has_advice(text: str) -> bool:
    if _ADVICE.search(text) or _ADVICE_HINDI.search(text):
        return True
    return any(_IMPERATIVE.search(sentence) for sentence in _sentences(text) if not _is_question(sentence))


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# "You have <condition>" / "you might have <condition>" in a statement. Not
# after "do/did/if/whether ..." ("Do you have any allergies?"), and not before
# a participle or a filler word ("you have been", "you have mentioned", "the
# pain you have in the morning").
_YOU_HAVE = re.compile(
    r"\b(\w+\s+)?you(?:\s+(?:might|may|could|must|probably|likely|definitely|clearly|seem\s+to|appear\s+to))?"
    r"(?:\s+have|'ve)(?:\s+got)?\s+([\w-]+)",
    re.IGNORECASE,
)
_YOU_HAVE_BEFORE = _words(
    "do did does if whether when while what which that all everything anything something as since how "
    "where why who whatever once because pain pains symptom symptoms complaint complaints problem problems "
    "trouble issue issues discomfort feeling feelings cough fever rash itching headache headaches concern "
    "concerns question questions worry worries fear fears dream dreams craving cravings aversion aversions"
)
_YOU_HAVE_AFTER = _words(
    "been had done gone got told said made taken given seen felt shared written "
    "to already just also always ever never any some no not more less much many enough "
    "in on at with there here now right when while since for about it this that these those them "
    "so very really lived tried today tonight now currently recently lately sometimes often usually "
    "otherwise"
)
# "I do not diagnose or prescribe" is the assistant describing itself, not a diagnosis.
_DIAGNOSIS_WORD = re.compile(
    r"(?<!\bnot\s)(?<!n't\s)(?<!\bnever\s)(?<!\bcannot\s)\bdiagnos(?:is|es|ed|e|ing)\b", re.IGNORECASE
)

# --- links --------------------------------------------------------------------------
_LINK = re.compile(
    r"\bhttps?://|\bwww\.|\b[a-z0-9-]+\.(?:com|in|org|net|io|info|health|app|gov|edu)\b(?:/\S*)?",
    re.IGNORECASE,
)

# Sentences for the rules that depend on whether a sentence is a question.
_SENTENCE = re.compile(r"[^.?!।\n]+[.?!।]*")


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?")


def _has_dose(text: str) -> bool:
    if _DOSE.search(text) or _Q_POTENCY.search(text) or _DOSE_HINDI.search(text):
        return True
    for sentence in _sentences(text):
        if _FREQUENCY.search(sentence) and (not _is_question(sentence) or _DOSING_VERB.search(sentence)):
            return True
    return False


def _has_diagnosis(text: str) -> bool:
    if _DIAGNOSIS.search(text) or _HEDGED_DIAGNOSIS.search(text):
        return True
    for sentence in _sentences(text):
        if _is_question(sentence):
            continue
        if _HINDI_DIAGNOSIS.search(sentence):
            return True
        if _DIAGNOSIS_WORD.search(sentence):
            return True
        for match in _YOU_HAVE.finditer(sentence):
            before = (match.group(1) or "").strip().lower()
            after = match.group(2).lower()
            if before in _YOU_HAVE_BEFORE or after in _YOU_HAVE_AFTER or after.endswith("ed"):
                continue
            return True
    return False


def _raises_alarm(text: str) -> bool:
    # Imported here: the guard is a sibling module and this one must import without it.
    from consultations.intake import guard

    return guard.assess(text).level != "routine"


def check(text: str) -> tuple[str, ...]:
    """() if `text` may be shown to the patient; else why not (see the module docstring)."""
    # Models write typographic apostrophes ("you’ve", "it’s"); the rules are written with plain ones.
    text = text.replace("\u2019", "'")
    reasons: list[str] = []
    remedies = list(_REMEDY.finditer(text))
    if remedies:
        reasons.append("remedy")
    # A bare number after a remedy's name is its potency: "Nux vomica 200".
    if _has_dose(text) or any(_POTENCY_AFTER.match(text, m.end()) for m in remedies):
        reasons.append("dose")
    if _has_diagnosis(text):
        reasons.append("diagnosis")
    # Advice is the catch-all for treatment talk: not repeated when a remedy or dose already says it.
    if not {"remedy", "dose"} & set(reasons) and _has_advice(text):
        reasons.append("advice")
    if text.strip() and _raises_alarm(text):
        reasons.append("red_flag")
    if _LINK.search(text):
        reasons.append("link")
    return tuple(reasons)
