"""Hostile input: a seeded generator of many bad files, mixed with good ones, each knowing its outcome.

``generate(root, seed)`` writes a folder tree of inputs for ``policyqa ingest`` and returns, per file
(and per JSONL line), what ingest must do with it:

* ``good``: stored under a known document id; where the decoded text is known exactly (``original``)
  it must be stored exactly (GBK and Big5 files carry no declaration), and ``contains`` must be found in
  the normalized text; ``warning``: ingest must warn about it (stray bad bytes replaced with U+FFFD);
* ``bad``: rejected, with a reason of the expected category (see ``REASON_CATEGORIES``);
* ``either``: may be read or rejected, but must not crash or hang the run (e.g. Shift-JIS text);
* ``skipped``: silently skipped by the folder walk (hidden, unsupported extension, not a regular file).

Bad files are not copies of a few templates: they come from random mutations of freshly generated good
texts (byte flips, truncations, encoding swaps, injected NUL and control bytes, mixed encodings) and
from random binary, HTML and JSONL shapes. Files over the size cap are stream-written.

    python bench/hostile.py OUT_DIR [--seed 0] [--bad 1000] [--good 150] [--big-mb 50]
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic_text import PLACES, TOPICS, policy_sentence  # noqa: E402

# Rejection reasons, by category: what the corpus readers say for each kind of bad input.
REASON_CATEGORIES: dict[str, str] = {
    "binary": r"^binary file",
    "too_large": r"file too large|line longer than MAX_LINE",
    "empty": r"empty file|only whitespace|no body text|no text left after normalization|field '\w+' is empty",
    "undecodable": r"cannot decode|despite its byte-order mark",
    "no_main_text": r"no main text found|nested too deeply for the extractor|HTML extraction failed",
    "invalid_json": r"invalid JSON|line is a JSON \w+, not an object",
    "wrong_type": r"must be a string",
    "missing_field": r"missing field",
    "duplicate_id": r"duplicate id",
    "not_a_file": r"not a regular file|no such file|unsupported file type",
    "unsupported_encoding": r"is not supported; save it as UTF-8",
}


def categorize(reason: str) -> str:
    """The category of a rejection reason ("other" when none matches)."""
    for name, pattern in REASON_CATEGORIES.items():
        if re.search(pattern, reason):
            return name
    return "other"


@dataclass
class Expect:
    """What ingest must do with one file, or with one line of a JSONL file."""

    rel: str  # path relative to the generated root (POSIX)
    kind: str  # how it was made
    outcome: str  # good | bad | either | skipped
    category: str | None = None  # for bad: a key of REASON_CATEGORIES
    line: int | None = None  # JSONL line (1-based); None for a whole file
    doc_id: str | None = None  # for good
    original: str | None = None  # for good: the exact text that must be stored as the original
    contains: str | None = None  # for good: a passage that must be in the stored (normalized) text
    warning: bool = False  # for good (and for either, when stored): ingest must warn about this input


@dataclass
class HostileSet:
    """The generated inputs and what must happen to each."""

    root: Path
    expects: list[Expect] = field(default_factory=list)
    extra_args: list[Path] = field(default_factory=list)  # bad paths named on the command line
    extra_expects: list[Expect] = field(default_factory=list)  # for extra_args (rel = the full path)

    def by_file(self) -> dict[str, list[Expect]]:
        out: dict[str, list[Expect]] = {}
        for e in self.expects:
            out.setdefault(e.rel, []).append(e)
        return out

    def counts(self) -> dict[str, int]:
        """Files by overall outcome (a file is bad when everything in it is bad), items by outcome."""
        files = Counter()
        for items in self.by_file().values():
            outcomes = {e.outcome for e in items}
            files["bad" if outcomes == {"bad"} else "good" if outcomes == {"good"} else "mixed/other"] += 1
        items = Counter(e.outcome for e in self.expects + self.extra_expects)
        kinds = Counter(e.kind for e in self.expects + self.extra_expects)
        return {
            "files": sum(files.values()),
            "bad_files": files["bad"],
            "good_files": files["good"],
            "mixed_or_other_files": files["mixed/other"],
            "items": dict(items),
            "kinds": len(kinds),
        }


# ----- text ------------------------------------------------------------------------------------------


class TextMaker:
    """Unique, deterministic Chinese policy-news text (each sentence carries a serial number)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0
        self._s2t = None

    def sentence(self) -> str:
        self.serial += 1
        r = self.rng
        return policy_sentence(r, self.serial)

    def body(self, sentences: int) -> str:
        paras, cur = [], []
        for _ in range(sentences):
            cur.append(self.sentence())
            if len(cur) >= self.rng.randint(2, 6):
                paras.append("".join(cur))
                cur = []
        if cur:
            paras.append("".join(cur))
        return "\n".join(paras)

    def title(self) -> str:
        self.serial += 1
        return f"{self.rng.choice(PLACES)}{self.rng.choice(TOPICS)}工作简报（{self.serial}）"

    def article(self, sentences: tuple[int, int] = (4, 12)) -> tuple[str, str]:
        """(text of a .txt article with title and metadata lines, its first body sentence)."""
        body = self.body(self.rng.randint(*sentences))
        head = f"{self.title()}\n- 时间:2025-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}\n- 来源:云南日报\n"
        return head + body + "\n", body.split("。")[0] + "。"

    def traditional(self, text: str) -> str:
        """The Traditional-character form of ``text``, restricted to what Big5 (cp950) can encode."""
        if self._s2t is None:
            import opencc

            self._s2t = opencc.OpenCC("s2t")
        return self._s2t.convert(text).encode("cp950", errors="ignore").decode("cp950")


def _normalized(text: str) -> str:
    from corpus.normalize import normalize

    return normalize(text).text


# ----- the generator ---------------------------------------------------------------------------------
_MAGIC = [
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"GIF89a",
    b"PK\x03\x04",
    b"\x7fELF\x02\x01\x01",
    b"%PDF-1.7\n",
    b"\x1f\x8b\x08",
    b"BZh91AY",
    b"7z\xbc\xaf\x27\x1c",
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
]
_TEXT_EXTS = [".txt", ".md", ".html", ".htm", ".jsonl"]


class _Gen:
    def __init__(self, root: Path, seed: int) -> None:
        self.root = root
        self.rng = random.Random(seed)
        self.text = TextMaker(random.Random(seed + 1))
        self.set = HostileSet(root)
        self.n = 0
        self.bad_made = 0  # whole bad files made by bad_files()

    # -- helpers
    def path(self, folder: str, ext: str, name: str | None = None) -> tuple[Path, str]:
        self.n += 1
        rel = f"{folder}/{name or f'f{self.n:05d}'}{ext}"
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p, rel

    def write(self, folder: str, ext: str, data: bytes, name: str | None = None) -> str:
        p, rel = self.path(folder, ext, name)
        p.write_bytes(data)
        return rel

    def expect(self, rel: str, kind: str, outcome: str, **kw) -> None:
        self.set.expects.append(Expect(rel, kind, outcome, **kw))

    def bad(self, folder: str, ext: str, data: bytes, kind: str, category: str) -> None:
        self.expect(self.write(folder, ext, data), kind, "bad", category=category)
        self.bad_made += 1

    def good_txt(
        self, folder: str, data_for, kind: str, ext: str = ".txt", warning: bool = False, exact=True
    ):
        """A good .txt/.md article; ``data_for(text) -> (bytes, original)`` encodes it."""
        text, _ = self.text.article()
        data, original = data_for(text)
        rel = self.write(folder, ext, data)
        first = original.replace("\r", "").split("\n")[3].split("。")[0] + "。"  # after 3 header lines
        self.expect(
            rel,
            kind,
            "good",
            doc_id=rel,
            original=original if exact else None,
            contains=_normalized(first),
            warning=warning,
        )

    def html_page(self, paragraphs: list[str], title: str) -> str:
        ps = "".join(f"<p>{p}</p>\n" for p in paragraphs)
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f"<nav>首页 | 新闻中心 | 政务公开</nav><article><h1>{title}</h1>\n{ps}</article>"
            f"<footer>版权所有 云南日报社</footer></body></html>"
        )

    # -- good inputs
    def good_files(self, n: int) -> None:
        r = self.rng
        plans = [
            ("utf8", 8),
            ("utf8-md", 3),
            ("utf8-bom", 2),
            ("gbk", 5),
            ("gb18030", 1),
            ("big5", 5),
            ("utf16-bom", 1),
            ("crlf", 1),
            ("stray-bytes", 3),
            ("truncated-char", 2),
            ("truncated-anywhere", 2),
            ("gbk-stray-byte", 1),
            ("html", 3),
            ("html-gbk", 2),
            ("html-big5", 1),
        ]
        kinds = [k for k, w in plans for _ in range(w)]
        for i in range(n):
            kind = kinds[i % len(kinds)] if i < len(kinds) else r.choice(kinds)
            self.good_one(kind)

    def good_one(self, kind: str) -> None:
        r = self.rng
        if kind == "utf8":
            self.good_txt("good/utf8", lambda t: (t.encode(), t), kind)
        elif kind == "utf8-md":
            self.good_txt("good/md", lambda t: (("# " + t).encode(), "# " + t), kind, ext=".md")
        elif kind == "utf8-bom":
            self.good_txt("good/bom", lambda t: (codecs.BOM_UTF8 + t.encode(), t), kind)
        elif kind in ("gbk", "gb18030"):
            self.good_txt("good/gbk", lambda t: (t.encode(kind), t), kind)
        elif kind == "big5":

            def big5(t: str) -> tuple[bytes, str]:
                tt = self.text.traditional(t)
                return tt.encode("cp950"), tt

            self.good_txt("good/big5", big5, kind)
        elif kind == "utf16-bom":
            self.good_txt("good/utf16", lambda t: (codecs.BOM_UTF16_LE + t.encode("utf-16-le"), t), kind)
        elif kind == "crlf":
            self.good_txt(
                "good/crlf", lambda t: (t.replace("\n", "\r\n").encode(), t.replace("\n", "\r\n")), kind
            )
        elif kind == "stray-bytes":  # good text with a few bad bytes between characters: kept, warned

            def stray(t: str) -> tuple[bytes, str]:
                head, body = t.split("\n", 3)[:3], t.split("\n", 3)[3]
                chars = list(body)
                for _ in range(r.randint(1, 3)):
                    at = r.randrange(1, len(chars) - 1)
                    chars.insert(at, r.choice(["\udcff", "\udc80", "\udcfe"]))
                data = ("\n".join(head) + "\n" + "".join(chars)).encode("utf-8", "surrogateescape")
                return data, data.decode("utf-8", "replace")

            self.good_txt("good/stray", stray, kind, warning=True)
        elif kind == "truncated-char":  # last character cut in half

            def cut(t: str) -> tuple[bytes, str]:
                data = t.rstrip("\n").encode()[:-1]
                return data, data.decode("utf-8", "replace")

            self.good_txt("good/truncated", cut, kind, warning=True)
        elif kind == "truncated-anywhere":  # cut at a random byte after the first body sentence

            def anywhere(t: str) -> tuple[bytes, str]:
                data = t.encode()
                keep = len("\n".join(t.split("\n", 4)[:4]).encode())  # three header lines + the first line
                data = data[: r.randint(keep, len(data))]
                return data, data.decode("utf-8", "replace")

            text, _ = self.text.article()
            data, original = anywhere(text)
            rel = self.write("good/truncated", r.choice([".txt", ".md"]), data)
            first = original.split("\n")[3].split("。")[0] + "。"
            self.expect(
                rel,
                kind,
                "good",
                doc_id=rel,
                original=original,
                contains=_normalized(first),
                warning="\ufffd" in original,
            )
        elif kind == "gbk-stray-byte":

            def gstray(t: str) -> tuple[bytes, str]:
                data = t.encode("gbk")
                at = len(t.split("\n", 3)[0].encode("gbk")) + 40
                at -= at % 2  # between two-byte characters of the title's following lines: roughly
                data = data[:at] + b"\xff" + data[at:]
                return data, data.decode("gb18030", "replace")

            self.good_txt("good/gbk-stray", gstray, kind, warning=True)
        elif kind.startswith("html"):
            title = self.text.title()
            paras = [self.text.body(r.randint(2, 4)).replace("\n", "") for _ in range(r.randint(2, 4))]
            page = self.html_page(paras, title)
            if kind == "html":
                data = page.encode()
            elif kind == "html-gbk":
                data = page.replace('<meta charset="utf-8">', "").encode("gbk")
            else:
                paras = [self.text.traditional(p) for p in paras]  # what Big5 can hold
                page = self.text.traditional(self.html_page(paras, title)).replace(
                    '<meta charset="utf-8">', ""
                )
                data = page.encode("cp950")
            rel = self.write("good/html", r.choice([".html", ".htm"]), data)
            first = paras[0].split("。")[0] + "。"
            self.expect(rel, kind, "good", doc_id=rel, contains=_normalized(first))
        else:
            raise ValueError(kind)

    # -- JSONL: good and bad lines mixed
    def jsonl_line(self, serial: int) -> tuple[bytes, Expect | None]:
        """One random JSONL line and what must happen to it (None: a blank line, skipped)."""
        r = self.rng
        good = {
            "id": f"j-{serial}",
            "title": self.text.title(),
            "date": "2024-06-01",
            "source": "云南网",
            "content": self.text.body(r.randint(2, 5)),
        }
        kind = r.choices(
            [
                "good",
                "blank",
                "truncated-json",
                "trailing-garbage",
                "single-quotes",
                "not-object",
                "content-number",
                "content-list",
                "content-object",
                "content-bool",
                "title-number",
                "date-number",
                "id-list",
                "id-float",
                "id-bool",
                "id-empty",
                "content-empty",
                "content-blank",
                "no-content",
                "content-null",
                "nan-content",
                "deep-nesting",
                "control-char",
                "byte-flip",
            ],
            weights=[30, 2] + [3] * 22,
        )[0]
        bad = {}
        if kind == "good":
            line = json.dumps(good, ensure_ascii=r.random() < 0.3)
            exp = Expect(
                "",
                kind,
                "good",
                doc_id=good["id"],
                contains=_normalized(good["content"].split("。")[0] + "。"),
            )
            return line.encode() + b"\n", exp
        if kind == "blank":
            return r.choice([b"\n", b"   \n", b"\t\r\n"]), None
        if kind == "truncated-json":
            s = json.dumps(good, ensure_ascii=False)
            raw, cat = s[: r.randint(1, len(s) - 2)].encode(), "invalid_json"
        elif kind == "trailing-garbage":
            raw, cat = (
                (json.dumps(good, ensure_ascii=False) + r.choice(["}", ",", " x", "]]"])).encode(),
                "invalid_json",
            )
        elif kind == "single-quotes":
            raw, cat = repr(good).encode(), "invalid_json"
        elif kind == "not-object":
            raw = json.dumps(
                r.choice([[good], "content", 42, None, True, [1, 2]]), ensure_ascii=False
            ).encode()
            cat = "invalid_json"
        elif kind == "deep-nesting":
            d = r.randint(5_000, 100_000)
            raw, cat = b'{"content": ' + b"[" * d + b"]" * d + b"}", "invalid_json"
        elif kind == "control-char":  # a raw control character inside a JSON string is invalid JSON
            s = json.dumps(good, ensure_ascii=False)
            at = s.index('"content": "') + 14
            raw, cat = (s[:at] + "\x01" + s[at:]).encode(), "invalid_json"
        elif kind == "byte-flip":  # a flipped structural byte
            s = json.dumps(good, ensure_ascii=False)
            at = r.choice([m.start() for m in re.finditer(r'[{}":,]', s)])
            raw, cat = (s[:at] + r.choice("#;=") + s[at + 1 :]).encode(), "invalid_json"
        else:
            bad = dict(good)
            field_map = {
                "content-number": ("content", 42, "wrong_type"),
                "content-list": ("content", ["第一段。", "第二段。"], "wrong_type"),
                "content-object": ("content", {"text": "正文。"}, "wrong_type"),
                "content-bool": ("content", True, "wrong_type"),
                "title-number": ("title", 2024, "wrong_type"),
                "date-number": ("date", 20240601, "wrong_type"),
                "id-list": ("id", ["a"], "wrong_type"),
                "id-float": ("id", 1.5, "wrong_type"),
                "id-bool": ("id", False, "wrong_type"),
                "id-empty": ("id", "  ", "empty"),
                "content-empty": ("content", "", "empty"),
                "content-blank": ("content", " \u3000\t\n ", "empty"),
            }
            if kind in field_map:
                name, value, cat = field_map[kind]
                bad[name] = value
            elif kind == "no-content":
                del bad["content"]
                cat = "missing_field"
            elif kind == "content-null":
                bad["content"] = None
                cat = "missing_field"
            elif kind == "nan-content":
                bad["content"] = float("nan")
                cat = "wrong_type"
            raw = json.dumps(bad, ensure_ascii=False).encode()
        if kind.startswith("id-") and cat == "wrong_type":
            cat = "wrong_type_id"
        return raw + b"\n", Expect("", kind, "bad", category=cat)

    def jsonl_files(self, n_mixed: int, n_all_bad: int, known_ids: list[str]) -> None:
        r = self.rng
        serial = 0
        for i in range(n_mixed + n_all_bad):
            all_bad = i >= n_mixed
            lines: list[bytes] = []
            expects: list[Expect] = []
            for _ in range(r.randint(1, 6) if all_bad else r.randint(3, 10)):
                serial += 1
                for _try in range(50):
                    raw, e = self.jsonl_line(serial)
                    if not all_bad or (e is not None and e.outcome == "bad"):
                        break
                lines.append(raw)
                expects.append(e)
            if all_bad and known_ids and r.random() < 0.2:  # a bad record under an id already stored
                kid = r.choice(known_ids)
                lines.append(json.dumps({"id": kid, "content": r.choice([42, "", None])}).encode() + b"\n")
                cat = {int: "wrong_type", str: "empty", type(None): "missing_field"}
                expects.append(
                    Expect(
                        "", "known-id-bad-record", "bad", category=cat[type(json.loads(lines[-1])["content"])]
                    )
                )
            if not all_bad and r.random() < 0.3:  # the same id twice in one batch
                firsts = [e for e in expects if e is not None and e.outcome == "good"]
                if firsts:
                    dup = {"id": firsts[0].doc_id, "content": self.text.body(2)}
                    lines.append(json.dumps(dup, ensure_ascii=False).encode() + b"\n")
                    expects.append(Expect("", "same-id-twice", "bad", category="duplicate_id"))
            if not all_bad and r.random() < 0.2:  # the last line cut off, without its newline
                cut = lines[-1][: max(1, len(lines[-1]) // 2)]
                if cut.strip() and not cut.endswith(b"\n"):
                    lines[-1] = cut
                    if expects[-1] is not None:
                        expects[-1] = Expect("", "truncated-file", "bad", category="invalid_json")
            data = b"".join(lines)
            enc_kind = "utf8"
            if not all_bad and r.random() < 0.15:  # the whole file in GBK, undeclared
                try:
                    data = data.decode().encode("gbk")
                    enc_kind = "gbk"
                except UnicodeError:
                    pass
            rel = self.write("jsonl/all-bad" if all_bad else "jsonl/mixed", ".jsonl", data)
            for number, e in enumerate(expects, 1):
                if e is None:
                    continue
                e.rel, e.line = rel, number
                if e.category == "wrong_type_id":
                    e.category = "wrong_type"
                if e.outcome == "good" and enc_kind != "utf8":
                    e.kind += f"-{enc_kind}"
                self.set.expects.append(e)
            if all(e is None for e in expects):
                self.expect(rel, "jsonl-blank-lines", "bad", category="empty")

    # -- bad files
    def bad_files(self, n: int, big_mb: int) -> None:
        r = self.rng
        self.too_large(big_mb)
        self.nested_html()
        makers = [
            (self.magic_binary, 14),
            (self.random_bytes, 8),
            (self.nul_injected, 8),
            (self.utf16_no_bom, 3),
            (self.control_heavy, 3),
            (self.empty, 4),
            (self.whitespace, 5),
            (self.header_only, 3),
            (self.script_only_html, 8),
            (self.heavy_flips, 14),
            (self.mixed_encoding, 4),
            (self.bom_lies, 3),
            (self.pretty_json, 2),
            (self.utf16_jsonl, 1),
            (self.tiny_garbage, 3),
        ]
        total = sum(w for _, w in makers)
        for maker, w in makers:
            for _ in range(round(n * w / total)):
                maker()
        while self.bad_made < n:  # some makers make "either" files; n counts bad files only
            r.choice(makers)[0]()

    def magic_binary(self) -> None:
        r = self.rng
        data = r.choice(_MAGIC) + r.randbytes(r.randint(0, 4000))
        self.bad("bad/binary", r.choice(_TEXT_EXTS), data, "magic-binary", "binary")

    def random_bytes(self) -> None:
        r = self.rng
        data = r.randbytes(r.randint(300, 6000))
        self.bad("bad/random", r.choice(_TEXT_EXTS), data, "random-bytes", "binary")

    def nul_injected(self) -> None:
        r = self.rng
        text, _ = self.text.article()
        data = bytearray(text.encode(r.choice(["utf-8", "gbk"])))
        for _ in range(r.randint(1, 5)):
            data.insert(r.randrange(len(data)), 0)
        self.bad("bad/nul", r.choice(_TEXT_EXTS), bytes(data), "nul-injected", "binary")

    def utf16_no_bom(self) -> None:
        r = self.rng
        text, _ = self.text.article()
        text = text.replace("- 来源", "- source: web\n- 来源")  # some ASCII: UTF-16 then has NUL bytes
        self.bad(
            "bad/utf16",
            r.choice(_TEXT_EXTS),
            text.encode(r.choice(["utf-16-le", "utf-16-be"])),
            "utf16-no-bom",
            "binary",
        )

    def control_heavy(self) -> None:
        r = self.rng
        text, _ = self.text.article()
        chars = list(text)
        for _ in range(len(chars) // 3):
            chars.insert(r.randrange(len(chars)), chr(r.choice([1, 2, 3, 4, 5, 6, 7, 8, 0x0E, 0x1F, 0x7F])))
        self.bad("bad/control", r.choice(_TEXT_EXTS), "".join(chars).encode(), "control-heavy", "binary")

    def empty(self) -> None:
        self.bad("bad/empty", self.rng.choice(_TEXT_EXTS), b"", "empty", "empty")

    def whitespace(self) -> None:
        r = self.rng
        ws = "".join(
            r.choice([" ", "\t", "\n", "\r\n", "\u3000", "\u00a0", "\u2003"])
            for _ in range(r.randint(1, 300))
        )
        self.bad(
            "bad/whitespace",
            r.choice(_TEXT_EXTS),
            ws.encode(r.choice(["utf-8", "gb18030"])),
            "whitespace-only",
            "empty",
        )

    def header_only(self) -> None:
        r = self.rng
        text = f"{self.text.title()}\n- 时间:2025-01-0{r.randint(1, 9)}\n- 来源:昆明日报\n"
        self.bad("bad/header-only", r.choice([".txt", ".md"]), text.encode(), "header-only", "empty")

    def script_only_html(self) -> None:
        r = self.rng
        sentence = self.text.sentence()
        shapes = [
            f"<html><head><script>var s = '{sentence}';{'x=1;' * r.randint(1, 500)}</script></head><body></body></html>",
            f"<html><head><style>body {{ color: red; }} {'p{{margin:0}}' * r.randint(1, 200)}</style></head><body><script>document.write('{sentence}')</script></body></html>",
            f"<html><body><!-- {sentence} --></body></html>",
            "<html><head><title>空页面</title></head><body>"
            + "<div></div>" * r.randint(0, 50)
            + "</body></html>",
            "<script>" + "alert(1);" * r.randint(1, 1000) + "</script>",
            f"<html><body><noscript></noscript><template><p>{sentence}</p></template></body></html>",
        ]
        i = r.randrange(len(shapes))
        if i == 5:  # trafilatura extracts <template> contents, which a browser does not show
            rel = self.write("either/html-template", ".html", shapes[i].encode())
            self.expect(rel, "html-template-only", "either", doc_id=rel)
            return
        self.bad(
            "bad/html-empty",
            r.choice([".html", ".htm"]),
            shapes[i].encode(),
            f"script-only-html-{i}",
            "no_main_text",
        )

    def heavy_flips(self) -> None:
        r = self.rng
        text, _ = self.text.article((8, 20))
        data = bytearray(text.encode(r.choice(["utf-8", "gbk"])))
        heavy = r.random() < 0.75
        # Flipped GBK bytes mostly still pair into valid (wrong) characters: up to ~15% of them can
        # pass as text with a few replaced bytes; from 20% on the readers reject it (300 of 300 tried).
        share = r.uniform(0.25, 0.45) if heavy else r.uniform(0.02, 0.15)
        for _ in range(int(len(data) * share)):
            data[r.randrange(len(data))] = r.randrange(0x80, 0x100)  # high bytes: no NUL or controls
        ext = r.choice([".txt", ".md", ".html"])
        if heavy:
            self.bad("bad/flipped", ext, bytes(data), "heavy-byte-flips", "undecodable")
        else:  # a few percent of GBK bytes flipped is still mostly readable: kept with a warning, or rejected
            rel = self.write("either/flipped", ext, bytes(data))
            self.expect(rel, "some-byte-flips", "either", doc_id=rel)

    def mixed_encoding(self) -> None:
        r = self.rng
        text, _ = self.text.article((10, 20))
        cut = int(len(text) * r.uniform(0.3, 0.7))
        a, b = r.sample(["utf-8", "gbk", "big5"], 2)
        encode = {
            "utf-8": lambda s: s.encode(),
            "gbk": lambda s: s.encode("gbk"),
            "big5": lambda s: self.text.traditional(s).encode("cp950"),
        }
        data = encode[a](text[:cut]) + encode[b](text[cut:])
        # Usually rejected; but one half's bytes can read as valid, odd text in the other half's codec
        # (UTF-8 as GB18030 "鏄嗘槑", Big5 as GBK), and then the file is kept: see test_hostile_input.
        rel = self.write("either/mixed-encoding", r.choice([".txt", ".md"]), data)
        self.expect(rel, f"mixed-{a}-{b}", "either", doc_id=rel)

    def bom_lies(self) -> None:
        r = self.rng
        text, _ = self.text.article()
        data = codecs.BOM_UTF8 + text.encode("gbk")
        self.bad("bad/bom-lies", r.choice([".txt", ".md", ".html"]), data, "utf8-bom-on-gbk", "undecodable")

    def pretty_json(self) -> None:  # a pretty-printed JSON document saved as .jsonl: every line is bad
        obj = {"id": f"pretty-{self.n}", "title": self.text.title(), "content": self.text.body(2)}
        data = json.dumps(obj, ensure_ascii=False, indent=2).encode()
        rel = self.write("bad/pretty-json", ".jsonl", data)
        for number, line in enumerate(data.split(b"\n"), 1):
            if line.strip():
                self.expect(rel, "pretty-json", "bad", category="invalid_json", line=number)
        self.bad_made += 1

    def utf16_jsonl(self) -> None:
        obj = {"id": f"u16-{self.n}", "content": self.text.body(2)}
        data = codecs.BOM_UTF16_LE + (json.dumps(obj, ensure_ascii=False) + "\n").encode("utf-16-le")
        self.bad("bad/utf16-jsonl", ".jsonl", data, "utf16-bom-jsonl", "unsupported_encoding")

    def tiny_garbage(self) -> None:
        r = self.rng
        data = bytes([r.choice([0x00, 0x01, 0x02, 0x7F])]) * r.randint(1, 20)
        self.bad("bad/tiny", r.choice(_TEXT_EXTS), data, "tiny-control-bytes", "binary")

    def too_large(self, big_mb: int) -> None:
        from corpus.encoding import MAX_FILE_BYTES

        line = ("昆明市推进产业园区建设，加快形成协调联动的发展新格局。" * 200).encode()
        for ext, head, tail in (
            (".txt", b"", b""),
            (".html", b"<html><body><p>", b"</p></body></html>"),
            (".md", b"# big\n", b"\n"),
        ):
            p, rel = self.path("bad/too-large", ext)
            with open(p, "wb") as f:  # one line of ``big_mb`` MB, never held in memory
                f.write(head)
                written = 0
                while written < big_mb * 1024 * 1024:
                    f.write(line)
                    written += len(line)
                f.write(tail)
            self.expect(rel, f"{big_mb}MB-single-line{ext}", "bad", category="too_large")
        p, rel = self.path("bad/too-large", ".txt")
        with open(p, "wb") as f:  # one byte over the cap
            f.write(b"a" * (MAX_FILE_BYTES + 1))
        self.expect(rel, "cap-plus-one", "bad", category="too_large")
        # a JSONL file whose first line is over the line cap; the line after it is good
        p, rel = self.path("bad/too-large", ".jsonl")
        good = {"id": f"after-big-{self.n}", "content": self.text.body(3)}
        with open(p, "wb") as f:
            f.write(b'{"id": "big", "content": "')
            written = 0
            while written < big_mb * 1024 * 1024:
                f.write(line)
                written += len(line)
            f.write(b'"}\n' + json.dumps(good, ensure_ascii=False).encode() + b"\n")
        self.expect(rel, f"{big_mb}MB-jsonl-line", "bad", category="too_large", line=1)
        first = _normalized(good["content"].split("。")[0] + "。")
        self.expect(rel, "line-after-big-line", "good", line=2, doc_id=good["id"], contains=first)

    def nested_html(self) -> None:
        sentence = self.text.sentence()
        for depth, inner in ((100_000, ""), (100_000, sentence * 20), (100_000, None)):
            if inner is None:  # unclosed tags
                page = "<html><body>" + "<div><p>" * depth + sentence * 20
            else:
                page = "<html><body>" + "<div>" * depth + inner + "</div>" * depth + "</body></html>"
            self.bad("bad/nested", ".html", page.encode(), f"nested-{depth}-divs", "no_main_text")

    # -- neither read nor rejected, or allowed either way
    def others(self, known_ids_txt: list[str]) -> None:
        r = self.rng
        # hidden files and unsupported extensions inside folders: skipped silently by design
        for name, ext in ((".hidden", ".txt"), ("notes", ".pdf"), ("data", ".csv"), ("report", ".docx")):
            self.expect(self.write("skip", ext, r.randbytes(100), name=name), "skipped-file", "skipped")
        fifo = self.root / "skip" / "pipe.txt"
        os.mkfifo(fifo)
        self.expect("skip/pipe.txt", "fifo-in-folder", "skipped")
        (self.root / "skip" / "dangling.txt").symlink_to(self.root / "skip" / "missing-target.txt")
        self.expect("skip/dangling.txt", "dangling-symlink", "skipped")
        # other East Asian encodings and Western text: read or rejected, never a crash
        for enc, text in (
            ("shift_jis", "日本語のテキストです。東京都は新しい政策を発表しました。" * 20),
            ("euc-kr", "한국어 텍스트입니다. 서울시는 새로운 정책을 발표했습니다. " * 20),
            ("latin-1", "Ceci est un texte français: é è à ç. " * 20),
        ):
            self.expect(self.write("either", ".txt", text.encode(enc)), f"foreign-{enc}", "either")
        # bad content under ids of documents stored before (their .txt names, at the top level)
        for kid in known_ids_txt:
            data = r.choice([b"", b"\x89PNG\r\n\x1a\n" + r.randbytes(200), b"   \n\t"])
            rel = kid
            (self.root / rel).write_bytes(data)
            self.expect(
                rel, "known-id-bad-file", "bad", category="binary" if data.startswith(b"\x89") else "empty"
            )
        # two files that name the same article url: the second is a duplicate id
        for _ in range(10):
            url = f"https://news.example.cn/{self.n}.html"
            for k in range(2):
                text, first = self.text.article()
                lines = text.split("\n", 1)
                text = f"{lines[0]}\n- 链接:{url}\n{lines[1]}"
                rel = self.write("dup-url", ".txt", text.encode())
                if k == 0:
                    self.expect(rel, "url-first", "good", doc_id=url, contains=_normalized(first))
                else:
                    self.expect(rel, "url-second", "bad", category="duplicate_id")
        # bad paths named on the command line
        missing = self.root.parent / "hostile-missing.txt"
        unsupported = self.root.parent / "hostile-named.pdf"
        unsupported.write_bytes(b"%PDF-1.4\n")
        fifo2 = self.root.parent / "hostile-fifo.txt"
        if not fifo2.exists():
            os.mkfifo(fifo2)
        for p, kind in ((missing, "missing-path"), (unsupported, "named-unsupported"), (fifo2, "named-fifo")):
            self.set.extra_args.append(p)
            self.set.extra_expects.append(Expect(str(p), kind, "bad", category="not_a_file"))


def generate(
    root: Path,
    seed: int = 0,
    bad: int = 1000,
    good: int = 150,
    jsonl_mixed: int = 60,
    jsonl_all_bad: int = 150,
    big_mb: int = 50,
    known_ids: tuple[list[str], list[str]] = ([], []),
) -> HostileSet:
    """Write the hostile inputs under ``root`` (created) and return what must happen to each.

    ``bad`` counts whole bad files made by the file-level makers; ``jsonl_all_bad`` more files have only
    bad lines. ``known_ids`` = (names of .txt files, JSONL ids) already stored from an earlier ingest:
    bad inputs reuse them, and must not change those documents.
    """
    root.mkdir(parents=True, exist_ok=True)
    g = _Gen(root, seed)
    g.good_files(good)
    g.jsonl_files(jsonl_mixed, jsonl_all_bad, list(known_ids[1]))
    g.bad_files(bad, big_mb)
    g.others(list(known_ids[0]))
    return g.set


def evaluate(
    hs: HostileSet,
    rejected: list[dict],
    documents: dict[str, dict],
    warned_paths: set[str],
    known_ids: set[str] = frozenset(),
) -> list[str]:
    """Every way in which an ingest of ``hs`` differs from what each input must give; [] when none.

    ``rejected``: the ingest report's rejections ({"path", "line", "reason"}); ``documents``: stored
    documents by id ({"original", "normalized"}); ``warned_paths``: paths ingest printed a warning for;
    ``known_ids``: documents stored before, which may be present without being expected here.
    """
    problems: list[str] = []

    def rel_of(path: str) -> str:
        p = Path(path)
        try:
            return p.relative_to(hs.root).as_posix()
        except ValueError:
            return str(p)

    rejections: dict[tuple[str, int | None], list[str]] = {}
    for r in rejected:
        rejections.setdefault((rel_of(r["path"]), r.get("line")), []).append(r["reason"])
    matched: set[tuple[str, int | None]] = set()
    warned = {rel_of(p) for p in warned_paths}
    expected_ids: set[str] = set(known_ids)
    for e in hs.expects + hs.extra_expects:
        key = (e.rel, e.line)
        reasons = rejections.get(key, [])
        where = f"{e.rel}{f':{e.line}' if e.line else ''} ({e.kind})"
        if e.outcome == "good":
            expected_ids.add(e.doc_id)
            doc = documents.get(e.doc_id)
            if reasons:
                problems.append(f"{where}: good input rejected: {reasons}")
                matched.add(key)
            if doc is None:
                problems.append(f"{where}: good input not stored under id {e.doc_id!r}")
                continue
            if e.original is not None and doc["original"] != e.original:
                problems.append(
                    f"{where}: stored original differs from the text written: "
                    f"{doc['original'][:60]!r} vs {e.original[:60]!r}"
                )
            if e.contains and e.contains not in doc["normalized"]:
                problems.append(f"{where}: stored text lacks {e.contains[:40]!r}: {doc['normalized'][:80]!r}")
            if e.warning and e.rel not in warned:
                problems.append(f"{where}: no warning for an input with replaced bytes")
        elif e.outcome == "bad":
            if not reasons:
                stored = documents.get(e.rel) if e.line is None else None
                problems.append(f"{where}: bad input not rejected" + (" (stored!)" if stored else ""))
                continue
            matched.add(key)
            got = {categorize(x) for x in reasons}
            if e.category not in got:
                problems.append(
                    f"{where}: rejected as {sorted(got)} ({reasons[0][:100]}), expected {e.category}"
                )
        elif e.outcome == "either":
            expected_ids.add(e.rel)
            matched.add(key)
            if not reasons and e.rel not in documents:
                problems.append(f"{where}: neither stored nor rejected")
            if e.rel in documents and e.warning and e.rel not in warned:
                problems.append(f"{where}: stored without a warning about its replaced bytes")
        elif e.outcome == "skipped":
            if reasons:
                matched.add(key)
                problems.append(f"{where}: should be skipped silently, was rejected: {reasons}")
            if e.rel in documents:
                problems.append(f"{where}: should be skipped, was stored")
    for key, reasons in sorted(rejections.items(), key=str):
        if key not in matched:
            problems.append(f"unexpected rejection of {key[0]}:{key[1]}: {reasons}")
    for doc_id in sorted(set(documents) - expected_ids):
        problems.append(f"unexpected document stored: {doc_id!r}")
    return problems


def write_known(root: Path, seed: int = 0, n_txt: int = 12, n_jsonl: int = 12) -> tuple[list[str], list[str]]:
    """Good articles to ingest before the hostile set; returns (.txt names, JSONL ids)."""
    root.mkdir(parents=True, exist_ok=True)
    tm = TextMaker(random.Random(f"known/{seed}"))
    names = []
    for i in range(n_txt):
        name = f"known-{i:03d}.txt"
        (root / name).write_text(tm.article()[0], encoding="utf-8")
        names.append(name)
    ids = [f"known-j{i:03d}" for i in range(n_jsonl)]
    with open(root / "known.jsonl", "w", encoding="utf-8") as f:
        for i in ids:
            f.write(
                json.dumps({"id": i, "title": tm.title(), "content": tm.body(4)}, ensure_ascii=False) + "\n"
            )
    return names, ids


def write_near_cap(path: Path, size: int, seed: int = 0) -> Path:
    """A legitimate UTF-8 article of about ``size`` bytes (stream-written), e.g. just under the cap."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tm = TextMaker(random.Random(f"near-cap/{seed}"))
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"{tm.title()}\n- 来源:测试\n")
        written = 0
        while written < size:
            para = tm.body(20) + "\n"
            f.write(para)
            written += len(para.encode())
    return path


# ----- running it ------------------------------------------------------------------------------------
MEMORY_BOUND_MB = 1024
"""Peak RSS allowed to one ingest process over a whole hostile set."""

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class IngestRun:
    """One ``policyqa ingest --json`` child process."""

    returncode: int
    stdout: str
    stderr: str
    peak_rss_mb: float  # the child's own high-water mark after exec (VmHWM), sampled while it runs
    seconds: float
    hung: bool = False


def run_ingest(data: Path, paths: list[Path], logs: Path, time_limit: float = 300.0) -> IngestRun:
    """Run ``python -m api.cli --data-dir DATA ingest PATHS --json`` with the hash embedder (for a new
    data directory); killed after ``time_limit`` seconds (``hung``). Output goes through files in ``logs``."""
    import subprocess
    import threading
    import time

    from bench.crasher import ingest_env

    logs.mkdir(parents=True, exist_ok=True)
    out, err = logs / "ingest.out", logs / "ingest.err"
    cmd = [sys.executable, "-m", "api.cli", "--data-dir", str(data), "ingest", *map(str, paths), "--json"]
    t0 = time.monotonic()
    with open(out, "wb") as o, open(err, "wb") as e:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=ingest_env(), stdout=o, stderr=e)
    timer = threading.Timer(time_limit, proc.kill)
    timer.start()
    # ru_maxrss (wait4, RUSAGE_*) would also count the pages the child shared with this process between
    # fork and exec: under a test session holding a loaded model that alone is over a gigabyte. VmHWM
    # belongs to the exec'd program's own memory map, and only grows, so the last sample is its peak.
    peak_kb = 0
    try:
        while proc.poll() is None:
            peak_kb = max(peak_kb, _vm_hwm_kb(proc.pid))
            time.sleep(0.02)
    finally:
        timer.cancel()
    seconds = time.monotonic() - t0
    return IngestRun(
        proc.returncode,
        out.read_text(errors="replace"),
        err.read_text(errors="replace"),
        peak_kb / 1024,
        seconds,
        hung=proc.returncode == -9 and seconds >= time_limit,
    )


def _vm_hwm_kb(pid: int) -> int:
    """The process' peak resident set size in KiB (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def stored_documents(data: Path) -> dict[str, dict]:
    """Every stored document: its fields and its chunks (ids, texts, embeddings read from their segments)."""
    import numpy as np

    from index.store import Store

    store = Store(data)
    try:
        with store.read() as view:
            conn = view._conn
            q = "SELECT doc_id, title, date, source, url, original, normalized, content_hash, offsets FROM documents"
            docs = {r["doc_id"]: dict(r) for r in conn.execute(q)}
            by_seg = {seg.id: seg for seg, _mask in view.segments}
            q = "SELECT doc_id, chunk_id, text, id, segment FROM chunks ORDER BY doc_id, position"
            for doc_id, chunk_id, text, key, seg_id in conn.execute(q):
                seg = by_seg[seg_id]
                vec = np.asarray(seg.arrays.vectors[int(np.searchsorted(seg.arrays.ids, key))]).tobytes()
                docs[doc_id].setdefault("chunks", []).append((chunk_id, text, vec))
    finally:
        store.close()
    return docs


def warned_paths(stderr: str) -> set[str]:
    """Paths that ``policyqa ingest`` printed a warning for ("warning PATH: message")."""
    return {
        line[len("warning ") :].split(": ", 1)[0]
        for line in stderr.splitlines()
        if line.startswith("warning ")
    }


def hostile_run(workdir: Path, seed: int = 0, bad: int = 1000, good: int = 150, big_mb: int = 50) -> dict:
    """Ingest known documents, then a hostile set into the same data directory; report what went wrong.

    Returns counts, timings, the hostile ingest's peak RSS and ``problems``: every input whose outcome
    differs from what it must be, every change to the documents stored before, a broken store, a hang
    or crash of the ingest, a peak RSS over MEMORY_BOUND_MB. ``problems == []`` is a pass.
    """
    import time

    from bench.crasher import CrashCheckError, check_store

    t0 = time.monotonic()
    data = workdir / "data"
    known = write_known(workdir / "known", seed=seed)
    first = run_ingest(data, [workdir / "known"], workdir / "logs-known")
    if first.returncode != 0:
        return {
            "problems": [f"ingest of the known documents exited {first.returncode}: {first.stderr[-2000:]}"]
        }
    before = stored_documents(data)
    hs = generate(workdir / "hostile", seed, bad, good, big_mb=big_mb, known_ids=known)
    generated = time.monotonic() - t0
    run = run_ingest(data, [hs.root, *hs.extra_args], workdir / "logs")
    result = {
        "counts": hs.counts(),
        "generate_seconds": round(generated, 1),
        "ingest_seconds": round(run.seconds, 1),
        "peak_rss_mb": round(run.peak_rss_mb),
        "problems": [],
    }
    problems = result["problems"]
    if run.hung or run.returncode != 1 or "Traceback" in run.stderr:
        how = "hung" if run.hung else f"exited {run.returncode} (1 = some inputs rejected)"
        problems.append(f"hostile ingest {how}; stderr tail: {run.stderr[-3000:]}")
        return result
    report = json.loads(run.stdout)
    after = stored_documents(data)
    documents = {k: {"original": v["original"], "normalized": v["normalized"]} for k, v in after.items()}
    problems += evaluate(hs, report["rejected"], documents, warned_paths(run.stderr), known_ids=set(before))
    for doc_id, old in before.items():
        if after.get(doc_id) != old:
            problems.append(f"{doc_id}: a document stored before the hostile ingest changed or vanished")
    try:
        check_store(data)
    except CrashCheckError as e:
        problems.append(f"store inconsistent after the hostile ingest: {e}")
    if run.peak_rss_mb <= 0:
        problems.append("the ingest's peak RSS could not be read from /proc")
    if run.peak_rss_mb >= MEMORY_BOUND_MB:
        problems.append(f"ingest peaked at {run.peak_rss_mb:.0f} MB RSS (bound {MEMORY_BOUND_MB} MB)")
    result.update(rejections=len(report["rejected"]), added=report["added"], known=len(before))
    return result


def main(argv: list[str] | None = None) -> int:
    """Write a hostile set (and with --ingest, run and check a whole hostile ingest)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", help="folder to write into (created)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bad", type=int, default=1000)
    p.add_argument("--good", type=int, default=150)
    p.add_argument("--big-mb", type=int, default=50)
    p.add_argument("--ingest", action="store_true", help="ingest known documents, then the set, and check")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    out = Path(args.out)
    if not args.ingest:
        hs = generate(out, args.seed, args.bad, args.good, big_mb=args.big_mb)
        print(json.dumps(hs.counts(), indent=2))
        return 0
    result = hostile_run(out, args.seed, args.bad, args.good, args.big_mb)
    problems = result.pop("problems")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    for line in problems[:200]:
        print(line, file=sys.stderr)
    print(f"{len(problems)} problems", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
