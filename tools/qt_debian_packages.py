"""Derive the Debian packages MF Studio's window needs from what PySide6's Qt really links against.

Usage (from the repository, with PySide6 installed in the venv):

    .venv/bin/python tools/qt_debian_packages.py         # the package list for README.md and .ci/run
    .venv/bin/python tools/qt_debian_packages.py --all   # every system library, its package, and why it is (not) listed
    .venv/bin/python tools/qt_debian_packages.py --table # the soname -> package table for mfstudio/gui/qtlibs.py
    .venv/bin/python tools/qt_debian_packages.py --check # exit 1 if qtlibs.py no longer matches this machine

How: ``ldd`` on each Qt file in ``QT_FILES`` (PySide6's own copies); every library it resolves outside
PySide6 is mapped to its package with ``dpkg -S``. A library that is not installed ("not found") is mapped
by Debian's naming rule for shared-library packages (libfoo.so.1 -> libfoo1, libfoo2.so.0 -> libfoo2-0),
checked with ``apt-cache show`` and, unless --no-download, by looking inside the downloaded .deb for it.
(apt-file would need Debian's whole file index; the naming rule plus the .deb check needs two small downloads.)

Left out of the list:
- Debian's base: the Essential packages, apt (the set-up command itself runs apt-get), and everything those
  hard-depend on (a Depends or Pre-Depends with no alternative). dpkg refuses to remove an Essential
  package and apt keeps their dependencies, so these are on every Debian system: libc6, libstdc++6, zlib1g...
- packages that another listed package hard-depends on: apt-get installs them anyway (libxcb1 comes with
  libx11-6, libglx0 with libgl1, ...). ``--all`` shows each one and what brings it.

python3-venv is not a Qt library; README.md and .ci/run add it to this list.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The Qt files the window maps: /proc/self/maps of `mfstudio` under Xvfb with QT_QPA_PLATFORM=xcb
# (PySide6 6.11), plus the offscreen platform plugin that the tests and tools/screenshot.py use.
# The GLX/EGL integration plugins are left out: Qt loads them only for OpenGL windows, which MF Studio has none of.
QT_FILES = (
    "PySide6/Qt/lib/libQt6Core.so.6",
    "PySide6/Qt/lib/libQt6Gui.so.6",
    "PySide6/Qt/lib/libQt6Widgets.so.6",
    "PySide6/Qt/lib/libQt6DBus.so.6",
    "PySide6/Qt/lib/libQt6Svg.so.6",
    "PySide6/Qt/lib/libQt6XcbQpa.so.6",
    "PySide6/Qt/plugins/platforms/libqxcb.so",
    "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforminputcontexts/libcomposeplatforminputcontextplugin.so",
    "PySide6/QtCore.abi3.so",
    "PySide6/QtGui.abi3.so",
    "PySide6/QtWidgets.abi3.so",
    "PySide6/QtSvg.abi3.so",
    "PySide6/libpyside6.abi3.so.*",
    "shiboken6/Shiboken.abi3.so",
    "shiboken6/libshiboken6.abi3.so.*",
)


class DerivationError(Exception):
    """Something this machine cannot answer; the message says what to do."""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, **kw)


def package_dirs() -> dict[str, Path]:
    """Where PySide6 and shiboken6 are installed (found without importing them)."""
    dirs = {}
    for name in ("PySide6", "shiboken6"):
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise DerivationError(f"{name} is not installed for {sys.executable}; run this with the venv's python.")
        dirs[name] = Path(next(iter(spec.submodule_search_locations)))
    return dirs


def qt_files() -> list[Path]:
    dirs = package_dirs()
    files = []
    for rel in QT_FILES:
        top, rest = rel.split("/", 1)
        found = sorted(dirs[top].glob(rest))
        if not found:
            raise DerivationError(f"{rel} is not in this PySide6; update QT_FILES in {Path(__file__).name}.")
        files.extend(found)
    return files


LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


def parse_ldd(text: str) -> dict[str, str | None]:
    """soname -> resolved path (None if "not found") from ldd's output; the loader and vdso lines are skipped."""
    out: dict[str, str | None] = {}
    for line in text.splitlines():
        m = LDD_LINE.match(line)
        if m:
            out[m.group(1)] = None if m.group(2) == "not found" else m.group(2)
    return out


def system_libraries(files: list[Path]) -> dict[str, str | None]:
    """Every library the files need from outside PySide6/shiboken6: soname -> path, or None when not found."""
    inside = tuple(str(d) for d in package_dirs().values())
    libs: dict[str, str | None] = {}
    for f in files:
        proc = _run(["ldd", str(f)])
        if proc.returncode != 0:
            raise DerivationError(f"ldd {f} failed: {proc.stderr.strip()}")
        for soname, path in parse_ldd(proc.stdout).items():
            if path is not None and path.startswith(inside):
                continue
            if libs.get(soname) is None:
                libs[soname] = path
    return libs


def _path_variants(path: str) -> list[str]:
    """The names dpkg may have a library under: /lib and /usr/lib are one folder since Debian 12 (merged /usr)."""
    out = []
    for p in (path, str(Path(path).resolve())):
        out.append(p)
        if p.startswith("/usr/"):
            out.append(p[4:])
        elif p.startswith("/lib"):
            out.append("/usr" + p)
    return list(dict.fromkeys(out))


def dpkg_owners(paths: list[str]) -> dict[str, str]:
    """path -> the package that ships it (``dpkg -S``); paths no package owns are left out."""
    variants = {v: p for p in paths for v in _path_variants(p)}
    proc = _run(["dpkg", "-S", *variants])
    owners: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        pkgs, _, owned = line.partition(": ")
        if owned in variants:
            # "libfoo1:amd64" or "diversion by ..."; several packages: the first
            pkg = pkgs.split(",")[0].strip().split(":")[0]
            if not pkgs.startswith("diversion"):
                owners.setdefault(variants[owned], pkg)
    return owners


def package_by_naming_rule(soname: str) -> str:
    """Debian policy 8.1: libfoo.so.1 is in libfoo1, libfoo2.so.0 in libfoo2-0 (lower case)."""
    m = re.fullmatch(r"(.+)\.so\.([0-9][0-9.]*)", soname)
    if not m:
        raise DerivationError(f"{soname} is not named like a shared library (libfoo.so.N).")
    base, version = m.group(1).lower().replace("_", "-"), m.group(2)
    return f"{base}-{version}" if base[-1].isdigit() else f"{base}{version}"


def deb_ships(package: str, soname: str) -> bool:
    """Download ``package``'s .deb (apt-get download) and look for ``soname`` in it."""
    with tempfile.TemporaryDirectory() as tmp:
        got = _run(["apt-get", "download", "-q", package], cwd=tmp)
        debs = list(Path(tmp).glob("*.deb"))
        if got.returncode != 0 or not debs:
            raise DerivationError(f"apt-get download {package} failed ({got.stderr.strip()[-200:]}); "
                                  "retry, or pass --no-download to trust Debian's naming rule.")
        listing = _run(["dpkg-deb", "-c", str(debs[0])]).stdout
    return any(line.rstrip().split(" -> ")[0].endswith("/" + soname) for line in listing.splitlines())


# -- dependencies ---------------------------------------------------------------------------------
def _hard(depends: str) -> list[str]:
    """Package names from a Depends/Pre-Depends field that have no alternative ("a | b" guarantees neither)."""
    names = []
    for group in depends.split(","):
        group = group.strip()
        if group and "|" not in group:
            names.append(re.split(r"[\s(:]", group, maxsplit=1)[0])
    return names


@dataclass
class Packages:
    """Installed packages (dpkg's status) and, for the rest, apt's candidate versions."""

    installed: dict[str, list[str]] = field(default_factory=dict)
    essential: set[str] = field(default_factory=set)
    _apt: dict[str, list[str] | None] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Packages:
        proc = _run([
            "dpkg-query", "-W", "-f", "${Package}\t${Essential}\t${db:Status-Abbrev}\t${Pre-Depends}, ${Depends}\n"
        ])
        if proc.returncode != 0:
            raise DerivationError("dpkg-query failed; this tool needs a Debian system.")
        me = cls()
        for line in proc.stdout.splitlines():
            name, essential, status, deps = line.split("\t")
            if not status.startswith("ii"):
                continue
            me.installed[name] = _hard(deps)
            if essential == "yes":
                me.essential.add(name)
        return me

    def depends(self, name: str) -> list[str] | None:
        if name in self.installed:
            return self.installed[name]
        if name not in self._apt:
            proc = _run(["apt-cache", "show", "--no-all-versions", name])
            if proc.returncode != 0 or not proc.stdout.strip():
                self._apt[name] = None
            else:
                fields = dict(re.findall(r"^(Depends|Pre-Depends): (.*)$", proc.stdout, flags=re.M))
                self._apt[name] = _hard(fields.get("Pre-Depends", "") + "," + fields.get("Depends", ""))
        return self._apt[name]

    def closure(self, roots: set[str], within: set[str] | None = None) -> set[str]:
        """``roots`` and everything they hard-depend on (only through packages in ``within``, if given)."""
        seen: set[str] = set()
        todo = list(roots)
        while todo:
            n = todo.pop()
            if n not in seen and (within is None or n in within or n in roots):
                seen.add(n)
                todo.extend(self.depends(n) or [])
        return seen

    def base(self) -> set[str]:
        return self.closure(self.essential | {"apt"})


# -- the derivation ---------------------------------------------------------------------------------
@dataclass
class Derivation:
    table: dict[str, str]  # soname -> package, every library outside Debian's base
    packages: list[str]  # the list to install: the table's packages less those another one brings
    notes: list[tuple[str, str, str]]  # (soname, package, how it was found / why it is left out)


def derive(download: bool = True) -> Derivation:
    libs = system_libraries(qt_files())
    owners = dpkg_owners([p for p in libs.values() if p])
    pk = Packages.load()
    found: dict[str, tuple[str, str]] = {}
    for soname, path in sorted(libs.items()):
        if path is None:
            pkg = package_by_naming_rule(soname)
            if pk.depends(pkg) is None:
                raise DerivationError(
                    f"{soname} is not installed and there is no package {pkg}; "
                    f"find it with `apt-file search {soname}` and map it by hand in {Path(__file__).name}."
                )
            how = "not installed: Debian's naming rule"
            if download:
                if not deb_ships(pkg, soname):
                    raise DerivationError(
                        f"{soname} is not installed and {pkg} does not ship it; "
                        f"find it with `apt-file search {soname}`."
                    )
                how += ", found in its .deb"
            found[soname] = (pkg, how)
        elif path in owners:
            found[soname] = (owners[path], "dpkg -S " + path)
        else:
            raise DerivationError(
                f"{path} ({soname}) belongs to no Debian package; is it from a local build on LD_LIBRARY_PATH?"
            )
    base = pk.base()
    table = {s: p for s, (p, _) in found.items() if p not in base}
    candidates = sorted(set(table.values()))
    # only through listed packages: what Mesa's vendor library (libegl-mesa0...) depends on is its own business
    closures = {p: pk.closure({p}, within=set(candidates)) - {p} for p in candidates}
    kept = list(candidates)
    brought_by: dict[str, str] = {}
    for p in candidates:
        by = next((q for q in kept if q != p and p in closures[q]), None)
        if by is not None:
            kept.remove(p)
            brought_by[p] = by
    notes = []
    for soname, (pkg, how) in found.items():
        if pkg in base:
            why = "left out: Debian's base"
        elif pkg in brought_by:
            why = f"left out: comes with {brought_by[pkg]}"
        else:
            why = "listed"
        notes.append((soname, pkg, f"{how}; {why}"))
    return Derivation(table=table, packages=kept, notes=notes)


def table_source(d: Derivation) -> str:
    lines = ["SONAME_PACKAGES = {"]
    lines += [f'    "{s}": "{p}",' for s, p in sorted(d.table.items(), key=lambda kv: (kv[1], kv[0]))]
    lines += ["}", "", "DEBIAN_PACKAGES = ("]
    lines += [f'    "{p}",' for p in d.packages]
    lines += [")"]
    return "\n".join(lines)


def check(d: Derivation) -> list[str]:
    """How mfstudio/gui/qtlibs.py differs from this derivation (nothing when it matches)."""
    sys.path.insert(0, str(ROOT))
    from mfstudio.gui import qtlibs

    problems = []
    if tuple(d.packages) != tuple(qtlibs.DEBIAN_PACKAGES):
        problems.append(
            f"DEBIAN_PACKAGES should be {' '.join(d.packages)} (qtlibs.py has {' '.join(qtlibs.DEBIAN_PACKAGES)})"
        )
    for s in sorted(set(d.table) | set(qtlibs.SONAME_PACKAGES)):
        if d.table.get(s) != qtlibs.SONAME_PACKAGES.get(s):
            problems.append(
                f"SONAME_PACKAGES[{s!r}] should be {d.table.get(s)!r} "
                f"(qtlibs.py has {qtlibs.SONAME_PACKAGES.get(s)!r})"
            )
    return problems


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument(
        "--all", action="store_true", help="every system library, its package and why it is or is not listed"
    )
    mode.add_argument("--table", action="store_true", help="print the table for mfstudio/gui/qtlibs.py")
    mode.add_argument(
        "--check", action="store_true", help="exit 1 when mfstudio/gui/qtlibs.py differs from this machine's answer"
    )
    ap.add_argument(
        "--no-download", action="store_true", help="map libraries that are not installed by the naming rule alone"
    )
    args = ap.parse_args(argv)
    for tool in ("ldd", "dpkg", "dpkg-query", "apt-cache"):
        if shutil.which(tool) is None:
            print(
                f"{tool} is not installed; this tool derives Debian packages and needs a Debian system.",
                file=sys.stderr,
            )
            return 2
    try:
        d = derive(download=not args.no_download)
    except DerivationError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.all:
        width = max(len(s) for s, _, _ in d.notes)
        for soname, pkg, why in sorted(d.notes, key=lambda n: (n[1], n[0])):
            print(f"{soname:<{width}}  {pkg:<22}  {why}")
    elif args.table:
        print(table_source(d))
    elif args.check:
        problems = check(d)
        for p in problems:
            print(p)
        if problems:
            print(
                "Regenerate with --table and paste into mfstudio/gui/qtlibs.py; update README.md and .ci/run to match."
            )
            return 1
        print(f"mfstudio/gui/qtlibs.py matches: {' '.join(d.packages)}")
    else:
        print(" ".join(d.packages))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
