"""Start real processes on loopback for tests, wait until they answer, stop them."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(name: str) -> str:
    """Path of an external program; fails the test loudly when missing (CI installs it)."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; scripts/test installs it (apt-get)")
    return path


def cli_command(*args: str) -> list[str]:
    """Command line that runs this project's CLI from the test venv."""
    return [sys.executable, "-m", "padtec_exporter.cli", *args]


def wait_http(
    url: str,
    timeout: float = 30.0,
    proc: subprocess.Popen[bytes] | None = None,
    ok_codes: Sequence[int] = (200,),
) -> None:
    deadline = time.monotonic() + timeout
    last: str = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status in ok_codes:
                    return
                last = f"status {resp.status}"
        except urllib.error.HTTPError as exc:
            if exc.code in ok_codes:
                return
            last = f"status {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s ({last})")


class ManagedProcess:
    """A child process whose output goes to a log file; stopped with SIGTERM then SIGKILL."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_dir: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        full_env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=full_env,
            cwd=str(cwd or REPO),
            start_new_session=True,
        )

    def wait_http(self, url: str, timeout: float = 30.0) -> None:
        try:
            wait_http(url, timeout, self.proc)
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"{self.name}: {exc}\n--- log ---\n{self.log()[-4000:]}") from exc

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            self.proc.send_signal(sig)

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(5)


@contextlib.contextmanager
def running(
    name: str,
    argv: Sequence[str],
    log_dir: Path,
    ready_url: str | None = None,
    timeout: float = 30.0,
    env: dict[str, str] | None = None,
) -> Iterator[ManagedProcess]:
    proc = ManagedProcess(name, argv, log_dir, env=env)
    try:
        if ready_url:
            proc.wait_http(ready_url, timeout)
        yield proc
    finally:
        proc.stop()
