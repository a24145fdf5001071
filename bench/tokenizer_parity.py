"""Index tokens (jieba-rs, ``index.tokenizer.words``) against Python jieba's search mode, side by side.

    python bench/tokenizer_parity.py --news 3000 --dureader 2000

Prints both tokenizers' time over the same passages and their ratio, how many passages get a different
bag of tokens, and the tokens that differ most often (after the same lower-casing and punctuation drop).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.datasets import load_news, load_retrieval_set  # noqa: E402
from index.tokenizer import _KEEP, words  # noqa: E402


def python_jieba_words(text: str, jieba) -> list[str]:
    return [t for t in (w.strip().lower() for w in jieba.cut_for_search(text)) if t and _KEEP.search(t)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--news", type=int, default=3000, help="CCTV news items to tokenize")
    ap.add_argument("--dureader", type=int, default=2000, help="DuReader-robust passages to tokenize")
    args = ap.parse_args()
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    texts = [a.text for a in load_news()[: args.news]]
    texts += [p["text"] for p in load_retrieval_set("dureader").corpus[: args.dureader]]
    words("预热")
    t0 = time.perf_counter()
    ref = [Counter(python_jieba_words(t, jieba)) for t in texts]
    t_py = time.perf_counter() - t0
    t0 = time.perf_counter()
    new = [Counter(words(t)) for t in texts]
    t_rs = time.perf_counter() - t0
    diff: Counter = Counter()
    differ = 0
    for a, b in zip(ref, new, strict=True):
        if a != b:
            differ += 1
            diff.update({f"-{k}": v for k, v in (a - b).items()})
            diff.update({f"+{k}": v for k, v in (b - a).items()})
    total = sum(sum(c.values()) for c in ref)
    han = sum(v for k, v in diff.items() if re.search(r"[\u3400-\u9fff]", k))
    print(f"passages {len(texts)}, {sum(map(len, texts))} characters, {total} Python-jieba tokens")
    print(f"Python jieba {t_py:.2f}s, index tokenizer {t_rs:.2f}s: {t_py / t_rs:.1f}x faster")
    print(f"passages whose token bag differs: {differ} ({differ / len(texts):.1%}); tokens that differ: "
          f"{sum(diff.values())} ({sum(diff.values()) / total:.2%}), of them with Han characters: {han}")
    print("most frequent differences (- only Python jieba, + only the index tokenizer):")
    print("  " + ", ".join(f"{k} x{v}" for k, v in diff.most_common(30)))


if __name__ == "__main__":
    main()
