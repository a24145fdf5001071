"""``policyqa migrate``: options in, store configs to index.migrate, progress and the result out."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from dataclasses import replace

from api.config import resolve_data_dir, store_config

EXIT_OK, EXIT_FAIL = 0, 1

DESCRIPTION = (
    "Copy every document, chunk and vector of one store into another without re-embedding (no model is "
    "loaded): --to milvus copies the data directory (--data-dir, $POLICYQA_DATA) into the Milvus corpus "
    "at --milvus-uri ($POLICYQA_MILVUS_URI; token, database and collection prefix from "
    "$POLICYQA_MILVUS_TOKEN, _DB, _PREFIX); --to local copies that Milvus corpus into --data-dir. The "
    "target is created with the source's embedder, or must have been built with it. Each document is "
    "read back from the target and verified: a sha256 of its text, metadata, offsets and chunks, and a "
    "sha256 of its chunk vectors' float32 bytes, equal to the source's; then the counts. Killed or "
    "interrupted, the same command resumes: documents already copied are skipped, none is written "
    "twice. A document the target holds under the same id with other content is reported and kept "
    "(exit 1) unless --replace; documents only the target holds are kept. Stop writers to the source "
    "first (a write during the copy is reported: run it again)."
)

EPILOG = """examples:
  policyqa --data-dir ./data migrate --to milvus --milvus-uri http://db:19530
  POLICYQA_MILVUS_PREFIX=news policyqa migrate --to milvus --milvus-uri a.db
  policyqa migrate --to local --milvus-uri http://db:19530 --data-dir ./copy

exit codes:
  0  copied and verified (also when everything was there already)
  1  not verified: conflicts, duplicates or differences listed, or no source
  2  usage error
  4  the target was built with another embedder or dimension, or Milvus is
     unreachable or refused the credentials: one line says which; nothing
     was written"""


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``migrate`` to the CLI's subcommands."""
    p = sub.add_parser("migrate", help="copy the store to Milvus or back, without re-embedding",
                       description=textwrap.fill(DESCRIPTION, 78), epilog=EPILOG)
    p.add_argument("--to", required=True, choices=["milvus", "local"], help="where to copy: milvus or local")
    p.add_argument("--batch", type=_positive, default=64, metavar="N",
                   help="documents per batch, the unit of progress (default 64)")
    p.add_argument("--replace", action="store_true",
                   help="overwrite same-id target documents that differ")
    p.set_defaults(func=cmd_migrate)


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return n


def _configs(args):
    from index.backend import StoreConfig

    data_dir, _origin = resolve_data_dir(getattr(args, "data_dir", None))
    milvus = store_config(getattr(args, "data_dir", None), "milvus", getattr(args, "milvus_uri", None))
    milvus = replace(milvus, embedder=None)
    local = StoreConfig(kind="local", data_dir=data_dir)
    return (local, milvus) if args.to == "milvus" else (milvus, local)


def cmd_migrate(args) -> int:
    from index.migrate import migrate, open_stores

    source_config, target_config = _configs(args)
    source, target = open_stores(source_config, target_config)
    show = not args.json and sys.stderr.isatty()

    def progress(p) -> None:
        if show:
            print(f"migrate: {p.documents}/{p.total_documents} documents, {p.chunks}/{p.total_chunks} chunks "
                  f"(copied {p.copied}, already there {p.already})", file=sys.stderr, flush=True)

    report = migrate(source, target, batch_docs=args.batch, replace_conflicts=args.replace, on_batch=progress)
    out = report.as_dict()
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        for doc_id, reason in report.conflicts:
            print(f"conflict: {doc_id}: {reason}; kept the target's", file=sys.stderr)
        for doc_id, twin in report.duplicates:
            print(f"duplicate: {doc_id} has the same text as the target's {twin} (not copied)", file=sys.stderr)
        for doc_id in report.mismatched:
            print(f"mismatch: {doc_id} reads back from the target with another checksum", file=sys.stderr)
        if report.conflicts:
            print("hint: to overwrite them, run the same command with --replace", file=sys.stderr)
        rate = f", {out['chunks_per_s']} chunks/s" if out["chunks_per_s"] else ""
        print(f"migrated {report.source} -> {report.target}: {report.documents} documents, {report.chunks} chunks "
              f"(copied {report.copied} documents / {report.copied_chunks} chunks in {report.seconds:.1f}s{rate}; "
              f"already there {report.already})")
        if report.verified:
            print("verified: every document's content and vector checksums equal the source's; counts agree "
                  f"(target now holds {report.target_documents} documents, {report.target_chunks} chunks)")
        else:
            print("NOT verified: " + "; ".join(report.problems))
    return EXIT_OK if report.verified else EXIT_FAIL
