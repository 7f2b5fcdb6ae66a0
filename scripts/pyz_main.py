"""Start-up of dist/xentui.pyz (copied into the archive as __main__.py by scripts/build_dist.py).

The archive's `lib/` (xentui and its pure-Python dependencies) is unpacked once per build into the
user's cache directory, $XDG_CACHE_HOME/xentui/pyz-BUILD (default ~/.cache/xentui/), compiled to
bytecode there, and imported from there: Textual reads its CSS files from disk, and Python cannot
keep bytecode inside a zip (every start would compile Textual and Rich again). Other builds'
directories not used for a day are removed. Nothing is written beside the archive. The distro's own
packages (python3-libvirt) stay importable after ours. Only the standard library is used here, and
only what Python 3.9 has.
"""

import compileall
import os
import shutil
import sys
import tempfile
import time
import zipfile

_STALE_S = 24 * 3600


def _cache_root() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "xentui")


def _unpack(archive: str) -> str:
    with zipfile.ZipFile(archive) as zf:
        build = zf.read("BUILD").decode("ascii").strip()
        root = _cache_root()
        target = os.path.join(root, "pyz-" + build)
        if not os.path.isfile(os.path.join(target, ".complete")):
            os.makedirs(root, mode=0o700, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix=".unpack-", dir=root)
            members = [m for m in zf.namelist() if m.startswith("lib/") and not m.endswith("/")]
            for name in members:
                dest = os.path.join(tmp, name[len("lib/") :])
                os.makedirs(os.path.dirname(dest), exist_ok=True)
                with zf.open(name) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
            # Bytecode now, once: imports then never compile, even with PYTHONDONTWRITEBYTECODE set.
            compileall.compile_dir(tmp, quiet=2, ddir=target)
            open(os.path.join(tmp, ".complete"), "w").close()
            try:
                os.rename(tmp, target)
            except OSError:  # another start unpacked the same build first
                shutil.rmtree(tmp, ignore_errors=True)
    os.utime(target)
    _clean(root, target)
    return target


def _clean(root: str, keep: str) -> None:
    """Remove other builds' directories (and abandoned partial unpacks) not used for a day."""
    now = time.time()
    for entry in os.listdir(root):
        path = os.path.join(root, entry)
        if path == keep or not (entry.startswith("pyz-") or entry.startswith(".unpack-")):
            continue
        try:
            if now - os.stat(path).st_mtime > _STALE_S:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _main() -> None:
    if sys.version_info < (3, 9):  # noqa: UP036 - the archive can be given any python3
        sys.exit(f"xentui: error: needs Python 3.9 or newer; this is {sys.version.split()[0]}")
    archive = os.path.abspath(sys.argv[0])
    try:
        lib = _unpack(archive)
    except OSError as exc:
        sys.exit(f"xentui: error: cannot unpack into {_cache_root()}: {exc.strerror or exc} (set XDG_CACHE_HOME)")
    # Ours first (before the archive itself and the system's copies of rich, textual...), the system's
    # dist-packages after: that is where python3-libvirt is.
    sys.path[:] = [lib] + [p for p in sys.path if os.path.abspath(p) != archive]
    from xentui.cli import main

    sys.exit(main())


_main()
