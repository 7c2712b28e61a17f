"""Generate the one Python package of gRPC stubs (gen/hallway) from proto/.

``python -m hallway_dev.protogen`` regenerates; ``--check`` fails when the
checked-in code is stale (CI runs it).
"""

from __future__ import annotations

import filecmp
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"
GEN = ROOT / "gen"


def generate(out: Path) -> None:
    from grpc_tools import protoc

    include = str(resources.files("grpc_tools") / "_proto")
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in [out / "hallway", *(p for p in (out / "hallway").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()


def _tree(root: Path) -> set[str]:
    files = (p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return {str(p.relative_to(root)) for p in files}


def main() -> None:
    check = "--check" in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate(out)
        if check:
            fresh, current = _tree(out), _tree(GEN)
            stale = sorted(
                f
                for f in fresh | current
                if f not in fresh or f not in current or not filecmp.cmp(out / f, GEN / f, False)
            )
            if stale:
                raise SystemExit(f"gen/ is stale, run `make proto`: {', '.join(stale)}")
            print("gen/ is up to date")
            return
        shutil.rmtree(GEN / "hallway", ignore_errors=True)
        shutil.copytree(out / "hallway", GEN / "hallway")
        print(f"generated {len(_tree(GEN))} files into {GEN}")


if __name__ == "__main__":
    main()
