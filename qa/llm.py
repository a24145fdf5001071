"""Optional answer generation by an OpenAI-compatible chat endpoint, grounded in the cited passages.

Configured by ``POLICYQA_LLM_BASE_URL`` and ``POLICYQA_LLM_MODEL`` (``POLICYQA_LLM_API_KEY`` optional,
``POLICYQA_LLM_TIMEOUT`` the read timeout in seconds), or by an ``llm`` section in the data directory's
config.json; the environment wins, and the key is only read from the environment. The model sees the
question and the passages numbered as the citations number them; the [n] markers of its reply are checked
against the numbers it was shown (others are removed and reported). Any failure of the endpoint leaves the
extractive answer in place, with the reason in ``generated["error"]``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any

from qa.answer import Answer, Citation
from qa.question_type import has_han

if TYPE_CHECKING:  # httpx is imported when an LLM is called, not at start-up (CLI cold start)
    import httpx

ENV_BASE_URL = "POLICYQA_LLM_BASE_URL"
ENV_MODEL = "POLICYQA_LLM_MODEL"
ENV_API_KEY = "POLICYQA_LLM_API_KEY"
ENV_TIMEOUT = "POLICYQA_LLM_TIMEOUT"
NOT_CONFIGURED = f"no LLM is configured (set {ENV_BASE_URL} and {ENV_MODEL})"
MAX_RESPONSE_BYTES = 2 * 1024 * 1024

SYSTEM_PROMPT = (
    "You answer questions about Chinese regional-policy news using only the numbered passages you are given.\n"
    "- Use only facts stated in the passages; add nothing from elsewhere.\n"
    "- After each claim, cite the passages it rests on by number in square brackets, like [1] or [1][3]. "
    "Cite only the numbers of the passages given.\n"
    "- Answer in the language of the question.\n"
    "- If the passages do not answer the question, say that you cannot answer it from the passages.\n"
    "- Be concise."
)


class LLMError(Exception):
    """The endpoint could not be reached or gave no usable answer (the message says why)."""


@dataclass(frozen=True)
class LLMConfig:
    """Where the endpoint is and the bounds a call runs under (seconds, characters)."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    total_timeout: float = 300.0
    max_passage_chars: int = 800
    max_context_chars: int = 4000
    max_answer_chars: int = 8000
    temperature: float | None = None
    max_tokens: int | None = None

    @property
    def url(self) -> str:
        """The chat-completions URL (a base that already ends with it is used as is)."""
        base = self.base_url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"


_NUMBERS = {"connect_timeout", "read_timeout", "total_timeout", "max_passage_chars", "max_context_chars",
            "max_answer_chars", "temperature", "max_tokens"}


def load_config(section: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None) -> LLMConfig | None:
    """The LLM settings from config.json's ``llm`` section and the environment (which wins); None when unset.

    Raises ValueError for a setting that is present but wrong (unknown key, bad number, no model).
    """
    env = os.environ if environ is None else environ
    if not isinstance(section or {}, Mapping):
        raise ValueError("config.json 'llm' must be an object")
    values: dict[str, Any] = dict(section or {})
    if "api_key" in values:
        raise ValueError(f"keep the API key out of config.json; set {ENV_API_KEY}")
    known = {f.name for f in fields(LLMConfig)} - {"api_key"}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"config.json 'llm' has unknown settings {unknown}; known: {sorted(known)}")
    for key, name in (("base_url", ENV_BASE_URL), ("model", ENV_MODEL)):
        if env.get(name, "").strip():
            values[key] = env[name].strip()
    if env.get(ENV_TIMEOUT, "").strip():
        values["read_timeout"] = _number(ENV_TIMEOUT, env[ENV_TIMEOUT].strip())
    if not isinstance(values.get("base_url"), str) or not values["base_url"].strip():
        return None
    if not isinstance(values.get("model"), str) or not values["model"].strip():
        raise ValueError(f"{ENV_BASE_URL} is set but no model is: set {ENV_MODEL}")
    for key in _NUMBERS & set(values):
        raw = values[key]
        value = _number(key, raw) if isinstance(raw, str) else raw
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"LLM setting {key} must be a number, not {raw!r}")
        value = int(value) if key.startswith("max_") else float(value)
        if value < 0 or (value == 0 and key != "temperature"):
            raise ValueError(f"LLM setting {key} must be positive, not {raw!r}")
        values[key] = value
    return LLMConfig(**values, api_key=env.get(ENV_API_KEY, "").strip() or None)


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text!r}") from None


class LLMClient:
    """A small synchronous client of ``POST {base}/chat/completions``; every failure is an LLMError."""

    def __init__(self, config: LLMConfig) -> None:
        self.config = config

    def _request(self, messages: list[dict], stream: bool) -> tuple[dict, dict]:
        body: dict[str, Any] = {"model": self.config.model, "messages": messages, "stream": stream}
        if self.config.temperature is not None:
            body["temperature"] = self.config.temperature
        if self.config.max_tokens is not None:
            body["max_tokens"] = self.config.max_tokens
        headers = {"Accept": "text/event-stream" if stream else "application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        return body, headers

    def _client(self) -> httpx.Client:
        import httpx

        c = self.config
        return httpx.Client(timeout=httpx.Timeout(c.read_timeout, connect=c.connect_timeout))

    def complete(self, messages: list[dict]) -> str:
        """The reply's text (non-streaming)."""
        import httpx

        body, headers = self._request(messages, stream=False)
        deadline = time.monotonic() + self.config.total_timeout
        try:
            with self._client() as client, client.stream("POST", self.config.url, json=body, headers=headers) as r:
                _check_status(r)
                content = _message_content(_read_json(r, deadline, self.config.total_timeout))
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as e:
            raise LLMError(_describe(e, self.config)) from e
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LLMError(f"malformed response from {self.config.url}: {type(e).__name__}: {e}"[:300]) from e
        return content[: self.config.max_answer_chars]

    def stream(self, messages: list[dict]) -> Iterator[str]:
        """The reply's text deltas, from server-sent ``data:`` lines ending with ``[DONE]``."""
        import httpx

        body, headers = self._request(messages, stream=True)
        deadline = time.monotonic() + self.config.total_timeout
        left = self.config.max_answer_chars
        try:
            with self._client() as client, client.stream("POST", self.config.url, json=body, headers=headers) as r:
                _check_status(r)
                if "application/json" in r.headers.get("content-type", ""):  # the server would not stream
                    yield _message_content(_read_json(r, deadline, self.config.total_timeout))[:left]
                    return
                events = 0
                for line in r.iter_lines():
                    _check_deadline(deadline, self.config.total_timeout)
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    events += 1
                    delta = _delta(json.loads(data))
                    if delta:
                        yield delta[:left]
                        left -= len(delta)
                        if left <= 0:
                            return
                if not events:
                    raise ValueError("no 'data:' events")
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as e:
            raise LLMError(_describe(e, self.config)) from e
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise LLMError(f"malformed stream from {self.config.url}: {type(e).__name__}: {e}"[:300]) from e

    def generate(self, messages: list[dict], stream: bool = False) -> str | Iterator[str]:
        """The reply's text, or with ``stream=True`` an iterator of its deltas."""
        return self.stream(messages) if stream else self.complete(messages)


def _read_json(r: httpx.Response, deadline: float, total: float) -> Any:
    raw = bytearray()
    for part in r.iter_bytes():
        raw += part
        if len(raw) > MAX_RESPONSE_BYTES:
            raise LLMError(f"response larger than {MAX_RESPONSE_BYTES} bytes")
        _check_deadline(deadline, total)
    return json.loads(raw)


def _message_content(reply: Any) -> str:
    content = reply["choices"][0]["message"]["content"]
    if not isinstance(content, str):
        raise TypeError("message content is not text")
    return content


def _delta(event: Any) -> str:
    if not isinstance(event, dict):
        raise TypeError("event is not an object")
    if event.get("error"):
        error = event["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise LLMError(f"the endpoint reported an error: {message}"[:300])
    choices = event.get("choices") or [{}]
    content = (choices[0].get("delta") or {}).get("content")
    if content is not None and not isinstance(content, str):
        raise TypeError("delta content is not text")
    return content or ""


def _check_status(r: httpx.Response) -> None:
    if r.status_code != 200:
        head = b""
        for part in r.iter_bytes():
            head += part
            if len(head) >= 300:
                break
        text = head[:300].decode("utf-8", "replace").strip()
        raise LLMError(f"HTTP {r.status_code} from {r.request.url}" + (f": {text}" if text else ""))


def _check_deadline(deadline: float, total: float) -> None:
    if time.monotonic() > deadline:
        raise LLMError(f"no complete answer within {total:g} s")


def _describe(e: Exception, config: LLMConfig) -> str:
    import httpx

    if isinstance(e, httpx.TimeoutException):
        what = "connecting" if isinstance(e, httpx.ConnectTimeout) else "waiting for the reply"
        limit = config.connect_timeout if isinstance(e, httpx.ConnectTimeout) else config.read_timeout
        return f"timed out after {limit:g} s {what} ({config.url})"
    if isinstance(e, httpx.ConnectError):
        return f"cannot connect to {config.url}: {e}"
    return f"request to {config.url} failed: {type(e).__name__}: {e}"


# ----- citation markers ------------------------------------------------------------------------------------
MARKER = re.compile(r"[ \t]*[\[【［] ?(\d{1,3}(?: ?[,，、] ?\d{1,3}){0,9}) ?[\]】］]")
MAX_MARKER_CHARS = 64  # longer than any bracket group MARKER matches
_OPENERS = "[【［"
_GROUP_SO_FAR = re.compile(r"[\d ,，、]*")


class MarkerChecker:
    """Checks [n] markers in text fed piece by piece: valid ones are kept as ``[n]``, others removed.

    ``[1, 2]`` and ``【1】`` become ``[1][2]`` and ``[1]``; a group whose numbers are all invalid is removed
    with the spaces before it. A possible marker split across pieces is held back until it is complete, so
    the output is the same however the text is split.
    """

    def __init__(self, valid: list[int]) -> None:
        self.valid = set(valid)
        self.invalid: set[int] = set()
        self.used: set[int] = set()
        self._pending = ""

    def feed(self, piece: str) -> str:
        text = self._pending + piece
        cut = _cut(text)
        self._pending = text[cut:]
        return MARKER.sub(self._replace, text[:cut])

    def close(self) -> str:
        text, self._pending = self._pending, ""
        return MARKER.sub(self._replace, text)

    def _replace(self, m: re.Match) -> str:
        keep: list[int] = []
        for n in map(int, re.findall(r"\d+", m.group(1))):
            if n in self.valid:
                self.used.add(n)
                if n not in keep:
                    keep.append(n)
            else:
                self.invalid.add(n)
        if not keep:
            return ""
        space = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip(" \t"))]
        return space + "".join(f"[{n}]" for n in keep)


def _cut(text: str) -> int:
    """Where the text that can no longer change ends: before a trailing, possibly unfinished marker."""
    opened = max(text.rfind(ch) for ch in _OPENERS)
    if opened >= 0 and len(text) - opened <= MAX_MARKER_CHARS and _GROUP_SO_FAR.fullmatch(text, opened + 1):
        return len(text[:opened].rstrip(" \t"))
    return len(text.rstrip(" \t"))


@dataclass
class Checked:
    """Text with its markers checked."""

    text: str
    invalid_markers: list[int]
    used_citations: list[int]


def check_markers(text: str, valid: list[int]) -> Checked:
    """Keep the markers that name a valid citation, remove (and list) the others."""
    checker = MarkerChecker(valid)
    out = checker.feed(text) + checker.close()
    return Checked(out, sorted(checker.invalid), sorted(checker.used))


# ----- prompt ----------------------------------------------------------------------------------------------
DocumentText = Callable[[str], str | None]


def passage_text(c: Citation, document: str | None, limit: int) -> str:
    """The citation's quote widened to about ``limit`` characters of its document (the quote when unknown)."""
    if not document or document[c.start : c.end] != c.quote or len(c.quote) >= limit:
        return c.quote[:limit]
    spare = limit - len(c.quote)
    a = max(0, c.start - spare // 2)
    b = min(len(document), c.end + spare - (c.start - a))
    a = max(0, b - limit)  # room left at the end goes to the text before
    return ("…" if a > 0 else "") + document[a:b] + ("…" if b < len(document) else "")


def build_messages(
    question: str, citations: list[Citation], config: LLMConfig, document_text: DocumentText | None = None
) -> tuple[list[dict], list[int]]:
    """The chat messages and the citation numbers they show, within ``config.max_context_chars``."""
    blocks: list[str] = []
    shown: list[int] = []
    left = config.max_context_chars
    texts: dict[str, str | None] = {}
    for c in citations:
        if shown and left < 40:  # the first passage always goes, cut to the budget
            break
        if document_text is not None and c.doc_id not in texts:
            texts[c.doc_id] = document_text(c.doc_id)
        text = passage_text(c, texts.get(c.doc_id), max(1, min(config.max_passage_chars, left)))
        meta = ", ".join(x for x in (c.date, c.source) if x)
        blocks.append(f"[{c.n}] {c.title or '(untitled)'}" + (f" ({meta})" if meta else "") + f"\n{text}")
        shown.append(c.n)
        left -= len(text)
    zh = has_han(question)
    user = ("材料：\n\n" if zh else "Passages:\n\n") + "\n\n".join(blocks) + ("\n\n问题：" if zh else "\n\nQuestion: ")
    messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user + question}]
    return messages, shown


# ----- generation ------------------------------------------------------------------------------------------
def outcome(model: str | None, text: str | None = None, invalid: list[int] | None = None,
            used: list[int] | None = None, error: str | None = None) -> dict:
    """The ``generated`` record of an Answer (the same keys whether it succeeded or not)."""
    return {"model": model, "text": text, "invalid_markers": invalid or [], "used_citations": used or [],
            "error": error}


class GenerationStream:
    """The checked text deltas of a streamed generation; when exhausted, ``generated`` holds the outcome.

    Iterating never raises for the endpoint's failures: it stops, and ``generated["error"]`` says why
    (``emitted`` tells whether any text went out before that).
    """

    def __init__(self, client: LLMClient, messages: list[dict], shown: list[int]) -> None:
        self.client = client
        self.messages = messages
        self.shown = shown
        self.emitted = ""
        self.generated: dict | None = None

    def __iter__(self) -> Iterator[str]:
        checker = MarkerChecker(self.shown)
        model = self.client.config.model
        try:
            with closing(self.client.stream(self.messages)) as deltas:
                for delta in deltas:
                    yield from self._emit(checker.feed(delta))
            yield from self._emit(checker.close())
        except LLMError as e:
            self.generated = outcome(model, error=str(e))
            return
        if not self.emitted:
            self.generated = outcome(model, error="the model returned no text")
            return
        self.generated = outcome(model, self.emitted.strip(), sorted(checker.invalid), sorted(checker.used))

    def _emit(self, text: str) -> Iterator[str]:
        if not self.emitted:
            text = text.lstrip()
        if text:
            self.emitted += text
            yield text


class Generator:
    """Rewrites found answers with the configured model, from the passages the answer cites."""

    def __init__(self, config: LLMConfig, document_text: DocumentText | None = None) -> None:
        self.client = LLMClient(config)
        self.document_text = document_text

    def _messages(self, answer: Answer) -> tuple[list[dict], list[int]]:
        return build_messages(answer.question, answer.citations, self.client.config, self.document_text)

    def answer(self, answer: Answer) -> Answer:
        """The answer with the model's checked text, or the extractive one with the error when that fails."""
        model = self.client.config.model
        messages, shown = self._messages(answer)
        try:
            checked = check_markers(self.client.complete(messages), shown)
        except LLMError as e:
            return replace(answer, generated=outcome(model, error=str(e)))
        text = checked.text.strip()
        if not text:
            return replace(answer, generated=outcome(model, error="the model returned no text"))
        generated = outcome(model, text, checked.invalid_markers, checked.used_citations)
        return replace(answer, answer=text, generated=generated)

    def stream(self, answer: Answer) -> GenerationStream:
        """A stream of the model's checked deltas for this answer."""
        return GenerationStream(self.client, *self._messages(answer))


def generator_for(
    answer: Answer, generate: bool | None, section: Mapping[str, Any] | None, document_text: DocumentText | None = None
) -> tuple[Generator | None, Answer]:
    """The generator to run on ``answer``, if any, and the answer (with the reason recorded when none can run).

    None when ``generate`` is False, when the answer was not found (the model is never asked then), or when
    no LLM is configured and ``generate`` is None (not asked for explicitly).
    """
    if generate is False or not answer.found:
        return None, answer
    try:
        config = load_config(section)
    except ValueError as e:
        return None, replace(answer, generated=outcome(None, error=f"LLM configuration: {e}"))
    if config is None:
        return None, (replace(answer, generated=outcome(None, error=NOT_CONFIGURED)) if generate else answer)
    return Generator(config, document_text), answer
