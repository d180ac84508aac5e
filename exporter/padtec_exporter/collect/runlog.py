"""What the operator reads about the collection: a log line per job run summary (at most one
per job every ``SUMMARY_SECONDS``), a warning when a failure streak starts and an info line when
it ends, a debug line per run; and the per-job state the status page and ``/readyz`` show.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("padtec_exporter.collect")

# An info summary per job at most this often: a 30 s tier logs every 5 minutes, the hourly
# inventory every run.
SUMMARY_SECONDS = 300.0


@dataclass
class JobState:
    """One job of one NMS as the last runs left it."""

    runs: int = 0
    failures: int = 0
    last_run_at: float | None = None
    last_ok: bool | None = None
    last_duration_seconds: float = 0.0
    last_error: str = ""
    last_success_at: float | None = None
    # Consecutive failures now, and when the streak began.
    streak: int = 0
    streak_since: float | None = None
    # Since the last summary line.
    window_runs: int = 0
    window_failures: int = 0
    window_seconds: float = 0.0
    summary_at: float | None = None


class RunLog:
    """Per-NMS journal of job runs; the collector calls ``record`` after every run."""

    def __init__(self, nms: str, clock: Callable[[], float] = time.time) -> None:
        self.nms = nms
        self.jobs: dict[str, JobState] = {}
        self._clock = clock

    def record(self, job: str, ok: bool, seconds: float, error: str = "", **counts: int) -> None:
        now = self._clock()
        state = self.jobs.setdefault(job, JobState())
        state.runs += 1
        state.last_run_at, state.last_ok, state.last_duration_seconds = now, ok, seconds
        state.window_runs += 1
        state.window_seconds += seconds
        fields: dict[str, object] = {"nms": self.nms, "tier": job}
        if ok:
            state.last_success_at = now
            if state.streak:
                log.info(
                    "collection recovered",
                    extra={
                        "fields": {
                            **fields,
                            "failed_runs": state.streak,
                            "failing_for_seconds": round(now - (state.streak_since or now), 1),
                        }
                    },
                )
            state.streak, state.streak_since = 0, None
        else:
            state.failures += 1
            state.window_failures += 1
            state.last_error = error
            state.streak += 1
            if state.streak == 1:
                state.streak_since = now
                log.warning("collection failing", extra={"fields": {**fields, "error": error}})
        log.debug(
            "collection run",
            extra={
                "fields": {
                    **fields,
                    "result": "success" if ok else "failure",
                    "seconds": round(seconds, 3),
                    **counts,
                }
            },
        )
        if state.summary_at is None or now - state.summary_at >= SUMMARY_SECONDS:
            self._summary(job, state, now, counts)

    def _summary(self, job: str, state: JobState, now: float, counts: dict[str, int]) -> None:
        log.info(
            "collection summary",
            extra={
                "fields": {
                    "nms": self.nms,
                    "tier": job,
                    "runs": state.window_runs,
                    "failed": state.window_failures,
                    "avg_seconds": round(state.window_seconds / state.window_runs, 3),
                    **counts,
                }
            },
        )
        state.summary_at = now
        state.window_runs = state.window_failures = 0
        state.window_seconds = 0.0

    def why_not_ready(self) -> str:
        """Why the inventory has not arrived yet, in a few words."""
        inventory = self.jobs.get("inventory")
        if inventory is None or inventory.runs == 0:
            return "inventory pending (first run not finished)"
        if inventory.last_ok is False:
            return f"inventory failing ({inventory.streak} runs): {inventory.last_error}"
        return "inventory pending"
