"""The ``policyqa`` command: a thin layer over qa.engine.Engine.

Global options (:data:`GLOBAL_OPTIONS`) are accepted before or after the subcommand, for every
subcommand: each subcommand's parser is built with them (defaults suppressed, so a value given
before the subcommand is kept unless it is given again after it). Read-only commands open the data
directory with ``create=False``, so they never create one.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import textwrap
from pathlib import Path

from api import migrate_cli, render, serve
from api.config import resolve_data_dir, store_config

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
DOCS_PAGE = 50  # documents listed by `policyqa docs` unless --limit says otherwise

# (flags, argparse keyword arguments, repeated in hints): options every subcommand accepts, before or
# after its name. An option that says where the data lives is repeated in the hints the CLI prints.
GLOBAL_OPTIONS: tuple[tuple[tuple[str, ...], dict, bool], ...] = (
    (
        ("--data-dir",),
        {"metavar": "DIR", "help": "data directory (default $POLICYQA_DATA or the user's)"},
        True,
    ),
    (("--json",), {"action": "store_true", "help": "print JSON instead of text"}, False),
    (
        ("--store",),
        {"choices": ["local", "milvus"], "metavar": "KIND", "help": "local (default) or milvus; $POLICYQA_STORE"},
        True,
    ),
    (
        ("--milvus-uri",),
        {"metavar": "URI", "help": "http(s)://host:19530 or a milvus-lite .db file"},
        True,
    ),
)

EXIT_CODES = """exit codes:
  0  done; ask: an answer was given, found or not ("found" in --json says which)
  1  failed: an input was rejected (the others were stored), no such document,
     no documents or no data directory yet, or a problem with the data directory
  2  usage error: unknown command or option, bad value, missing argument
  3  busy: another writer held the write lock too long; try again
  4  store unavailable: Milvus unreachable, auth or TLS refused, or built with
     another embedder (one line names the URI and the reason)"""

EXAMPLES = """examples:
  policyqa --data-dir demo-data ingest corpus/samples/kunming
  policyqa --data-dir demo-data ask "哪些企业落地磨憨？"
  policyqa search "磨憨口岸" -k 3 --since 2024 --data-dir demo-data
  policyqa docs --limit 20 --offset 20 --json"""


def _para(text: str) -> str:
    """A paragraph wrapped for an 80-column terminal (descriptions and epilogs are printed as written)."""
    return textwrap.fill(text, 78)


def _global_options(after_command: bool) -> argparse.ArgumentParser:
    """A parent parser with the global options; after the command their defaults are suppressed so
    that they do not overwrite a value given before it."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("global options (before or after the command)")
    for flags, kwargs, _repeat in GLOBAL_OPTIONS:
        group.add_argument(*flags, **({**kwargs, "default": argparse.SUPPRESS} if after_command else kwargs))
    return parent


class _CommandParser(argparse.ArgumentParser):
    """The parser of one subcommand: always takes the global options, so no subcommand can miss them."""

    def __init__(self, *args, parents=(), **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, parents=[_global_options(after_command=True), *parents], **kwargs)


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def command_prefix(args) -> str:
    """``policyqa`` with the options the user gave that say where the data lives, for hints."""
    parts = ["policyqa"]
    for flags, _kwargs, repeat in GLOBAL_OPTIONS:
        value = getattr(args, flags[0].lstrip("-").replace("-", "_"), None)
        if repeat and value:
            parts += [flags[0], shlex.quote(str(value))]
    return " ".join(parts)


def _engine(args, create: bool = False):
    """The engine over the chosen store; reads (``create=False``) never create a local data directory."""
    from qa.engine import Engine

    config = store_config(getattr(args, "data_dir", None), getattr(args, "store", None),
                          getattr(args, "milvus_uri", None))
    if config.kind == "local":
        return Engine(config.data_dir, config.embedder, create=create)
    from index.stores import open_store

    return Engine(store=open_store(config))


def _filters(args):
    from qa.search import Filters

    return Filters(since=args.since, until=args.until, source=args.source)


class _IngestProgress:
    """A chunks/s bar with time left on stderr; the total is estimated from the article count and the
    chunks per article prepared so far (the reader runs ahead of the embedder)."""

    def __init__(self, articles: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.articles, self.docs, self.chunks = articles, 0, 0
        self.bar = tqdm(unit="chunk", desc="ingest", disable=not enabled, file=sys.stderr, dynamic_ncols=True,
                        smoothing=0.1)

    def prepared(self, chunks: int) -> None:
        self.docs += 1
        self.chunks += chunks
        if self.articles and self.docs:
            estimate = round(self.chunks / self.docs * max(self.articles, self.docs))
            if estimate != self.bar.total:
                self.bar.total = estimate

    def embedded(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        if self.docs == self.articles:
            self.bar.total = self.chunks
        self.bar.close()


def _names(paths: list[str], most: int = 10) -> str:
    shown = ", ".join(paths[:most])
    return shown + (f", and {len(paths) - most} more (all listed with --json)" if len(paths) > most else "")


def cmd_ingest(args) -> int:
    engine = _engine(args, create=True)
    paths = [Path(p) for p in args.paths]
    show = not args.json and sys.stderr.isatty()
    articles = 0
    if show:
        from corpus.models import Article
        from corpus.readers import read_paths

        articles = sum(isinstance(item, Article) for item in read_paths(paths))
    progress = _IngestProgress(articles, show)
    try:
        report = engine.ingest_paths(
            paths,
            on_chunks=progress.embedded,
            on_prepared=progress.prepared,
            replace=args.replace,
            id_prefix=args.id_prefix,
        )
    finally:
        progress.close()
    for r in report.rejected:
        where = f"{r.path}:{r.line}" if r.line else r.path
        print(f"rejected {where}: {r.reason}", file=sys.stderr)
    if report.result.conflicts:
        n = len(report.result.conflicts)
        print(f"hint: {n} {'id is' if n == 1 else 'ids are'} already taken by documents from other files; "
              f"to replace them: {command_prefix(args)} ingest --replace PATH...; to keep both: "
              f"{command_prefix(args)} ingest --id-prefix PREFIX PATH...", file=sys.stderr)
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
        if report.skipped:
            n = len(report.skipped)
            print(f"skipped {n} unsupported {'file' if n == 1 else 'files'}: {_names(report.skipped)}")
    return EXIT_FAIL if report.rejected else EXIT_OK


def _search_one(engine, query: str, args) -> dict:
    hits = engine.search(query, k=args.k, filters=_filters(args), mode=args.mode)
    return {"query": query, "hits": [h.as_dict() for h in hits]}


def cmd_search(args) -> int:
    if not args.batch and not args.query:
        print("policyqa search: give a QUERY or --batch FILE", file=sys.stderr)
        return EXIT_USAGE
    _filters(args).where()  # a bad filter fails here, before any load starts
    engine = _engine(args)
    if args.mode != "bm25":
        engine.warm_up()  # the model loads while the rest of the query path is imported and prepared
    try:
        if args.batch:
            return _search_batch(engine, args)
        result = _search_one(engine, args.query, args)
    finally:
        engine.wait_warm_up()
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
    filters = _filters(args)
    filters.where()  # a bad filter fails here, before any load starts
    engine = _engine(args)
    engine.warm_up(extraction=True)  # the model and jieba's dictionaries load side by side
    try:
        answer = engine.ask(args.question, k=args.k, filters=filters, generate=args.llm).as_dict()
    finally:
        engine.wait_warm_up()
    if (answer.get("generated") or {}).get("error"):
        print(f"warning: no generated answer ({answer['generated']['error']}); the extractive one follows",
              file=sys.stderr)
    if args.json:
        _print_json(answer)
    elif args.format == "csv":
        sys.stdout.write(render.items_csv(answer))
    else:
        print(render.render_corpus_wide(answer) if answer.get("aggregate") else render.render_answer(answer))
    return EXIT_OK  # found or not: an answer was given (see "found")


def cmd_show(args) -> int:
    engine = _engine(args)
    doc = engine.store.get_document(args.doc_id)
    if doc is None:
        print(f"no document {args.doc_id!r}; list them with: {command_prefix(args)} docs", file=sys.stderr)
        return EXIT_FAIL
    _print_json(doc) if args.json else print(render.render_document(doc))
    return EXIT_OK


def cmd_docs(args) -> int:
    store = _engine(args).store
    limit = args.limit or None
    docs = store.list_documents(limit=limit, offset=args.offset)
    total = store.stats()["documents"]
    _print_json(docs) if args.json else print(render.render_docs(docs))
    if limit is not None and args.offset + len(docs) < total:
        print(f"{len(docs)} of {total} documents listed (from #{args.offset + 1}, newest date first); more "
              f"with --offset {args.offset + len(docs)}, all with --limit 0", file=sys.stderr)
    return EXIT_OK


def cmd_delete(args) -> int:
    deleted = _engine(args).delete(args.doc_id)
    if args.json:
        _print_json({"doc_id": args.doc_id, "deleted": deleted})
    else:
        print(f"deleted {args.doc_id}" if deleted else f"no document {args.doc_id!r}")
    return EXIT_OK if deleted else EXIT_FAIL


def cmd_stats(args) -> int:
    from qa.engine import data_dir_exists

    data_dir, origin = resolve_data_dir(args.data_dir)
    remote = store_config(args.data_dir, getattr(args, "store", None), getattr(args, "milvus_uri", None)).kind != "local"
    if remote or data_dir_exists(data_dir):
        stats = {**_engine(args).store.stats(), "exists": True}
    else:  # report where the data would live, creating nothing
        stats = {"data_dir": str(data_dir), "exists": False, "documents": 0, "chunks": 0, "generation": 0,
                 "embedder": None}
        print(f"no policyqa data in {data_dir} yet (nothing was created); add documents with: "
              f"{command_prefix(args)} ingest PATH", file=sys.stderr)
    stats["data_dir_from"] = origin
    _print_json(stats) if args.json else print(render.render_stats(stats))
    return EXIT_OK


def cmd_reembed(args) -> int:
    from dataclasses import replace

    from index.embedder import EmbedderSpec, parse_runtime
    from index.reembed import reembed
    from qa.engine import data_dir_exists

    data_dir, _origin = resolve_data_dir(args.data_dir)
    if not data_dir_exists(data_dir):
        print(f"policyqa reembed: {data_dir} is not a data directory (nothing ingested there)", file=sys.stderr)
        return EXIT_FAIL
    from index.backend import StoreConfig
    from index.stores import open_store

    current = open_store(StoreConfig(kind="local", data_dir=data_dir)).spec
    runtime, precision = parse_runtime(args.runtime)
    base = current if current.backend != "hash" else EmbedderSpec()
    new = replace(base, runtime=runtime, precision=precision)
    if new == current:
        print(f"{data_dir} already holds {current.label} vectors; nothing to do")
        return EXIT_OK
    print(f"re-embedding {data_dir}: {current.label} -> {new.label}", file=sys.stderr)
    report = reembed(data_dir, new)
    out = report.as_dict()
    if args.json:
        _print_json(out)
    else:
        print(f"re-embedded {out['documents']} documents ({out['chunks']} chunks) with {new.label}")
    return EXIT_OK


def _whole_number(minimum: int):
    """An argparse type: a whole number of at least ``minimum``, with a message naming the value."""

    def parse(value: str) -> int:
        try:
            n = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if n < minimum:
            raise argparse.ArgumentTypeError(f"{value} must be {minimum} or more")
        return n

    return parse


_positive_int = _whole_number(1)
_count = _whole_number(0)


def _add_filters(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filters (combine freely)")
    g.add_argument("--since", metavar="DATE", help="only documents dated on/after DATE (YYYY[-MM[-DD]])")
    g.add_argument("--until", metavar="DATE", help="only documents dated on/before DATE (same forms)")
    g.add_argument("--source", metavar="TEXT", help="only documents whose source contains TEXT")


def add_ingest(sub) -> None:
    p = sub.add_parser(
        "ingest", help="add or update articles from files and folders",
        description=_para("Add or update articles. Folders are read recursively (hidden entries skipped; "
                          "files of other types are named as skipped). A file's document id is its path "
                          "relative to the folder given (its file name when the file itself is given), unless "
                          "it declares a url or (JSONL) an id."),
        epilog="examples:\n  policyqa ingest news/\n  policyqa ingest --id-prefix b/ other/news/\n\n"
               + _para("An id already stored from a different file is rejected with both paths named (exit "
                       "1; the rest is stored); re-ingesting the same file updates it; JSONL ids always "
                       "update."),
    )
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="files (.txt .md .jsonl .html .htm) or folders")
    p.add_argument("--replace", action="store_true",
                   help="let a file replace a same-id document of another file")
    p.add_argument("--id-prefix", metavar="PREFIX", default="",
                   help="put PREFIX before every id read, to keep both (e.g. b/)")
    p.set_defaults(func=cmd_ingest)


def add_search(sub) -> None:
    p = sub.add_parser(
        "search", help="find passages",
        epilog="modes:\n  hybrid  meaning (dense) and word (bm25) matches, fused (the default)\n"
               "  dense   nearest passages by meaning only (multilingual embeddings)\n"
               "  bm25    word matches only (exact names and numbers)\n\n"
               'examples:\n  policyqa search "磨憨口岸"\n  policyqa search "产业转移" -k 3 --mode bm25 --source 昆明\n'
               '  policyqa search --batch queries.jsonl > hits.jsonl',
    )
    p.add_argument("query", nargs="?", help="what to look for, in quotes (Chinese or English)")
    p.add_argument("-k", type=_positive_int, default=10, metavar="N", help="number of passages (default 10)")
    p.add_argument("--batch", metavar="FILE",
                   help='JSONL file of {"id", "text"} queries; prints JSONL')
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], default="hybrid",
                   help="hybrid (default), dense or bm25: see below")
    _add_filters(p)
    p.set_defaults(func=cmd_search)


def add_ask(sub) -> None:
    p = sub.add_parser(
        "ask", help="answer a question with cited passages",
        epilog='examples:\n  policyqa ask "哪些企业落地磨憨？"\n  policyqa ask "Which firms landed in Mohan?" -k 3 --json\n\n'
               + EXIT_CODES,
    )
    p.add_argument("question", help="the question, in quotes (Chinese or English)")
    p.add_argument("-k", type=_positive_int, default=5, metavar="N",
                   help="passages the answer draws on and cites (default 5)")
    p.add_argument("--llm", action=argparse.BooleanOptionalAction, default=None,
                   help="rewrite with the LLM of $POLICYQA_LLM_BASE_URL (if set)")
    p.add_argument("--format", choices=["text", "csv"], default="text",
                   help="csv: the items, one row per mention")
    _add_filters(p)
    p.set_defaults(func=cmd_ask)


def add_show(sub) -> None:
    p = sub.add_parser("show", help="show one document", epilog="example:\n  policyqa show news/index.txt")
    p.add_argument("doc_id", help="a document id, as `policyqa docs` lists it")
    p.set_defaults(func=cmd_show)


def add_delete(sub) -> None:
    p = sub.add_parser("delete", help="delete one document", epilog="example:\n  policyqa delete news/index.txt")
    p.add_argument("doc_id", help="a document id, as `policyqa docs` lists it")
    p.set_defaults(func=cmd_delete)


def add_docs(sub) -> None:
    p = sub.add_parser("docs", help="list documents, newest date first",
                       epilog="examples:\n  policyqa docs\n  policyqa docs --limit 20 --offset 40\n  policyqa docs --limit 0 --json")
    p.add_argument("--limit", type=_count, default=DOCS_PAGE, metavar="N",
                   help=f"list at most N documents (default {DOCS_PAGE}; 0: all)")
    p.add_argument("--offset", type=_count, default=0, metavar="N", help="skip the first N documents (default 0)")
    p.set_defaults(func=cmd_docs)


def add_stats(sub) -> None:
    p = sub.add_parser("stats", help="counts, data directory and embedder",
                       epilog="example:\n  policyqa stats --data-dir ./data")
    p.set_defaults(func=cmd_stats)


def add_reembed(sub) -> None:
    from index.embedder import runtime_choices

    p = sub.add_parser("reembed", help="re-embed every chunk with another embedding runtime",
                       epilog="runtimes: " + ", ".join(runtime_choices()) + "\n\nexample:\n  policyqa reembed onnx-int8")
    p.add_argument("runtime", metavar="RUNTIME", help="runtime-precision of the new vectors (see below)")
    p.set_defaults(func=cmd_reembed)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; each subcommand is added by its own ``add_*`` function."""
    parser = argparse.ArgumentParser(
        prog="policyqa",
        description=_para("Search and cited answers over Chinese policy news, offline. Only ingest (and "
                          "serve) create a data directory; the other commands read and create nothing."),
        epilog=EXAMPLES + "\n\n" + EXIT_CODES + "\n\nRun `policyqa COMMAND --help` for a command's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_global_options(after_command=False)],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_CommandParser)
    for add in (add_ingest, add_search, add_ask, add_show, add_docs, add_delete, add_stats, add_reembed):
        add(sub)
    serve.register(sub)
    migrate_cli.register(sub)
    return parser


def _no_documents_message(error, args) -> str:
    from qa.errors import NoDataDirError

    hint = f"{command_prefix(args)} ingest PATH"
    if isinstance(error, NoDataDirError):
        return f"no policyqa data in {error.data_dir} (nothing was created); add documents with: {hint}"
    return f"no documents in {error.data_dir} yet; add some with: {hint}"


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``policyqa`` command; returns an exit code (see EXIT_CODES)."""
    from index.backend import EXIT_STORE_UNAVAILABLE, StoreError, StoreUnavailableError, WriterBusyError
    from qa.errors import NoDocumentsError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except StoreUnavailableError as e:  # one line naming the store and the reason; nothing was touched
        print(f"policyqa: {e}", file=sys.stderr)
        return EXIT_STORE_UNAVAILABLE
    except NoDocumentsError as e:
        print(_no_documents_message(e, args), file=sys.stderr)
        return EXIT_FAIL
    except BrokenPipeError:  # output piped into a reader that stopped early (| head): not an error to report
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - stays open until exit, so the final flush succeeds
        return EXIT_FAIL
    except WriterBusyError as e:
        print(f"busy: {e}; try again when the other writer is done", file=sys.stderr)
        return EXIT_BUSY
    except (StoreError, ValueError, OSError) as e:
        print(f"policyqa: {e}", file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
