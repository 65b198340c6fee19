import threading
import time

import pytest

from openregister.errors import ProviderError, ProviderTimeout, ProviderUnavailable
from openregister.providers import LlmSettings, joined, provider_for
from openregister.providers.offline import OfflineProvider
from openregister.providers.openai_compatible import OLLAMA_BASE_URL, OpenAICompatibleProvider

from .llm_server import LlmServer

SECRET = "sk-test-secret"
QUESTION = [{"role": "user", "content": "What is OpenRegister?"}]


@pytest.fixture
def llm_server():
    with LlmServer() as server:
        yield server


def openai_settings(base_url, **overrides):
    values = {"provider": "openai", "base_url": base_url, "api_key": None, "model": "test-model", "timeout": 5.0}
    values.update(overrides)
    return LlmSettings(**values)


def test_settings_come_from_the_app_config_keys():
    config = {"LLM_PROVIDER": "openai", "LLM_BASE_URL": "http://llm/v1", "LLM_API_KEY": SECRET,
              "LLM_MODEL": "m", "LLM_TIMEOUT": "2.5", "LLM_ALLOWED_BASE_URLS": "http://a/v1/, http://b/v1"}
    settings = LlmSettings.from_config(config)
    assert settings == LlmSettings(provider="openai", base_url="http://llm/v1", api_key=SECRET, model="m", timeout=2.5,
                                   allowed_base_urls=("http://a/v1", "http://b/v1"))
    assert SECRET not in repr(settings)


def test_offline_provider_restates_the_last_question_and_says_what_it_is():
    messages = [{"role": "user", "content": "First?"}, {"role": "assistant", "content": "A."},
                {"role": "user", "content": "Second?"}]
    reply = joined(OfflineProvider().stream("prompt", messages, model=None, temperature=None, max_tokens=None))
    assert reply.startswith('You asked: "Second?"')
    assert "offline provider" in reply


def test_offline_provider_is_deterministic():
    first = joined(OfflineProvider().stream("prompt", QUESTION))
    second = joined(OfflineProvider().stream("other prompt", QUESTION, model="x", temperature=1.0, max_tokens=5))
    assert first == second


@pytest.mark.parametrize("name", [None, "", "  "])
def test_no_provider_name_means_the_configured_default(name, llm_server):
    assert isinstance(provider_for(name, LlmSettings()), OfflineProvider)
    assert isinstance(provider_for(name, openai_settings(llm_server.url())), OpenAICompatibleProvider)


@pytest.mark.parametrize("name", ["openai", "OpenAI", " ollama "])
def test_openai_names_pick_the_openai_compatible_provider(name):
    assert isinstance(provider_for(name, LlmSettings()), OpenAICompatibleProvider)


def test_unknown_provider_is_unavailable():
    with pytest.raises(ProviderUnavailable) as raised:
        provider_for("fireworks", LlmSettings())
    assert raised.value.status == 503
    assert "fireworks" in raised.value.message


def test_ollama_defaults_to_the_local_ollama_endpoint():
    assert provider_for("ollama", LlmSettings()).base_url == OLLAMA_BASE_URL


def test_ollama_uses_a_configured_base_url(llm_server):
    reply = joined(provider_for("ollama", openai_settings(llm_server.url())).stream("Be brief.", QUESTION))
    assert reply == "Echo: What is OpenRegister?"
    assert llm_server.requests[0]["path"] == "/ok/v1/chat/completions"


def test_openai_provider_posts_a_chat_completion_request(llm_server):
    provider = provider_for("openai", openai_settings(llm_server.url()))
    reply = joined(provider.stream("Be brief.", QUESTION, model="agent-model", temperature=0.2, max_tokens=64))
    assert reply == "Echo: What is OpenRegister?"
    [request] = llm_server.requests
    assert request["path"] == "/ok/v1/chat/completions"
    assert request["body"] == {
        "model": "agent-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is OpenRegister?"}],
        "stream": True,
        "temperature": 0.2,
        "max_tokens": 64,
    }


def test_openai_provider_leaves_out_unset_temperature_and_max_tokens(llm_server):
    joined(provider_for("openai", openai_settings(llm_server.url())).stream("Be brief.", QUESTION))
    assert set(llm_server.requests[0]["body"]) == {"model", "messages", "stream"}


def test_configured_model_serves_an_agent_without_one(llm_server):
    joined(provider_for("openai", openai_settings(llm_server.url(), model="server-model")).stream("p", QUESTION, model=None))
    assert llm_server.requests[0]["body"]["model"] == "server-model"


def test_api_key_is_sent_as_bearer_token(llm_server):
    joined(provider_for("openai", openai_settings(llm_server.url(), api_key=SECRET)).stream("p", QUESTION))
    assert llm_server.requests[0]["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_no_api_key_sends_no_authorization(llm_server):
    joined(provider_for("openai", openai_settings(llm_server.url())).stream("p", QUESTION))
    assert "Authorization" not in llm_server.requests[0]["headers"]


def test_agent_base_url_overrides_the_configured_one_without_the_api_key(llm_server, closed_port_url):
    settings = openai_settings(closed_port_url, api_key=SECRET, allowed_base_urls=(llm_server.url(),))
    joined(provider_for("openai", settings, base_url=llm_server.url()).stream("p", QUESTION))
    [request] = llm_server.requests
    assert request["path"] == "/ok/v1/chat/completions"
    assert "Authorization" not in request["headers"]


@pytest.mark.parametrize("status", [400, 401, 404, 429, 500, 503])
def test_error_status_is_a_provider_error(status, llm_server):
    provider = provider_for("openai", openai_settings(llm_server.url(f"status/{status}"), api_key=SECRET))
    with pytest.raises(ProviderError) as raised:
        joined(provider.stream("p", QUESTION))
    assert raised.value.status == 502
    assert str(status) in raised.value.message
    assert SECRET not in raised.value.message


@pytest.mark.parametrize("behaviour", ["malformed", "not-json"])
def test_malformed_answer_is_a_provider_error(behaviour, llm_server):
    with pytest.raises(ProviderError) as raised:
        joined(provider_for("openai", openai_settings(llm_server.url(behaviour))).stream("p", QUESTION))
    assert raised.value.status == 502


def test_slow_answer_is_a_timeout(llm_server):
    provider = provider_for("openai", openai_settings(llm_server.url("slow"), timeout=0.2))
    with pytest.raises(ProviderTimeout) as raised:
        joined(provider.stream("p", QUESTION))
    assert raised.value.status == 504


def test_refused_connection_is_unavailable(closed_port_url):
    with pytest.raises(ProviderUnavailable) as raised:
        joined(provider_for("openai", openai_settings(closed_port_url, api_key=SECRET)).stream("p", QUESTION))
    assert raised.value.status == 503
    assert SECRET not in raised.value.message


def test_missing_base_url_is_unavailable():
    with pytest.raises(ProviderUnavailable) as raised:
        joined(provider_for("openai", openai_settings(None)).stream("p", QUESTION))
    assert "OPENREGISTER_LLM_BASE_URL" in raised.value.message


def test_missing_model_is_unavailable(llm_server):
    with pytest.raises(ProviderUnavailable):
        joined(provider_for("openai", openai_settings(llm_server.url(), model=None)).stream("p", QUESTION))
    assert llm_server.requests == []


def test_an_agent_base_url_the_operator_did_not_allow_is_refused(llm_server, closed_port_url):
    with pytest.raises(ProviderUnavailable):
        joined(provider_for("openai", openai_settings(closed_port_url), base_url=llm_server.url()).stream("p", QUESTION))
    assert llm_server.requests == []


def test_offline_provider_answers_word_by_word():
    pieces = list(OfflineProvider().stream("prompt", [{"role": "user", "content": "  Two  words\n"}]))
    assert len(pieces) > 10
    assert pieces[:4] == ["You ", "asked: ", '"  ', 'Two  ']
    assert "".join(pieces) == OfflineProvider.reply_text([{"role": "user", "content": "  Two  words\n"}])


def test_openai_provider_forwards_each_streamed_delta(llm_server):
    pieces = list(provider_for("openai", openai_settings(llm_server.url())).stream("p", QUESTION))
    assert pieces == ["Echo: ", "What ", "is ", "OpenRegister?"]
    assert llm_server.requests[0]["body"]["stream"] is True


def test_a_plain_completion_to_a_stream_request_is_one_piece(llm_server):
    pieces = list(provider_for("openai", openai_settings(llm_server.url("plain"))).stream("p", QUESTION))
    assert pieces == ["Echo: What is OpenRegister?"]


@pytest.mark.parametrize("behaviour", ["break-off", "no-done", "stream-malformed"])
def test_a_stream_that_breaks_off_or_ends_without_done_is_a_provider_error(behaviour, llm_server):
    received = []
    with pytest.raises(ProviderError) as raised:
        for piece in provider_for("openai", openai_settings(llm_server.url(behaviour))).stream("p", QUESTION):
            received.append(piece)
    assert raised.value.status == 502
    assert received == {"break-off": ["Echo: ", "What "], "no-done": ["Echo: ", "What ", "is ", "OpenRegister?"],
                        "stream-malformed": []}[behaviour]


def test_a_piece_that_does_not_come_in_time_is_a_timeout(llm_server):
    stream = provider_for("openai", openai_settings(llm_server.url("drip/1"), timeout=0.2)).stream("p", QUESTION)
    with pytest.raises(ProviderTimeout) as raised:
        list(stream)
    assert raised.value.status == 504


def test_slow_pieces_each_in_time_are_no_timeout(llm_server):
    stream = provider_for("openai", openai_settings(llm_server.url("drip/0.1"), timeout=0.5)).stream("p", QUESTION)
    assert joined(stream) == "Echo: What is OpenRegister?"


def test_closing_from_another_thread_ends_the_wait_and_the_connection(llm_server):
    stream = provider_for("openai", openai_settings(llm_server.url("drip/30"), timeout=60)).stream("p", QUESTION)
    received = []
    reader = threading.Thread(target=lambda: received.extend(stream))
    reader.start()
    while not llm_server.requests:
        time.sleep(0.01)
    time.sleep(0.2)
    stream.close()
    reader.join(5)
    assert not reader.is_alive() and received == []
    assert llm_server.departed.wait(5)
