#!/usr/bin/env python3
"""Check a repaired sklearn-rnn wheel before it is tested or published.

Usage::

    python build_tools/wheels/check_wheel_contents.py [--no-openmp] WHEEL_OR_DIR...

For each wheel (or every ``*.whl`` in a directory) this checks that:

* no Cython source or generated C ships (``.pyx``, ``.c``, ``.cpp``, Cython's
  ``.html`` annotations);
* every extension listed in ``setup.py``'s ``EXTENSIONS`` table is present,
  compiled for the wheel's platform (``.so`` or ``.pyd``);
* the wheel's version is the one in ``sklearn_rnn/_version.py``;
* the OpenMP runtime is vendored, as each platform's repair tool does it:
  ``sklearn_rnn.libs/libgomp-*.so*`` (auditwheel),
  ``sklearn_rnn/.dylibs/libomp.dylib`` (delocate) or
  ``sklearn_rnn.libs/vcomp140*.dll`` (delvewheel); ``--no-openmp`` skips this
  for ``SKLEARN_RNN_NO_OPENMP=1`` builds;
* ELF extensions (Linux) are stripped: no ``.symtab`` and no ``.debug_*``
  sections.

Only the standard library is used, so it runs in cibuildwheel's build
environments. Exits 1 and lists every problem when a check fails.
"""

import argparse
import ast
import fnmatch
import struct
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_SUFFIXES = (".pyx", ".c", ".cpp", ".html")
OPENMP_RUNTIMES = {
    "manylinux": "sklearn_rnn.libs/libgomp*.so*",
    "macosx": "sklearn_rnn/.dylibs/libomp.dylib",
    "win": "sklearn_rnn.libs/vcomp140*.dll",
}


def _assigned_literal(path, name):
    """The literal value assigned to ``name`` at the top level of ``path``."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise ValueError(f"{path} assigns no literal {name}")


def _platform_family(wheel_name):
    """'manylinux', 'macosx' or 'win' from the wheel's platform tag."""
    platform_tag = wheel_name[: -len(".whl")].split("-")[-1]
    for family in ("manylinux", "macosx", "win"):
        if platform_tag.startswith(family):
            return family
    raise ValueError(f"{wheel_name}: unsupported platform tag {platform_tag!r}")


def _elf_section_names(data):
    """Section names of a 64-bit little-endian ELF file, or None if not one."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return None
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def header(i):
        # sh_name (I), sh_type (I), sh_flags (Q), sh_addr (Q), sh_offset (Q), sh_size (Q)
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)

    _, _, _, _, str_offset, str_size = header(shstrndx)
    strtab = data[str_offset : str_offset + str_size]
    names = []
    for i in range(shnum):
        name_offset = header(i)[0]
        end = strtab.index(b"\0", name_offset)
        names.append(strtab[name_offset:end].decode("ascii"))
    return names


def check_wheel(path, expect_openmp=True):
    """Return the list of problems found in one wheel (empty when it is fine)."""
    problems = []
    family = _platform_family(path.name)
    version = _assigned_literal(ROOT / "sklearn_rnn" / "_version.py", "__version__")
    extensions = _assigned_literal(ROOT / "setup.py", "EXTENSIONS")
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()

        for name in names:
            if name.endswith(FORBIDDEN_SUFFIXES):
                problems.append(f"ships a source or generated file: {name}")

        suffix = ".pyd" if family == "win" else ".so"
        for module, _ in extensions:
            stem = module.replace(".", "/")
            built = [
                n for n in names if n.startswith(stem + ".") and n.endswith(suffix)
            ]
            if len(built) != 1:
                problems.append(
                    f"extension {module}: expected one {suffix}, found {built}"
                )
            elif suffix == ".so":
                sections = _elf_section_names(wheel.read(built[0]))
                if sections is not None:
                    unstripped = [
                        s for s in sections if s == ".symtab" or s.startswith(".debug")
                    ]
                    if unstripped:
                        problems.append(f"{built[0]} is not stripped: {unstripped}")

        dist_info = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = wheel.read(dist_info[0]).decode("utf-8") if dist_info else ""
        if f"\nVersion: {version}\n" not in metadata:
            problems.append(f"METADATA does not carry _version.py's version {version}")

        if expect_openmp:
            pattern = OPENMP_RUNTIMES[family]
            if not fnmatch.filter(names, pattern):
                problems.append(
                    f"OpenMP runtime not vendored: nothing matches {pattern}"
                )
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="wheels or directories")
    parser.add_argument(
        "--no-openmp",
        action="store_true",
        help="do not require a vendored OpenMP runtime (serial builds)",
    )
    args = parser.parse_args(argv)

    wheels = []
    for path in args.paths:
        wheels.extend(sorted(path.glob("*.whl")) if path.is_dir() else [path])
    if not wheels:
        print(f"no wheel found in {[str(p) for p in args.paths]}", file=sys.stderr)
        return 1

    failed = False
    for wheel in wheels:
        problems = check_wheel(wheel, expect_openmp=not args.no_openmp)
        if problems:
            failed = True
            print(f"{wheel.name}: FAILED", file=sys.stderr)
            for problem in problems:
                print(f"  - {problem}", file=sys.stderr)
        else:
            print(f"{wheel.name}: OK ({wheel.stat().st_size} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
