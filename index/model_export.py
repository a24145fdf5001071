"""ONNX copies of the default model, exported locally from the rebuilt sentence-transformers directory.

``ensure_onnx_model("fp32")`` exports the BERT encoder with mean pooling and L2 normalization inside the
graph (inputs ``input_ids``/``attention_mask``, output ``embedding``); ``ensure_onnx_model("int8")``
also quantizes its weights with ONNX Runtime's dynamic quantization (int8 weights, per output channel,
activations quantized per batch at run time). Each is built once, on first use, into the model cache
beside the rebuilt model (``multilingual-e5-small.onnx-fp32/``, ``multilingual-e5-small.onnx-int8/``),
in a temporary sibling renamed into place under a lock file, like :mod:`index.model_build`. Nothing is
downloaded; the export needs torch and transformers, later loading needs only onnxruntime and tokenizers.

Run ``python -m index.model_export [fp32|int8]`` to build and print the path.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.model_build import (
    DEFAULT_MODEL_NAME,
    MARKER_NAME,
    _exclusive,
    _read_marker,
    _remove_leftovers,
    _remove_tree,
    _write_json,
    ensure_default_model,
    model_cache_dir,
)

# Bump whenever the exported graph or the quantization settings change; older exports are rebuilt.
EXPORT_VERSION = 1
PRECISIONS = ("fp32", "int8")
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
OPSET = 17


def onnx_dir_name(precision: str) -> str:
    """Cache directory name of one ONNX export."""
    return f"{DEFAULT_MODEL_NAME}.onnx-{precision}"


def _base_built_at(base: Path) -> str | None:
    marker = _read_marker(base)
    return marker.get("built_at") if marker else None


def is_complete(export_dir: Path, base: Path) -> bool:
    """True if ``export_dir`` is a finished export of the current version from this build of ``base``."""
    marker = _read_marker(export_dir)
    if marker is None or marker.get("export_version") != EXPORT_VERSION:
        return False
    if marker.get("base_built_at") != _base_built_at(base):
        return False
    return all((export_dir / name).is_file() for name in (MODEL_FILE, TOKENIZER_FILE))


def _announce(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def export_fp32(model_dir: Path, out_file: Path) -> None:
    """Export the encoder, mean pooling and normalization of ``model_dir`` to one ONNX file."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    ids = torch.ones((2, 16), dtype=torch.long)
    mask = torch.ones((2, 16), dtype=torch.long)
    with torch.no_grad():
        torch.onnx.export(
            Pooled(model),
            (ids, mask),
            str(out_file),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=OPSET,
            dynamo=False,
        )


def fuse_bert(in_file: Path, out_file: Path, num_heads: int, hidden: int) -> None:
    """ONNX Runtime's BERT fusions (attention, embedding layer norm, skip layer norm, bias GELU)."""
    from onnxruntime.transformers.optimizer import optimize_model

    fused = optimize_model(
        str(in_file), model_type="bert", num_heads=num_heads, hidden_size=hidden, opt_level=1, use_gpu=False
    )
    fused.save_model_to_file(str(out_file))


def quantize_int8(fp32_file: Path, out_file: Path) -> None:
    """Dynamic int8 quantization of the weights (per output channel, reduced range for AVX2 kernels)."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32_file),
        str(out_file),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=True,
        extra_options={"DefaultTensorType": TensorProto.FLOAT},
    )


def build_export(base: Path, out_dir: Path, precision: str) -> None:
    """Write ``model.onnx`` (of ``precision``) and the tokenizer into ``out_dir``."""
    if precision not in PRECISIONS:
        raise ValueError(f"ONNX precision {precision!r} is not one of {PRECISIONS}")
    out_dir.mkdir(parents=True, exist_ok=True)
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix=".policyqa-export-", dir=out_dir.parent) as tmp:
        raw = Path(tmp) / "raw.onnx"
        export_fp32(base, raw)
        fused = out_dir / MODEL_FILE if precision == "fp32" else Path(tmp) / "fused.onnx"
        fuse_bert(raw, fused, int(config["num_attention_heads"]), int(config["hidden_size"]))
        if precision == "int8":
            quantize_int8(fused, out_dir / MODEL_FILE)
    shutil.copyfile(base / TOKENIZER_FILE, out_dir / TOKENIZER_FILE)
    (out_dir / MODEL_FILE).chmod(0o644)


def ensure_onnx_model(precision: str, cache_dir: Path | None = None) -> Path:
    """Directory with ``model.onnx`` and ``tokenizer.json`` for ``precision``, built on first use.

    Builds the rebuilt sentence-transformers model first if needed. Safe across processes: one
    exports while the others wait on a lock file; interrupted exports leave only temp dirs, removed
    by the next build.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"ONNX precision {precision!r} is not one of {PRECISIONS}")
    cache = Path(cache_dir) if cache_dir is not None else model_cache_dir()
    base = ensure_default_model(cache)
    target = cache / onnx_dir_name(precision)
    if is_complete(target, base):
        return target
    with _exclusive(cache / f".{target.name}.lock"):
        if not is_complete(target, base):
            _build_into_cache(cache, base, target, precision)
    return target


@contextmanager
def quiet_export() -> Iterator[None]:
    """Keep the exporters' chatter off the user's terminal: torch's tracer warnings, transformers' weight
    loading bar, and ONNX Runtime's quantizer advice, which it logs through the root logger (and so would
    also install a stderr handler for the whole process: every library's warnings printed after it)."""
    root = logging.getLogger()
    null = logging.NullHandler() if not root.handlers else None
    if null:
        root.addHandler(null)
    from transformers.utils import logging as hf_logging

    bar = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        if null:
            root.removeHandler(null)
        if bar:
            hf_logging.enable_progress_bar()


def _build_into_cache(cache: Path, base: Path, target: Path, precision: str) -> None:
    _remove_leftovers(cache, target.name)
    _remove_tree(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=cache))
    start = time.perf_counter()
    try:
        tmp.chmod(0o755)
        _announce(
            f"policyqa: exporting {DEFAULT_MODEL_NAME} to ONNX ({precision}) into {target} "
            "(first use only; about a minute)"
        )
        with quiet_export():
            build_export(base, tmp, precision)
        marker: dict[str, Any] = {
            "model": target.name,
            "export_version": EXPORT_VERSION,
            "precision": precision,
            "base_built_at": _base_built_at(base),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pid": os.getpid(),
        }
        _write_json(tmp / MARKER_NAME, marker)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _announce(f"policyqa: ONNX {precision} model ready in {time.perf_counter() - start:.0f}s")


def main(argv: list[str] | None = None) -> int:
    """Command line: export the default model to ONNX and print the directory."""
    args = sys.argv[1:] if argv is None else argv
    precision = args[0] if args else "int8"
    print(json.dumps(str(ensure_onnx_model(precision))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
