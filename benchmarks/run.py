"""Run the committed benchmarks: ``python3 dev.py bench [NAME...]``.

Each ``benchmarks/bench_<name>.py`` has a ``main(argv) -> int`` that prints its figures (ratios
against a baseline measured in the same run) and is documented in docs/performance.md.
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = argv or sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    status = 0
    for name in names:
        path = HERE / f"bench_{name}.py"
        if not path.exists():
            print(f"bench: no benchmark named {name!r}", file=sys.stderr)
            return 2
        spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # multiprocessing pickles its functions by module name
        spec.loader.exec_module(module)
        print(f"== {name}", flush=True)
        status |= module.main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
