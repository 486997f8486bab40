"""The backfill tool's reporting logic against a scripted GraphQL client (no webserver): it waits for
Dagster's automatic retry and reports the last run; it prints each failed run's step and error; the
exit code is non-zero on failure, ``status`` of a failed backfill included. (tests/ops/
test_operations_daemon.py runs the same commands against a real webserver and daemon.)"""

from __future__ import annotations

from typing import Any

import pytest

from pipelines.tooling import backfill as bf


class ScriptedClient(bf.Client):
    """Answers the tool's queries from a script: run id -> list of (status, tags) answers, consumed one
    per ``runOrError`` query (the last answer repeats); step failures per run id."""

    def __init__(
        self, runs: dict[str, list[tuple[str, dict[str, str]]]], failures: dict[str, list[dict]], backfill=None
    ):
        super().__init__("http://scripted")
        self.runs, self.failures, self.backfill = runs, failures, backfill

    def execute(self, query: str, variables: Any = None) -> dict[str, Any]:
        if "runOrError" in query:
            answers = self.runs[variables["id"]]
            status, tags = answers.pop(0) if len(answers) > 1 else answers[0]
            return {
                "runOrError": {
                    "__typename": "Run",
                    "status": status,
                    "tags": [{"key": k, "value": v} for k, v in tags.items()],
                }
            }
        if "logsForRun" in query:
            return {"logsForRun": {"__typename": "EventConnection", "events": self.failures.get(variables["id"], [])}}
        if "partitionBackfillOrError" in query:
            return {"partitionBackfillOrError": self.backfill}
        raise AssertionError(query)


STEP_FAILURE = {
    "__typename": "ExecutionStepFailureEvent",
    "stepKey": "raw_readings",
    "error": {
        "message": "dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op",
        "causes": [{"message": "SourceFileError: kaggle/readings_2013-02.csv: not valid UTF-8 text"}],
    },
}


def test_a_failure_the_retry_fixed_is_reported_as_success():
    """Today's main reported FAILURE (exit 1) as soon as the first run failed."""
    client = ScriptedClient(
        runs={
            "r1": [
                ("STARTED", {}),
                ("FAILURE", {}),
                ("FAILURE", {"dagster/will_retry": "true"}),
                ("FAILURE", {"dagster/will_retry": "true", "dagster/auto_retry_run_id": "r2"}),
            ],
            "r2": [("QUEUED", {}), ("SUCCESS", {"dagster/parent_run_id": "r1"})],
        },
        failures={"r1": [STEP_FAILURE]},
    )
    lines: list[str] = []
    outcome = bf.follow_run(client, "r1", timeout_s=30, poll_s=0.01, progress=lines.append)
    assert (outcome.run_id, outcome.status, outcome.chain) == ("r2", "SUCCESS", ["r1", "r2"])
    assert "run r1 failed; Dagster retries it as run r2" in lines
    printed: list[str] = []
    assert bf.report_run(client, outcome, printed.append) == 0
    assert printed[0] == "run r2: SUCCESS after 1 automatic retry"
    assert any("failed step raw_readings" in p and "readings_2013-02.csv: not valid UTF-8" in p for p in printed)


def test_a_final_failure_prints_step_and_error_and_exits_1():
    client = ScriptedClient(
        runs={
            "r1": [("FAILURE", {"dagster/will_retry": "true", "dagster/auto_retry_run_id": "r2"})],
            "r2": [("FAILURE", {"dagster/will_retry": "false"})],
        },
        failures={"r1": [STEP_FAILURE], "r2": [STEP_FAILURE]},
    )
    outcome = bf.follow_run(client, "r1", timeout_s=30, poll_s=0.01, progress=None)
    printed: list[str] = []
    assert bf.report_run(client, outcome, printed.append) == 1
    assert printed[0] == "run r2: FAILURE after 1 automatic retry"
    assert sum("failed step raw_readings: " in p for p in printed) == 2  # both runs of the chain


def test_a_run_without_the_retry_tag_is_final_after_the_grace():
    """CLI runs (no code-location origin) and instances without run_retries never get a retry."""
    client = ScriptedClient(
        runs={"r1": [("FAILURE", {})]},
        failures={"r1": [{"__typename": "RunFailureEvent", "message": "killed", "error": None}]},
    )
    outcome = bf.follow_run(client, "r1", timeout_s=30, poll_s=0.01, progress=None, tag_grace_s=0.05)
    assert (outcome.status, outcome.chain) == ("FAILURE", ["r1"])
    assert bf.run_failures(client, "r1") == [("(run)", "killed")]


def _backfill(status: str, runs: list[tuple[str, str, dict[str, str]]]) -> dict:
    return {
        "__typename": "PartitionBackfill",
        "id": "bkf",
        "status": status,
        "partitionNames": ["2013-02-01"],
        "runs": [
            {
                "runId": r,
                "status": s,
                "tags": [{"key": k, "value": v} for k, v in t.items()],
                "startTime": 0,
                "endTime": 0,
            }
            for r, s, t in runs
        ],
        "error": None,
    }


@pytest.mark.parametrize(
    ("status", "runs", "code"),
    [
        (
            "COMPLETED_FAILED",
            [
                ("r1", "FAILURE", {"dagster/will_retry": "true", "dagster/auto_retry_run_id": "r2"}),
                ("r2", "FAILURE", {"dagster/will_retry": "false"}),
            ],
            1,
        ),
        (
            "COMPLETED_SUCCESS",
            [
                ("r1", "FAILURE", {"dagster/will_retry": "true", "dagster/auto_retry_run_id": "r2"}),
                ("r2", "SUCCESS", {}),
            ],
            0,
        ),
    ],
)
def test_status_exit_code_and_failure_lines(status, runs, code, capsys):
    """Today's main: ``status`` printed COMPLETED_FAILED and exited 0, without a reason."""
    client = ScriptedClient(
        runs={}, failures={"r1": [STEP_FAILURE], "r2": [STEP_FAILURE]}, backfill=_backfill(status, runs)
    )
    state = bf.backfill_state(client, "bkf")
    assert state.done
    printed: list[str] = []
    assert bf.report_backfill(client, state, printed.append) == code
    failed = [p for p in printed if "failed step raw_readings" in p]
    assert len(failed) == sum(s == "FAILURE" for _, s, _ in runs)
    assert any("(retried as r2)" in p for p in printed)


def test_a_backfill_waiting_for_a_retry_is_not_done():
    client = ScriptedClient(
        runs={},
        failures={},
        backfill=_backfill("COMPLETED_FAILED", [("r1", "FAILURE", {"dagster/will_retry": "true"})]),
    )
    assert not bf.backfill_state(client, "bkf").done
