"""Long-audio jobs: `model` (states, stages, options), `store` (SQLite with schema versions), `runner` (one
job's work through the speech pipeline), `service` (the API: submit, follow, cancel, delete, results, the
bound on queued jobs and the retention sweep)."""

from app.services.jobs.model import RESTART_REASON, JobOptions, JobState, JobTask, ResultFormat
from app.services.jobs.service import JobService

__all__ = ["RESTART_REASON", "JobOptions", "JobService", "JobState", "JobTask", "ResultFormat"]
