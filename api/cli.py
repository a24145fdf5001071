"""The ``policyqa`` command: a thin layer over qa.engine.Engine."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from api import render, serve
from api.config import resolve_data_dir, store_config

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _engine(args):
    from index.stores import open_store
    from qa.engine import Engine

    return Engine(store=open_store(store_config(args.data_dir, args.store, args.milvus_uri)))


def _filters(args):
    from qa.search import Filters

    return Filters(since=args.since, until=args.until, source=args.source)


def cmd_ingest(args) -> int:
    from tqdm import tqdm

    engine = _engine(args)
    bar = tqdm(unit="doc", desc="ingest", disable=args.json or not sys.stderr.isatty(), file=sys.stderr)
    report = engine.ingest_paths([Path(p) for p in args.paths], on_batch=lambda docs, _chunks: bar.update(docs))
    bar.close()
    for r in report.rejected:
        where = f"{r.path}:{r.line}" if r.line else r.path
        print(f"rejected {where}: {r.reason}", file=sys.stderr)
    for w in report.warnings:
        print(f"warning {w}", file=sys.stderr)
    out = report.as_dict()
    if args.json:
        _print_json(out)
    else:
        print(
            f"added {out['added']}, updated {out['updated']}, unchanged {out['unchanged']}, "
            f"duplicates {out['duplicates']}, rejected {len(out['rejected'])}"
        )
        for doc_id, twin in report.result.duplicates:
            print(f"duplicate: {doc_id} has the same text as {twin} (not indexed twice)")
    return EXIT_FAIL if report.rejected else EXIT_OK


def _search_one(engine, query: str, args) -> dict:
    hits = engine.search(query, k=args.k, filters=_filters(args), mode=args.mode)
    return {"query": query, "hits": [h.as_dict() for h in hits]}


def cmd_search(args) -> int:
    engine = _engine(args)
    if args.batch:
        return _search_batch(engine, args)
    if not args.query:
        print("policyqa search: give a QUERY or --batch FILE", file=sys.stderr)
        return EXIT_USAGE
    result = _search_one(engine, args.query, args)
    _print_json(result) if args.json else print(render.render_hits(result))
    return EXIT_OK


def _search_batch(engine, args) -> int:
    status = EXIT_OK
    with open(args.batch, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                qid = obj.get("id", obj.get("_id"))
                query = obj.get("text", obj.get("query"))
                if not isinstance(query, str) or not query.strip():
                    raise ValueError("needs a non-empty 'text' or 'query' string")
            except (ValueError, AttributeError) as e:
                print(f"{args.batch}:{n}: {e}", file=sys.stderr)
                status = EXIT_FAIL
                continue
            hits = engine.search(query, k=args.k, filters=_filters(args), mode=args.mode)
            print(json.dumps({"id": qid, "hits": [h.as_dict() for h in hits]}, ensure_ascii=False))
    return status


def cmd_ask(args) -> int:
    engine = _engine(args)
    answer = engine.ask(args.question, k=args.k, filters=_filters(args), generate=args.llm).as_dict()
    if (answer.get("generated") or {}).get("error"):
        print(f"warning: no generated answer ({answer['generated']['error']}); the extractive one follows",
              file=sys.stderr)
    _print_json(answer) if args.json else print(render.render_answer(answer))
    return EXIT_OK


def cmd_show(args) -> int:
    engine = _engine(args)
    doc = engine.store.get_document(args.doc_id)
    if doc is None:
        print(f"no document {args.doc_id!r}", file=sys.stderr)
        return EXIT_FAIL
    _print_json(doc) if args.json else print(render.render_document(doc))
    return EXIT_OK


def cmd_docs(args) -> int:
    docs = _engine(args).store.list_documents()
    _print_json(docs) if args.json else print(render.render_docs(docs))
    return EXIT_OK


def cmd_delete(args) -> int:
    deleted = _engine(args).delete(args.doc_id)
    if args.json:
        _print_json({"doc_id": args.doc_id, "deleted": deleted})
    else:
        print(f"deleted {args.doc_id}" if deleted else f"no document {args.doc_id!r}")
    return EXIT_OK if deleted else EXIT_FAIL


def cmd_stats(args) -> int:
    data_dir, origin = resolve_data_dir(args.data_dir)
    stats = _engine(args).store.stats()
    stats["data_dir_from"] = origin
    _print_json(stats) if args.json else print(render.render_stats(stats))
    return EXIT_OK


def _add_filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", help="only documents dated on/after this (YYYY, YYYY-MM or YYYY-MM-DD)")
    p.add_argument("--until", help="only documents dated on/before this")
    p.add_argument("--source", help="only documents whose source contains this text")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands register here)."""
    parser = argparse.ArgumentParser(prog="policyqa", description="Search and cited answers over Chinese policy news.")
    parser.add_argument("--data-dir", help="data directory (default: $POLICYQA_DATA, else the user data dir)")
    parser.add_argument("--store", choices=["local", "milvus"],
                        help="where the corpus lives (default: $POLICYQA_STORE, else local: the data directory)")
    parser.add_argument("--milvus-uri", help="with --store milvus: http(s)://host:19530 or a milvus-lite .db file "
                        "(default: $POLICYQA_MILVUS_URI; token, database and prefix from $POLICYQA_MILVUS_*)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add or update articles from files and folders")
    p.add_argument("paths", nargs="+")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="find passages")
    p.add_argument("query", nargs="?")
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--batch", help="JSONL file of queries ({'id', 'text'} per line)")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid")
    p.add_argument("--json", action="store_true")
    _add_filters(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--llm", action=argparse.BooleanOptionalAction, default=None,
                   help="rewrite the answer with the LLM at $POLICYQA_LLM_BASE_URL (default: when one is configured)")
    p.add_argument("--json", action="store_true")
    _add_filters(p)
    p.set_defaults(func=cmd_ask)

    for name, func, help_ in (("show", cmd_show, "show one document"), ("delete", cmd_delete, "delete one document")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("doc_id")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)

    for name, func, help_ in (("docs", cmd_docs, "list documents"), ("stats", cmd_stats, "counts and data directory")):
        p = sub.add_parser(name, help=help_)
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=func)

    serve.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policyqa`` command."""
    from index.backend import EXIT_STORE_UNAVAILABLE, StoreError, StoreUnavailableError, WriterBusyError
    from qa.engine import NoDocumentsError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StoreUnavailableError as e:  # one line naming the store and the reason; nothing was touched
        print(f"policyqa: {e}", file=sys.stderr)
        return EXIT_STORE_UNAVAILABLE
    except NoDocumentsError as e:
        print(str(e), file=sys.stderr)
        return EXIT_FAIL
    except WriterBusyError as e:
        print(f"busy: {e}; try again when the other writer is done", file=sys.stderr)
        return 3
    except (StoreError, ValueError, OSError) as e:
        print(f"policyqa: {e}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
