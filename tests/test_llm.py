"""Optional generation: configuration, the wire protocol, marker checking, fallbacks, and every front-end.

The LLM is tests/fake_llm_server.py on loopback. Most tests use the hash embedder, whose passages rarely
count as an answer, so they patch the support verdict to found=True where they need it.
"""

from __future__ import annotations

import json
import random
import socket
import time

import httpx
import openai
import pytest
from conftest import SAMPLE
from fake_llm_server import ANSWER, SLOW_S, fake_llm

from api.cli import main
from api.http import create_app
from api.serve import running_server
from qa.answer import Answer, Citation
from qa.engine import Engine
from qa.llm import (
    ENV_API_KEY,
    ENV_BASE_URL,
    ENV_MODEL,
    ENV_TIMEOUT,
    NOT_CONFIGURED,
    GenerationStream,
    Generator,
    LLMClient,
    LLMConfig,
    LLMError,
    MarkerChecker,
    build_messages,
    check_markers,
    load_config,
)
from qa.support import Support

QUESTION = "磨憨有哪些优势？"  # a top-k question (corpus-wide answers are not rewritten by the LLM path tested here)
CHECKED = "答案是浙江油气[1]，另见。"  # ANSWER with its invalid [9] removed
DOC = "昆明市加快承接产业转移。浙江油气、经纬先达落地磨憨。沪滇临港昆明科技城总投资约14亿元。"


@pytest.fixture(autouse=True)
def no_llm_env(monkeypatch):
    """No LLM settings leak in from the environment the tests run in."""
    for name in (ENV_BASE_URL, ENV_MODEL, ENV_API_KEY, ENV_TIMEOUT):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def llm():
    """(base URL, recorded requests) of the fake endpoint, shared by the module."""
    with fake_llm() as server:
        yield server


def use_llm(monkeypatch, base: str, model: str = "echo", key: str | None = None) -> None:
    monkeypatch.setenv(ENV_BASE_URL, base)
    monkeypatch.setenv(ENV_MODEL, model)
    if key:
        monkeypatch.setenv(ENV_API_KEY, key)


def config(base: str, model: str = "echo", **kw) -> LLMConfig:
    return LLMConfig(base_url=base, model=model, **{"connect_timeout": 2.0, "read_timeout": 5.0, **kw})


def citation(n: int, quote: str, doc_id: str = "kunming/doc") -> Citation:
    start = DOC.index(quote)
    return Citation(n, doc_id, f"{doc_id}#0", f"标题{n}", "2025-03-24", "昆明信息港", None, quote,
                    start, start + len(quote), start, start + len(quote), 0.9)


def make_answer(found: bool = True) -> Answer:
    cites = [citation(1, "浙江油气、经纬先达落地磨憨。"), citation(2, "沪滇临港昆明科技城总投资约14亿元。")]
    return Answer(QUESTION, "浙江油气、经纬先达 [1]。依据：浙江油气、经纬先达落地磨憨。[1]", cites, "list", found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def found(monkeypatch):
    """Every retrieved set of passages counts as an answer (the hash embedder's cosines are low)."""
    monkeypatch.setattr("qa.answer.judge_support", lambda *_a: Support(True, 0.9, 0.9, "patched"))


@pytest.fixture
def engine(hash_env) -> Engine:
    """A hash-embedder engine over the sample article, in the data dir that the CLI uses too."""
    from api.config import embedder_from_env

    engine = Engine(hash_env, embedder_from_env())
    assert engine.ingest_paths([SAMPLE]).as_dict()["added"] == 1
    return engine


# ----- configuration ---------------------------------------------------------------------------------------
def test_config_from_env_wins_over_config_json():
    section = {"base_url": "http://file:1/v1", "model": "file-model", "read_timeout": 30, "max_context_chars": 900}
    assert load_config(None, {}) is None
    got = load_config(section, {})
    assert (got.base_url, got.model, got.read_timeout, got.max_context_chars, got.api_key) == (
        "http://file:1/v1", "file-model", 30.0, 900, None)
    env = {ENV_BASE_URL: "http://env:2/v1/", ENV_MODEL: "env-model", ENV_API_KEY: "k", ENV_TIMEOUT: "7.5"}
    got = load_config(section, env)
    assert (got.base_url, got.model, got.read_timeout, got.api_key) == ("http://env:2/v1/", "env-model", 7.5, "k")
    assert got.url == "http://env:2/v1/chat/completions" and got.connect_timeout == 5.0
    assert config("http://x/v1/chat/completions").url == "http://x/v1/chat/completions"


@pytest.mark.parametrize(
    ("section", "env", "needle"),
    [
        ({"base_url": "http://x/v1"}, {}, ENV_MODEL),
        ({"base_url": "http://x/v1", "model": "m", "api_key": "k"}, {}, ENV_API_KEY),
        ({"base_url": "http://x/v1", "model": "m", "read_timout": 5}, {}, "read_timout"),
        ({"base_url": "http://x/v1", "model": "m", "read_timeout": -1}, {}, "read_timeout"),
        ({"base_url": "http://x/v1", "model": "m"}, {ENV_TIMEOUT: "soon"}, ENV_TIMEOUT),
        ({"base_url": "http://x/v1", "model": "m"}, {ENV_TIMEOUT: "nan"}, "read_timeout"),
        ({"base_url": "http://x/v1", "model": "m", "max_tokens": True}, {}, "max_tokens"),
        ("http://x/v1", {}, "object"),
    ],
)
def test_bad_config_is_a_clear_error(section, env, needle):
    with pytest.raises(ValueError, match=needle):
        load_config(section, env)


# ----- markers ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected", "invalid", "used"),
    [
        (ANSWER, CHECKED, [9], [1]),
        ("A [1] and B [9].", "A [1] and B.", [9], [1]),
        ("甲[1, 9]，乙【2】，丙［3］，丁[2、1]", "甲[1]，乙[2]，丙，丁[2][1]", [3, 9], [1, 2]),
        ("[0] [2024] [1", " [2024] [1", [0], []),
        ("no markers at all", "no markers at all", [], []),
    ],
)
def test_check_markers(text, expected, invalid, used):
    checked = check_markers(text, [1, 2])
    assert (checked.text, checked.invalid_markers, checked.used_citations) == (expected, invalid, used)


def test_marker_checking_does_not_depend_on_how_the_text_is_split():
    rng = random.Random(7)
    text = "甲[1]，乙 [9]  丙[1, 2 ,9]【2】 [ 3 ] [12345] [1" + " " * 3 + "[2]\t[8] end ["
    whole = check_markers(text, [1, 2, 3])
    for _ in range(300):
        checker, out, at = MarkerChecker([1, 2, 3]), "", 0
        while at < len(text):
            step = rng.randint(1, 5)
            out += checker.feed(text[at : at + step])
            at += step
        out += checker.close()
        assert out == whole.text and sorted(checker.invalid) == whole.invalid_markers


# ----- prompt ----------------------------------------------------------------------------------------------
def test_messages_number_the_passages_and_stay_bounded():
    answer = make_answer()
    messages, shown = build_messages(QUESTION, answer.citations, config("http://x"), lambda _doc: DOC)
    assert shown == [1, 2] and [m["role"] for m in messages] == ["system", "user"]
    system, user = messages[0]["content"], messages[1]["content"]
    assert "only" in system and "[1]" in system and "language of the question" in system and "cannot answer" in system
    assert "[1] 标题1 (2025-03-24, 昆明信息港)\n" in user and "[2] 标题2 (2025-03-24, 昆明信息港)\n" in user
    assert DOC in user  # short document: the whole of it is the context of each quote
    assert user.endswith("问题：" + QUESTION)

    small = config("http://x", max_passage_chars=20, max_context_chars=30)
    messages, shown = build_messages(QUESTION, answer.citations, small, lambda _doc: DOC)
    assert shown == [1]  # the second passage did not fit
    body = messages[1]["content"].split("\n")[3]
    assert answer.citations[0].quote in body and len(body.strip("…")) <= 20
    messages, _ = build_messages("Which firms?", answer.citations, config("http://x"), None)
    assert "Passages:" in messages[1]["content"] and messages[1]["content"].endswith("Question: Which firms?")
    assert DOC not in messages[1]["content"]  # without the documents, the quotes


# ----- wire protocol ---------------------------------------------------------------------------------------
def test_plain_request_shape_and_bearer_key(llm):
    base, requests = llm
    messages, _ = build_messages(QUESTION, make_answer().citations, config(base))
    before = len(requests)
    assert LLMClient(config(base, api_key="sekrit")).complete(messages) == "passages=1,2。" + ANSWER
    assert LLMClient(config(base, temperature=0.0, max_tokens=64)).generate(messages) == "passages=1,2。" + ANSWER
    keyed, plain = requests[before:]
    assert keyed["body"] == {"model": "echo", "messages": messages, "stream": False}
    assert keyed["headers"]["authorization"] == "Bearer sekrit"
    assert "authorization" not in plain["headers"]
    assert plain["body"]["temperature"] == 0.0 and plain["body"]["max_tokens"] == 64


def test_streamed_request_yields_deltas(llm):
    base, requests = llm
    messages, _ = build_messages(QUESTION, make_answer().citations, config(base))
    deltas = list(LLMClient(config(base, api_key="k")).generate(messages, stream=True))
    assert len(deltas) > 3 and "".join(deltas) == "passages=1,2。" + ANSWER
    assert requests[-1]["body"]["stream"] is True and requests[-1]["headers"]["authorization"] == "Bearer k"
    assert requests[-1]["headers"]["accept"] == "text/event-stream"
    assert "".join(LLMClient(config(base, "nostream")).stream(messages)) == "passages=1,2。" + ANSWER


def test_replies_are_bounded_in_size_and_time(llm):
    base = llm[0]
    messages, _ = build_messages(QUESTION, make_answer().citations, config(base))
    assert LLMClient(config(base, max_answer_chars=5)).complete(messages) == "passa"
    assert "".join(LLMClient(config(base, max_answer_chars=5)).stream(messages)) == "passa"
    started = time.monotonic()
    with pytest.raises(LLMError, match="no complete answer within 0.3 s"):
        list(LLMClient(config(base, "trickle", total_timeout=0.3)).stream(messages))
    assert time.monotonic() - started < 1.5


# ----- generation and fallbacks ----------------------------------------------------------------------------
def test_generated_answer_has_its_markers_checked(llm):
    answer = Generator(config(llm[0])).answer(make_answer())
    assert answer.answer == "passages=1,2。" + CHECKED
    assert answer.extractive_answer == make_answer().answer
    assert answer.generated == {"model": "echo", "text": answer.answer, "invalid_markers": [9],
                                "used_citations": [1], "error": None}


@pytest.mark.parametrize(
    ("model", "needle"),
    [
        ("refused", "cannot connect"),
        ("http500", "HTTP 500"),
        ("garbage", "malformed"),
        ("shape", "malformed"),
        ("slow", "timed out"),
        ("empty", "no text"),
    ],
)
def test_a_failing_endpoint_leaves_the_extractive_answer(llm, model, needle):
    base = f"http://127.0.0.1:{free_port()}/v1" if model == "refused" else llm[0]
    cfg = config(base, model, read_timeout=SLOW_S / 4)
    started = time.monotonic()
    answer = Generator(cfg).answer(make_answer())
    assert time.monotonic() - started < SLOW_S
    assert answer.answer == answer.extractive_answer == make_answer().answer
    assert answer.generated["model"] == model and answer.generated["text"] is None
    assert needle in answer.generated["error"]

    stream = Generator(cfg).stream(make_answer())
    assert isinstance(stream, GenerationStream) and list(stream) == [] and stream.emitted == ""
    assert needle in stream.generated["error"]


def test_stream_generation_matches_plain_and_reports_a_cut(llm):
    plain = Generator(config(llm[0])).answer(make_answer())
    stream = Generator(config(llm[0])).stream(make_answer())
    deltas = list(stream)
    assert len(deltas) > 3 and "".join(deltas) == plain.answer and stream.generated == plain.generated

    cut = Generator(config(llm[0], "cutoff")).stream(make_answer())
    assert "".join(cut) == cut.emitted == "passages"[:6]
    assert "malformed stream" in cut.generated["error"] and cut.generated["text"] is None


# ----- engine ----------------------------------------------------------------------------------------------
def test_engine_asks_the_llm_only_for_found_answers(engine, llm, monkeypatch):
    base, requests = llm
    use_llm(monkeypatch, base)
    monkeypatch.setattr("qa.answer.judge_support", lambda *_a: Support(False, 0.1, 0.0, "patched"))
    before = len(requests)
    answer = engine.ask(QUESTION)
    assert not answer.found and answer.generated is None and answer.answer == answer.extractive_answer
    assert engine.ask(QUESTION, generate=True).generated is None
    assert engine.ask_stream(QUESTION)[1] is None
    assert len(requests) == before


def test_engine_generates_when_configured(engine, llm, monkeypatch, found):
    base, requests = llm
    assert engine.ask(QUESTION).generated is None  # nothing configured: extractive, no record
    assert engine.ask(QUESTION, generate=True).generated["error"] == NOT_CONFIGURED
    use_llm(monkeypatch, base)
    before = len(requests)
    answer = engine.ask(QUESTION)
    assert answer.found and answer.generated["error"] is None and answer.answer.endswith(CHECKED)
    assert answer.answer != answer.extractive_answer and "[1]" in answer.extractive_answer
    sent = requests[-1]["body"]["messages"][1]["content"]
    shown = [c.n for c in answer.citations]
    assert answer.answer.startswith("passages=" + ",".join(map(str, shown)))
    assert all(c.quote in sent for c in answer.citations)
    assert engine.ask(QUESTION, generate=False).generated is None and len(requests) == before + 1
    extractive, stream = engine.ask_stream(QUESTION)
    assert extractive.generated is None and "".join(stream) == answer.answer


def test_config_json_llm_section(engine, llm, monkeypatch, found):
    path = engine.store.data_dir / "config.json"
    cfg = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**cfg, "llm": {"base_url": llm[0], "model": "echo"}}), encoding="utf-8")
    answer = Engine(engine.store.data_dir).ask(QUESTION)
    assert answer.generated["model"] == "echo" and answer.answer.endswith(CHECKED)
    monkeypatch.setenv(ENV_MODEL, "http500")  # the environment wins
    assert "HTTP 500" in Engine(engine.store.data_dir).ask(QUESTION).generated["error"]
    path.write_text(json.dumps({**cfg, "llm": {"base_url": llm[0], "model": "echo", "colour": 1}}), encoding="utf-8")
    answer = Engine(engine.store.data_dir).ask(QUESTION)
    assert "colour" in answer.generated["error"] and answer.answer == answer.extractive_answer


# ----- front-ends ------------------------------------------------------------------------------------------
def test_cli_llm_flag(engine, llm, monkeypatch, capsys, found):
    base, requests = llm

    def ask(*flags: str) -> tuple[dict, str]:
        assert main(["ask", QUESTION, "--json", *flags]) == 0
        out, err = capsys.readouterr()
        return json.loads(out), err

    result, err = ask("--llm")
    assert result["generated"]["error"] == NOT_CONFIGURED and "warning" in err
    use_llm(monkeypatch, base)
    result, _ = ask()
    assert result["answer"].endswith(CHECKED) and result["generated"]["invalid_markers"] == [9]
    before = len(requests)
    result, err = ask("--no-llm")
    assert result["generated"] is None and result["answer"] == result["extractive_answer"] and not err
    assert len(requests) == before
    assert main(["ask", QUESTION, "--llm"]) == 0
    assert CHECKED in capsys.readouterr().out  # human output shows the generated answer


def test_http_ask_generate_option(engine, llm, monkeypatch, found):
    base, requests = llm
    use_llm(monkeypatch, base)
    with running_server(create_app(engine, mcp=False, warm_model=False)) as url, httpx.Client(
            base_url=url, timeout=30) as http:
        body = http.post("/ask", json={"question": QUESTION}).json()
        assert body["answer"].endswith(CHECKED) and body["generated"]["used_citations"] == [1]
        before = len(requests)
        body = http.post("/ask", json={"question": QUESTION, "generate": False}).json()
        assert body["generated"] is None and body["answer"] == body["extractive_answer"]
        assert len(requests) == before
        assert http.post("/ask", json={"question": QUESTION, "generate": "maybe"}).status_code == 422
        monkeypatch.setenv(ENV_MODEL, "http500")
        body = http.post("/ask", json={"question": QUESTION, "generate": True}).json()
        assert "HTTP 500" in body["generated"]["error"] and body["answer"] == body["extractive_answer"]


def test_chat_streams_the_llm_then_the_sources(engine, llm, monkeypatch, found):
    use_llm(monkeypatch, llm[0])
    with running_server(create_app(engine, mcp=False, warm_model=False)) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
        messages = [{"role": "user", "content": QUESTION}]
        plain = client.chat.completions.create(model="policyqa", messages=messages)
        chunks = list(client.chat.completions.create(model="policyqa", messages=messages, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert streamed == plain.choices[0].message.content
        answer, _, sources = streamed.partition("\n\nSources:\n")
        assert answer.startswith("passages=") and answer.endswith(CHECKED) and sources.startswith("[1] ")
        assert chunks[-1].model_extra["sources"] == plain.model_extra["sources"]
        assert sum(bool(c.choices[0].delta.content) for c in chunks) > 5  # the model's deltas, passed on

        monkeypatch.setenv(ENV_MODEL, "http500")
        chunks = list(client.chat.completions.create(model="policyqa", messages=messages, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
        extractive = engine.ask(QUESTION, generate=False).answer
        assert streamed.startswith(extractive + "\n\nSources:\n[1] ")
        monkeypatch.setenv(ENV_MODEL, "cutoff")
        chunks = list(client.chat.completions.create(model="policyqa", messages=messages, stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
        assert streamed.startswith("passag\n\n(the generated answer was cut short: malformed stream")
        assert "\n\nSources:\n[1] " in streamed and chunks[-1].choices[0].finish_reason == "stop"


@pytest.mark.slow
def test_real_model_end_to_end(real_engine_with_sample, llm, monkeypatch):
    use_llm(monkeypatch, llm[0])
    answer = real_engine_with_sample.ask("哪些企业落地磨憨？")  # corpus-wide: its found answer is rewritten too
    assert answer.found and answer.generated["error"] is None
    assert answer.answer.startswith("passages=" + ",".join(str(c.n) for c in answer.citations))
    assert answer.answer.endswith(CHECKED) and "浙江油气" in answer.extractive_answer
    assert llm[1][-1]["body"]["messages"][1]["content"].count(answer.citations[0].quote) >= 1
