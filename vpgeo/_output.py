"""Writing outputs so that a folder never contradicts itself: atomic, contained, locked, cleaned on ``--force``.

Every file vpgeo writes goes through :func:`atomic_write`: the writer fills a private temporary folder next
to the destination (same file system), then each file is moved into place with :func:`os.replace`. So

- an interrupted write (Ctrl-C, a crash, a full disk) leaves the previous file, or none — never half of one;
- a symbolic link at the output path is *replaced* by the new file, never followed: nothing is written
  outside the folder the user named, and a dangling link cannot create its target elsewhere;
- a Shapefile's side files (``.shx``, ``.dbf``, ``.prj``, ``.cpg``) are moved in together, the ``.shp`` last.

A run that writes a folder (``vpgeo report``) uses :class:`OutputDir`: it holds a lock file in the folder
(:class:`Lock`, created with ``O_CREAT | O_EXCL`` and holding the pid; a lock left by a process that no longer
runs is taken over), writes everything into a staging folder inside it, and on success moves the files in
and records them in :data:`MANIFEST`. With ``force`` the files the previous run recorded there (and only
those) are removed, so no stale ``rejects.csv`` or ``map.png`` survives a rerun.

This module imports nothing heavy (the CLI uses it before any subcommand machinery is loaded).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from vpgeo.errors import InputError

__all__ = [
    "LOCK",
    "MANIFEST",
    "Lock",
    "OutputDir",
    "atomic_write",
    "check_out_file",
    "deferred_interrupt",
    "lock_for",
    "write_text",
]

#: The file in an output folder that lists what the last run wrote (relative names).
MANIFEST = ".vpgeo-manifest.json"
#: The lock file of an output folder; for a single output file ``.<name>.vpgeo.lock`` beside it.
LOCK = ".vpgeo.lock"
_TMP_PREFIX = ".vpgeo-tmp-"
# Seconds after which a lock file without a readable pid (a writer killed between create and write) is stale.
_EMPTY_LOCK_STALE_S = 30.0
# Extensions written after their side files, so the main file appears last.
_MAIN_LAST = (".shp",)


def _fail(path: Path | str, problem: str, fix: str) -> InputError:
    return InputError(f"{problem}; {fix}", path=str(path))


def _own(name: str) -> bool:
    """Entries of an output folder that are vpgeo's bookkeeping, not outputs."""
    return name in {MANIFEST, LOCK} or name.startswith(_TMP_PREFIX)


# ------------------------------------------------------------------------------------------ interrupts


@contextlib.contextmanager
def deferred_interrupt() -> Iterator[None]:
    """Hold Ctrl-C while the block runs (a few renames), then raise :class:`KeyboardInterrupt` if one came.

    Outside the main thread (where signal handlers cannot be set) the block simply runs.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []

    def note(signum: int, frame: FrameType | None) -> None:
        got.append(signum)

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if got:
        raise KeyboardInterrupt


# --------------------------------------------------------------------------------------------- writing


def _mkdir(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise _fail(folder, "is a file, not a folder", "choose another --out") from None
    except OSError as exc:
        raise _fail(folder, f"cannot create the folder ({exc.strerror})", "choose another --out") from None


def _temp_dir(folder: Path) -> Path:
    _mkdir(folder)
    try:
        return Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=folder))
    except OSError as exc:
        raise _fail(folder, f"cannot write in this folder ({exc.strerror})", "choose another --out") from None


def _move_in(staged: Iterable[Path], folder: Path) -> list[Path]:
    """``os.replace`` each staged file into ``folder`` (links there are replaced, not followed)."""
    files = sorted(staged, key=lambda f: (f.suffix.lower() in _MAIN_LAST, f.name))
    moved = []
    with deferred_interrupt():
        for f in files:
            dest = folder / f.name
            if dest.is_dir() and not dest.is_symlink():
                raise _fail(dest, "is a folder", "remove it or choose another --out")
            try:
                os.replace(f, dest)
            except OSError as exc:
                raise _fail(dest, f"cannot be written ({exc.strerror})", "choose another --out") from None
            moved.append(dest)
    return moved


def atomic_write(path: str | Path, writer: Callable[[Path], object]) -> Path:
    """Call ``writer(tmp)`` to write a file at a private temporary path, then move it to ``path``.

    ``tmp`` has the same name as ``path`` (so format drivers and layer names see the real name) inside a
    temporary folder next to it; every file the writer creates there (a Shapefile's side files too) is moved
    beside ``path``. A symbolic link at ``path`` is replaced by the file, never followed. On any exception —
    :class:`KeyboardInterrupt` included — nothing is moved and the temporary folder is removed.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "elsewhere.txt").write_text("keep")
    >>> (d / "out.txt").symlink_to(d / "elsewhere.txt")
    >>> p = atomic_write(d / "out.txt", lambda tmp: tmp.write_text("new"))
    >>> p.is_symlink(), p.read_text(), (d / "elsewhere.txt").read_text()
    (False, 'new', 'keep')
    >>> sorted(x.name for x in d.iterdir())
    ['elsewhere.txt', 'out.txt']
    """
    dest = Path(path)
    if dest.is_dir() and not dest.is_symlink():
        raise _fail(dest, "is a folder", "give an output file name inside it")
    made: list[Path] = []
    try:
        with deferred_interrupt():  # a Ctrl-C between creating the folder and noting it would leak it
            made.append(_temp_dir(dest.parent))
        tmp_dir = made[0]
        writer(tmp_dir / dest.name)
        staged = [f for f in tmp_dir.iterdir() if f.is_file()]
        if not any(f.name == dest.name for f in staged):
            raise RuntimeError(f"the writer did not create {dest.name}")  # a programming error
        _move_in(staged, dest.parent)
    finally:
        for d in made:
            shutil.rmtree(d, ignore_errors=True)
    return dest


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write` of a text file (for HTML, JSON, Markdown outputs).

    >>> d = Path(tempfile.mkdtemp())
    >>> write_text(d / "a.md", "# Vĩnh Phúc").read_text(encoding="utf-8")
    '# Vĩnh Phúc'
    """
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding=encoding))


def check_out_file(path: str | Path, *, force: bool) -> Path:
    """Refuse an output file that exists (a link counts, even a dangling one) unless ``force``; refuse a
    folder; check its folder can be created and written. Nothing is written yet.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "out.csv").symlink_to(d / "missing.csv")
    >>> check_out_file(d / "out.csv", force=False)
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: ...out.csv: exists (a link); pass --force to replace it, or choose another name
    """
    p = Path(path)
    if p.is_dir() and not p.is_symlink():
        raise _fail(p, "is a folder", "give an output file name inside it")
    if os.path.lexists(p) and not force:
        what = " (a link)" if p.is_symlink() else ""
        raise _fail(p, f"exists{what}", "pass --force to replace it, or choose another name")
    _mkdir(p.parent)
    if not os.access(p.parent, os.W_OK | os.X_OK):
        raise _fail(p.parent, "cannot write in this folder (permission denied)", "choose another --out")
    return p


# ----------------------------------------------------------------------------------------------- locks


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    except OSError:
        return False
    return True


def _holder(lock: Path) -> int | None:
    """The pid written in ``lock``; None when unreadable, -1 when empty/garbage."""
    try:
        text = lock.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else -1


def lock_for(path: str | Path) -> Path:
    """The lock file guarding one output file: ``.<name>.vpgeo.lock`` in its folder."""
    p = Path(path)
    return p.parent / f".{p.name}{LOCK}"


class Lock:
    """An exclusive lock file (``O_CREAT | O_EXCL``) holding the pid; a dead holder's lock is taken over.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp())
    >>> with Lock(d / ".vpgeo.lock", d):
    ...     Lock(d / ".vpgeo.lock", d).acquire()
    Traceback (most recent call last):
    ...
    vpgeo.errors.InputError: ...: another vpgeo run (pid ...) is writing here; wait for it to finish, ...
    >>> (d / ".vpgeo.lock").exists()
    False
    """

    def __init__(self, path: Path, guarded: Path) -> None:
        self.path = path
        self.guarded = guarded
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as exc:
            raise _fail(self.guarded, f"cannot write here ({exc.strerror})", "choose another --out") from None
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(f"{os.getpid()}\n")
        return True

    def _stale(self) -> bool:
        pid = _holder(self.path)
        if pid is None:
            return not self.path.exists()
        if pid == -1:
            try:
                return time.time() - self.path.stat().st_mtime > _EMPTY_LOCK_STALE_S
            except OSError:
                return True
        return not _pid_alive(pid)

    def acquire(self) -> Lock:
        try:
            with deferred_interrupt():  # the lock file and self.held change together
                return self._acquire()
        except KeyboardInterrupt:  # came while acquiring: leave no lock behind
            self.release()
            raise

    def _acquire(self) -> Lock:
        if not self._create():
            if self._stale():
                with contextlib.suppress(FileNotFoundError):
                    self.path.unlink()
            if not self._create():
                pid = _holder(self.path)
                who = f"pid {pid}" if pid and pid > 0 else "another process"
                raise _fail(
                    self.guarded,
                    f"another vpgeo run ({who}) is writing here",
                    f"wait for it to finish, or delete {self.path.name} if no vpgeo is running",
                )
        self.held = True
        return self

    def release(self) -> None:
        if self.held and _holder(self.path) == os.getpid():
            with contextlib.suppress(OSError):
                self.path.unlink()
        self.held = False

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


# ------------------------------------------------------------------------------------------ out folder


def _read_manifest(folder: Path) -> list[str] | None:
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, list):
        return None
    # only plain names inside the folder: a tampered manifest cannot delete anything elsewhere
    return [f for f in files if isinstance(f, str) and f and Path(f).name == f and not _own(f)]


class OutputDir:
    """A folder of outputs written as a whole: locked, staged, moved in atomically, listed in a manifest.

    Parameters
    ----------
    out : path
        The folder (created if missing). Refused when it holds files and ``force`` is false.
    force : bool
        Overwrite; files the previous run listed in :data:`MANIFEST` and this run does not write are removed.
    known : iterable of str
        Names this command writes; with ``force`` and no manifest (a folder from an older vpgeo) these are the
        files removed when not rewritten.

    Examples
    --------
    >>> d = Path(tempfile.mkdtemp()) / "out"
    >>> with OutputDir(d, force=False) as o:
    ...     _ = (o.staging / "a.csv").write_text("1")
    ...     _ = (o.staging / "rejects.csv").write_text("2")
    ...     _ = o.commit()
    >>> with OutputDir(d, force=True) as o:
    ...     _ = (o.staging / "a.csv").write_text("3")
    ...     _ = o.commit()
    >>> sorted(p.name for p in d.iterdir()), (d / "a.csv").read_text()
    (['.vpgeo-manifest.json', 'a.csv'], '3')
    """

    def __init__(self, out: str | Path, *, force: bool, known: Iterable[str] = ()) -> None:
        self.out = Path(out)
        self.force = force
        self.known = tuple(known)
        self.lock = Lock(self.out / LOCK, self.out)
        self._staging: Path | None = None
        self.written: list[Path] = []

    @property
    def staging(self) -> Path:
        if self._staging is None:
            raise RuntimeError("OutputDir.staging used outside its with-block")
        return self._staging

    def _check(self) -> None:
        if self.out.exists() and not self.out.is_dir():
            raise _fail(self.out, "is a file, not a folder", "give --out a folder name (it is created if missing)")
        if self.out.is_symlink() and not self.out.exists():
            raise _fail(self.out, "is a dangling link", "remove the link or choose another --out")
        _mkdir(self.out)
        if not os.access(self.out, os.W_OK | os.X_OK):
            raise _fail(self.out, "cannot write in the output folder (permission denied)", "choose another --out")

    def _refuse_non_empty(self) -> None:
        content = sorted(x.name for x in self.out.iterdir() if not _own(x.name))
        if content and not self.force:
            raise _fail(
                self.out,
                f"output folder is not empty ({len(content)} file(s), e.g. {content[0]})",
                "choose another --out, empty it, or add --force to overwrite files in it",
            )

    def __enter__(self) -> OutputDir:
        self._check()
        try:
            self.lock.acquire()
            self._refuse_non_empty()
            with deferred_interrupt():
                self._staging = _temp_dir(self.out)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def commit(self) -> list[Path]:
        """Move the staged files in, remove what the previous run wrote and this one did not, write the manifest."""
        staged = [f for f in self.staging.iterdir() if f.is_file()]
        names = {f.name for f in staged}
        previous = _read_manifest(self.out)
        if previous is None:
            previous = list(self.known) if self.force else []
        with deferred_interrupt():
            self.written = _move_in(staged, self.out)
            for name in previous:
                stale = self.out / name
                if name not in names and (stale.is_symlink() or stale.is_file()):
                    with contextlib.suppress(OSError):
                        stale.unlink()
            doc: dict[str, Any] = {"files": sorted(names), "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
            tmp = self.staging / MANIFEST
            tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
            os.replace(tmp, self.out / MANIFEST)
        return self.written

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self._staging is not None:
                shutil.rmtree(self._staging, ignore_errors=True)
                self._staging = None
        finally:
            self.lock.release()
