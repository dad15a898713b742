"""consultations.intake.providers: the engine's words, or a model's when they are safe, over a real socket."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from consultations.intake.providers import (
    HISTORY_TURNS,
    LocalProvider,
    OpenAIProvider,
    Reply,
    Turn,
    build_messages,
    get_provider,
)
from dhanwantari.testing.fake_openai import FakeOpenAI, closed_port_url

QUESTION = "What makes it worse? For example: cold air, noise, morning, eating, moving."
TOPIC = "modalities: what makes the complaint worse"
PATIENT_SAYS = "My head throbs on the right side since Tuesday"
TURN = Turn(
    question=QUESTION,
    history=(("assistant", "Where exactly do you feel it?"), ("patient", PATIENT_SAYS)),
    topic=TOPIC,
)


@pytest.fixture
def fake(settings):
    """A running FakeOpenAI with the AI_* settings pointing at it (timeouts short, for the failure tests)."""
    with FakeOpenAI() as server:
        for name, value in server.settings(timeout=2.0, connect_timeout=1.0).items():
            setattr(settings, name, value)
        yield server


def openai_reply(on_delta=None, turn: Turn = TURN) -> Reply:
    return get_provider("openai").reply(turn, on_delta=on_delta)


def assert_fell_back(reply: Reply, reason: str) -> None:
    assert reply == Reply(QUESTION, "openai", fell_back=True, reason=reason, filtered=reply.filtered)


# --- choosing a provider --------------------------------------------------------------------


def test_get_provider_follows_the_setting(settings):
    settings.AI_PROVIDER = "local"
    assert isinstance(get_provider(), LocalProvider)
    settings.AI_PROVIDER = "openai"
    assert isinstance(get_provider(), OpenAIProvider)
    assert isinstance(get_provider("local"), LocalProvider)


def test_an_unknown_provider_is_a_configuration_error():
    with pytest.raises(ImproperlyConfigured, match="claude-on-a-napkin"):
        get_provider("claude-on-a-napkin")


def test_the_local_provider_returns_the_question_unchanged_and_streams_nothing():
    deltas = []
    reply = LocalProvider().reply(TURN, on_delta=deltas.append)
    assert reply == Reply(QUESTION, "local")
    assert not reply.fell_back
    assert deltas == []


# --- the request --------------------------------------------------------------------------


def test_the_model_words_the_question_and_on_delta_sees_whole_sentences(fake):
    fake.stream(
        ["Thank you", ", that helps.", " What makes", " the throbbing worse —", " cold air or noise?"], delay=0.02
    )
    deltas = []

    reply = openai_reply(deltas.append)

    text = "Thank you, that helps. What makes the throbbing worse — cold air or noise?"
    assert reply == Reply(text, "openai")
    # Growing, whole sentences only, and never a half-written one.
    assert deltas == ["Thank you, that helps.", text]


def test_the_request_carries_the_model_the_key_the_rules_and_the_question(fake, settings):
    fake.stream(["What makes it worse?"])
    openai_reply()

    [request] = fake.requests
    assert request.path == "/v1/chat/completions"  # the base's trailing slash is not doubled
    assert request.headers["Authorization"] == f"Bearer {settings.AI_API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    body = request.body
    assert body["model"] == fake.model
    assert body["stream"] is True
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 200
    system = body["messages"][0]
    assert system["role"] == "system"
    assert "homeopathy" in system["content"]
    assert "Never name a remedy" in system["content"]
    assert "never give a dose" in system["content"]
    assert "Never diagnose" in system["content"]
    assert "Hinglish" in system["content"]
    assert body["messages"][1:3] == [
        {"role": "assistant", "content": "Where exactly do you feel it?"},
        {"role": "user", "content": PATIENT_SAYS},
    ]
    last = body["messages"][-1]
    assert last["role"] == "system"
    assert last["content"].startswith("Write one short sentence acknowledging the patient's last answer.")
    assert last["content"].endswith(f"This question will follow your sentence: {QUESTION}\n(It asks about: {TOPIC}.)")
    assert TOPIC in last["content"]


def test_only_the_recent_history_is_sent():
    history = tuple(("patient" if i % 2 else "assistant", f"message {i}") for i in range(30))
    messages = build_messages(Turn(question="Q?", history=history))
    sent = [m["content"] for m in messages[1:-1]]
    assert sent == [f"message {i}" for i in range(30 - HISTORY_TURNS, 30)]


def test_a_server_that_ignores_stream_answers_in_one_json(fake):
    fake.complete("Thanks. What makes it worse?")
    deltas = []
    reply = openai_reply(deltas.append)
    assert reply == Reply("Thanks. What makes it worse?", "openai")
    assert deltas == ["Thanks. What makes it worse?"]


def test_a_stream_that_ends_with_finish_reason_but_no_done_is_accepted(fake):
    fake.stream(["What makes it worse?"], done=False)
    assert openai_reply() == Reply("What makes it worse?", "openai")


def test_a_hindi_reply_streams_at_the_danda(fake):
    fake.stream(["धन्यवाद। ", "दर्द किस चीज़ से बढ़ता है?"])
    deltas = []
    reply = openai_reply(deltas.append)
    assert reply.text == "धन्यवाद। दर्द किस चीज़ से बढ़ता है?"
    assert deltas == ["धन्यवाद।", reply.text]


def test_a_failing_on_delta_does_not_lose_the_reply(fake):
    fake.stream(["Thanks. ", "What makes it worse?"])

    def broken(text):
        raise ConnectionError("the websocket went away")

    assert openai_reply(broken) == Reply("Thanks. What makes it worse?", "openai")


# --- falling back ---------------------------------------------------------------------------


def test_a_server_that_hangs_times_out(fake, settings):
    settings.AI_TIMEOUT_SECONDS = 0.5
    fake.hang(30)
    started = time.monotonic()
    reply = openai_reply()
    assert_fell_back(reply, "timeout")
    assert time.monotonic() - started < 5


def test_a_server_that_trickles_forever_is_cut_off_at_the_deadline(fake, settings):
    settings.AI_TIMEOUT_SECONDS = 0.5
    fake.trickle(interval=0.05)  # every wait is short: only the overall deadline can stop it
    deltas = []
    started = time.monotonic()
    reply = openai_reply(deltas.append)
    assert_fell_back(reply, "timeout")
    assert deltas == []
    assert time.monotonic() - started < 5


def test_a_server_that_trickles_its_headers_is_cut_off_at_the_deadline(fake, settings):
    settings.AI_TIMEOUT_SECONDS = 0.5
    fake.trickle_headers(interval=0.05)
    started = time.monotonic()
    assert_fell_back(openai_reply(), "timeout")
    assert time.monotonic() - started < 5


def test_an_http_500_falls_back(fake):
    fake.respond(500, '{"error": {"message": "The server had an error", "type": "server_error"}}')
    assert_fell_back(openai_reply(), "http_error")


def test_a_wrong_key_is_an_http_error(fake, settings):
    settings.AI_API_KEY = "sk-not-the-right-one"
    assert_fell_back(openai_reply(), "http_error")
    assert len(fake.requests) == 1


def test_a_closed_port_is_a_connection_failure(settings):
    settings.AI_BASE_URL = closed_port_url()
    settings.AI_API_KEY = "sk-anything"
    assert_fell_back(openai_reply(), "connection")


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("respond", (200, "<html>Bad gateway</html>", "text/html")),
        ("respond", (200, '{"id": "chatcmpl-1", "object": "chat.completion"}')),
        ("respond", (200, '{"choices": [{"message": {"content": 42}}]}')),
        ("respond", (200, '["not", "an", "object"]')),
        ("stream_lines", (["data: {not json", "", "data: [DONE]"],)),
        ("stream_lines", (['data: {"choices": [{"delta": {"content": "How long"}}]}', ""],)),  # cut off
        ("stream_lines", (['data: {"choices": "nope"}', ""],)),
        ("stream_lines", (['data: {"choices": [{"delta": {"content": "How"}, "finish_reason": "length"}]}'],)),
        ("stream_lines", (["data: " + '{"choices": [{"delta": {"content": "' + "a" * 1001 + '"}}]}', ""],)),
    ],
    ids=[
        "html",
        "no-choices",
        "content-not-text",
        "json-array",
        "sse-not-json",
        "sse-no-done",
        "sse-bad-choices",
        "sse-truncated-by-max-tokens",
        "too-long",
    ],
)
def test_a_malformed_reply_falls_back(fake, script, args):
    getattr(fake, script)(*args)
    deltas = []
    assert_fell_back(openai_reply(deltas.append), "malformed")
    assert deltas == []


def test_a_stream_cut_off_after_a_sentence_falls_back_after_streaming_it(fake):
    # on_delta has shown "Thanks." already: the caller replaces it with the Reply's text.
    fake.stream_lines(['data: {"choices": [{"delta": {"content": "Thanks. What makes"}}]}', ""])
    deltas = []
    assert_fell_back(openai_reply(deltas.append), "malformed")
    assert deltas == ["Thanks."]


def test_an_empty_reply_falls_back(fake):
    fake.stream(["  ", ""])
    assert_fell_back(openai_reply(), "empty")


def test_a_reply_that_prescribes_is_filtered_and_never_streamed(fake):
    fake.stream(["Take Arnica ", "30C three times ", "a day."])
    deltas = []

    reply = openai_reply(deltas.append)

    assert_fell_back(reply, "filtered")
    assert "remedy" in reply.filtered
    assert "dose" in reply.filtered
    assert deltas == []


def test_a_clean_sentence_streams_and_the_prescription_after_it_does_not(fake):
    fake.stream(["Thank you for telling me. ", "Nux vomica 200 ", "may help. ", "What makes it worse?"], delay=0.02)
    deltas = []

    reply = openai_reply(deltas.append)

    assert_fell_back(reply, "filtered")
    assert reply.filtered == ("remedy", "dose")
    assert deltas == ["Thank you for telling me."]
    # Stopped reading at the bad sentence: the caller shows QUESTION in place of the streamed text.


def test_a_reply_with_a_link_is_filtered(fake):
    fake.complete("Please read https://example.com first. What makes it worse?")
    reply = openai_reply()
    assert_fell_back(reply, "filtered")
    assert reply.filtered == ("link",)


def test_without_a_key_nothing_is_sent(fake, settings):
    settings.AI_API_KEY = ""
    assert_fell_back(openai_reply(), "not_configured")
    assert fake.requests == []


def test_a_base_url_that_is_not_http_is_not_configured(settings):
    settings.AI_BASE_URL = "file:///etc/passwd"
    settings.AI_API_KEY = "sk-anything"
    assert_fell_back(openai_reply(), "not_configured")


def test_the_key_and_the_conversation_never_reach_the_logs(fake, settings, caplog):
    caplog.set_level(logging.DEBUG)
    scripts = [
        lambda: fake.respond(500, "{}"),
        lambda: fake.respond(200, "garbage"),
        lambda: fake.stream([f"You said: {PATIENT_SAYS}. Take Arnica 30C."]),
        lambda: fake.hang(30),
    ]
    settings.AI_TIMEOUT_SECONDS = 0.5
    for script in scripts:
        script()
        assert openai_reply().fell_back
    settings.AI_BASE_URL = closed_port_url()
    assert openai_reply().fell_back

    warnings = [r for r in caplog.records if r.name == "consultations.intake.providers"]
    assert len(warnings) == 5
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert settings.AI_API_KEY not in caplog.text
    assert "Bearer" not in caplog.text
    assert PATIENT_SAYS not in caplog.text
    assert "Arnica" not in caplog.text
    assert "(filtered): remedy,dose" in caplog.text


def test_the_provider_does_not_show_its_key_in_a_repr(settings):
    settings.AI_API_KEY = "sk-secret-in-repr"
    assert "sk-secret-in-repr" not in repr(get_provider("openai"))
