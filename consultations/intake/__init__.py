"""The AI intake assistant: takes a homeopathic case, triages it, hands it to a doctor.

An AI consultation is a Consultation of type "ai" with no doctor; its other
party is the assistant, a User that cannot sign in (services.assistant_user)
and is the sender of every assistant message in `messages`.

The parts, each in its own module, each usable and testable alone:

- guard.py      Deterministic red-flag rules (English, Devanagari Hindi,
                romanised Hindi; typo- and negation-tolerant). assess(text)
                -> Verdict(level, rules). Runs on every patient message
                before any model is asked; an emergency stops case-taking.
- engine.py     The offline case-taking engine: pure functions over the case
                (the consultation's `symptoms`, shape in consultations.schemas).
                Decides what is asked next, in the homeopathic order, and
                records each answer. Deterministic; the tests use it.
- providers.py  Who words the next message: "local" (the engine's own words)
                or "openai" (an OpenAI-compatible chat-completions endpoint,
                streamed; on timeout, error, a malformed reply or a filtered
                one, the engine's words are used). The engine, never a model,
                decides what is recorded in the case.
- output_filter.py  What a model wrote may not reach the patient if it names
                a remedy, gives a dose, states a diagnosis or trips the guard.
- services.py   The state changes: start (after consent), a patient message
                (guard -> record -> reply), pause/resume, the hand-off that
                attaches the case to a booking.

The consumer and the room page call services; nothing else writes the case.
"""
