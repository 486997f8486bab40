"""Launch and follow backfills through the Dagster webserver's GraphQL API (scripted backfills).

Needs a running webserver and daemon (``make ui``). One-run launches use Dagster's own
``dagster_graphql.DagsterGraphQLClient``; backfills, re-execution, run tags and step failures have no
method there, so they use the webserver's GraphQL API directly (the queries below).

Asset backfill of a month range (the assets' single-run policy makes it ONE run)::

    python -m pipelines.tooling.backfill launch \\
        --assets raw_readings,clean_readings,quarantined_readings,household_month_coverage \\
        --from 2013-01-01 --to 2013-03-01

Backfill of a job's partitions (the daemon still groups them by the assets' single-run policy)::

    python -m pipelines.tooling.backfill launch --job monthly_resegmentation --partitions 2013-01-01,2013-02-01

Re-run what a finished backfill did not materialize (for a single-run range that is the whole
range), follow a backfill, launch one month of a job, re-execute one failed run (only its partition
or range, only the failed steps and what depends on them)::

    python -m pipelines.tooling.backfill retry <backfill id>
    python -m pipelines.tooling.backfill status <backfill id>
    python -m pipelines.tooling.backfill run --job ingest_and_clean --partition 2013-02-01
    python -m pipelines.tooling.backfill rerun <run id>

Materialize unpartitioned assets in one run (``tariff_schedule`` first, before loading a history)::

    python -m pipelines.tooling.backfill materialize --assets tariff_schedule

``launch``, ``retry``, ``run``, ``materialize`` and ``rerun`` wait until the backfill/run finishes (``--no-wait`` to
return at once) and print progress. They tell the truth about failures:

* a failed run that Dagster will retry (``run_retries`` in dagster.yaml: tag ``dagster/will_retry=true``)
  is followed into its retry (``dagster/auto_retry_run_id``), and the outcome reported is the last
  run's: a transient failure the retry fixed is a success;
* every failed run (after its retries) is printed with the step that failed and its error;
* the exit code is 0 on success, 1 on failure (``status`` too, for a finished failed backfill), 2 on a
  timeout or an API error. ``status`` of a backfill still running exits 0 (without ``--wait``).

Only runs launched through the webserver or the daemon (this tool, the UI, schedules, sensors,
backfills) are retried; ``dagster asset materialize`` runs from the CLI never are (Dagster cannot
re-launch a run without a code-location origin). ``--url`` (or ``DAGSTER_URL``) defaults to
http://127.0.0.1:3000.

The same functions are importable (``launch_asset_backfill``, ``wait_for_backfill``, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_URL = "http://127.0.0.1:3000"
BACKFILL_TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
BACKFILL_SUCCESS = {"COMPLETED", "COMPLETED_SUCCESS"}
RUN_TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}


class GraphQLError(RuntimeError):
    """The API answered with errors, or a mutation returned an error type."""


@dataclass
class Client:
    """A minimal GraphQL client for the Dagster webserver."""

    url: str = DEFAULT_URL
    timeout_s: float = 30.0

    def execute(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": dict(variables or {})}).encode()
        request = urllib.request.Request(
            self.url.rstrip("/") + "/graphql", data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise GraphQLError(f"HTTP {exc.code} from {self.url}: {exc.read()[:500]!r}") from None
        if payload.get("errors"):
            raise GraphQLError("; ".join(e.get("message", str(e)) for e in payload["errors"]))
        return payload["data"]


ERROR_FIELDS = "__typename ... on Error { message } ... on PythonError { message stack }"


def _unwrap(result: dict[str, Any], success_type: str, what: str) -> dict[str, Any]:
    if result.get("__typename") != success_type:
        message = result.get("message") or json.dumps(result)[:2000]
        errors = result.get("errors")
        if errors:
            message += ": " + "; ".join(e.get("message", "") for e in errors)
        raise GraphQLError(f"{what} failed ({result.get('__typename')}): {message}")
    return result


def code_location(client: Client) -> tuple[str, str]:
    """(repository name, location name) of the only code location."""
    data = client.execute(
        "{ repositoriesOrError { __typename ... on RepositoryConnection { nodes { name location { name } } }"
        " ... on PythonError { message } } }"
    )["repositoriesOrError"]
    nodes = data.get("nodes") or []
    if len(nodes) != 1:
        raise GraphQLError(f"expected exactly one code location, found {nodes or data}")
    return nodes[0]["name"], nodes[0]["location"]["name"]


LAUNCH_BACKFILL = f"""
mutation($params: LaunchBackfillParams!) {{
  launchPartitionBackfill(backfillParams: $params) {{
    {ERROR_FIELDS}
    ... on LaunchBackfillSuccess {{ backfillId }}
  }}
}}"""


def _tags(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in (tags or {}).items()]


def launch_asset_backfill(
    client: Client,
    assets: Sequence[str],
    partition_range: tuple[str, str] | None = None,
    partitions: Sequence[str] | None = None,
    title: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Asset backfill (honours backfill policies: single_run assets -> one run per range)."""
    if (partition_range is None) == (partitions is None):
        raise ValueError("give exactly one of partition_range or partitions")
    params: dict[str, Any] = {"tags": _tags(tags)}
    if title:
        params["title"] = title
    if partition_range is not None:
        start, end = partition_range
        params["partitionsByAssets"] = [
            {"assetKey": {"path": key.split("/")}, "partitions": {"range": {"start": start, "end": end}}}
            for key in assets
        ]
    else:
        params["assetSelection"] = [{"path": key.split("/")} for key in assets]
        params["partitionNames"] = list(partitions or [])
    result = client.execute(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    return _unwrap(result, "LaunchBackfillSuccess", "launchPartitionBackfill")["backfillId"]


def launch_job_backfill(
    client: Client,
    job: str,
    partitions: Sequence[str],
    title: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> str:
    """Backfill of a job's partitions (its partition set). Dagster 1.13's daemon groups the partitions
    of single-run assets into one range run here too."""
    repository, location = code_location(client)
    params: dict[str, Any] = {
        "selector": {
            "partitionSetName": f"{job}_partition_set",
            "repositorySelector": {"repositoryName": repository, "repositoryLocationName": location},
        },
        "partitionNames": list(partitions),
        "tags": _tags(tags),
    }
    if title:
        params["title"] = title
    result = client.execute(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
    return _unwrap(result, "LaunchBackfillSuccess", "launchPartitionBackfill")["backfillId"]


def retry_backfill(client: Client, backfill_id: str, strategy: str = "FROM_FAILURE") -> str:
    """New backfill re-running only the failed (FROM_FAILURE) or all (ALL_STEPS) partitions."""
    query = f"""
    mutation($params: ReexecutionParams!) {{
      reexecutePartitionBackfill(reexecutionParams: $params) {{
        {ERROR_FIELDS}
        ... on LaunchBackfillSuccess {{ backfillId }}
      }}
    }}"""
    result = client.execute(query, {"params": {"parentRunId": backfill_id, "strategy": strategy}})
    return _unwrap(result["reexecutePartitionBackfill"], "LaunchBackfillSuccess", "reexecutePartitionBackfill")[
        "backfillId"
    ]


def graphql_client(client: Client):
    """Dagster's own client (``dagster_graphql.DagsterGraphQLClient``) for the same webserver."""
    from urllib.parse import urlsplit

    from dagster_graphql import DagsterGraphQLClient

    url = urlsplit(client.url)
    return DagsterGraphQLClient(
        url.hostname or "127.0.0.1",
        port_number=url.port,
        use_https=url.scheme == "https",
        timeout=int(client.timeout_s),
        path_prefix=url.path.rstrip("/"),
    )


def submit(client: Client, job: str, tags: Mapping[str, str], asset_selection: Sequence[str] | None = None) -> str:
    """``DagsterGraphQLClient.submit_job_execution``; returns the run id. (dagster-graphql 1.13 calls gql
    with arguments gql 4 deprecates: that DeprecationWarning is Dagster's, silenced for this call.)"""
    import warnings

    from dagster_graphql import DagsterGraphQLClientError

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Using variable_values and operation_name", category=DeprecationWarning
            )
            return graphql_client(client).submit_job_execution(
                job,
                run_config={},
                tags=dict(tags),
                asset_selection=[a.split("/") for a in asset_selection] if asset_selection else None,
            )
    except DagsterGraphQLClientError as exc:
        cause = f": {exc.__cause__}" if exc.__cause__ else ""
        raise GraphQLError(f"submit_job_execution of {job} failed: {exc.args[0].splitlines()[0]}{cause}") from exc


def launch_partition_run(client: Client, job: str, partition: str, tags: Mapping[str, str] | None = None) -> str:
    """One run of ``job`` for one partition (as the launchpad does), through Dagster's
    ``DagsterGraphQLClient.submit_job_execution``; returns the run id."""
    return submit(client, job, {"dagster/partition": partition, **(tags or {})})


def launch_asset_run(client: Client, assets: Sequence[str], tags: Mapping[str, str] | None = None) -> str:
    """One run materializing unpartitioned ``assets`` (e.g. ``tariff_schedule`` before a history load),
    through ``DagsterGraphQLClient.submit_job_execution`` on Dagster's implicit asset job; returns the run id."""
    return submit(client, "__ASSET_JOB", dict(tags or {}), asset_selection=assets)


def rerun(client: Client, run_id: str, strategy: str = "FROM_FAILURE", tags: Mapping[str, str] | None = None) -> str:
    """Re-execute a finished run (same job, same partition or range): FROM_FAILURE re-runs only the
    failed steps and what depends on them; ALL_STEPS everything. Returns the new run id."""
    query = f"""
    mutation($params: ReexecutionParams!) {{
      launchRunReexecution(reexecutionParams: $params) {{
        {ERROR_FIELDS}
        ... on LaunchRunSuccess {{ run {{ runId }} }}
      }}
    }}"""
    params = {"parentRunId": run_id, "strategy": strategy, "extraTags": _tags(tags)}
    result = client.execute(query, {"params": params})["launchRunReexecution"]
    return _unwrap(result, "LaunchRunSuccess", "launchRunReexecution")["run"]["runId"]


@dataclass
class BackfillState:
    backfill_id: str
    status: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    partition_names: list[str] | None = None

    @property
    def done(self) -> bool:
        # Finished runs may still be retried (run_retries); wait for those too.
        return (
            self.status in BACKFILL_TERMINAL
            and all(r["status"] in RUN_TERMINAL for r in self.runs)
            and not any(waiting_for_retry(r["status"], r["tags"]) for r in self.runs)
        )

    @property
    def succeeded(self) -> bool:
        return self.status in BACKFILL_SUCCESS

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for run in self.runs:
            counts[run["status"]] = counts.get(run["status"], 0) + 1
        runs = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items())) or "no runs yet"
        return f"backfill {self.backfill_id}: {self.status} ({runs})" + (f" - {self.error}" if self.error else "")


def backfill_state(client: Client, backfill_id: str) -> BackfillState:
    query = """
    query($id: String!) {
      partitionBackfillOrError(backfillId: $id) {
        __typename
        ... on PartitionBackfill {
          id status partitionNames
          runs(limit: 1000) { runId status tags { key value } startTime endTime }
          error { message }
        }
        ... on Error { message }
      }
    }"""
    data = client.execute(query, {"id": backfill_id})["partitionBackfillOrError"]
    _unwrap(data, "PartitionBackfill", "partitionBackfillOrError")
    return BackfillState(
        backfill_id=data["id"],
        status=data["status"],
        runs=[{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in data["runs"]],
        error=(data.get("error") or {}).get("message"),
        partition_names=data.get("partitionNames"),
    )


def wait_for_backfill(
    client: Client,
    backfill_id: str,
    timeout_s: float = 3600.0,
    poll_s: float = 2.0,
    progress: Callable[[str], None] | None = print,
) -> BackfillState:
    """Poll until the backfill and its runs are finished; raises TimeoutError after ``timeout_s``."""
    deadline, last = time.monotonic() + timeout_s, ""
    while True:
        state = backfill_state(client, backfill_id)
        line = state.summary()
        if progress and line != last:
            progress(line)
            last = line
        if state.done:
            return state
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s: {line}")
        time.sleep(poll_s)


WILL_RETRY_TAG = "dagster/will_retry"
AUTO_RETRY_RUN_ID_TAG = "dagster/auto_retry_run_id"


def waiting_for_retry(status: str, tags: Mapping[str, str]) -> bool:
    """A failed run Dagster will retry whose retry has not been launched yet (Dagster's
    ``DagsterRun.is_complete_and_waiting_to_retry``)."""
    return status == "FAILURE" and tags.get(WILL_RETRY_TAG) == "true" and not tags.get(AUTO_RETRY_RUN_ID_TAG)


def run_info(client: Client, run_id: str) -> tuple[str, dict[str, str]]:
    """(status, tags) of a run."""
    query = """query($id: ID!) { runOrError(runId: $id) { __typename
      ... on Run { status tags { key value } } ... on Error { message } } }"""
    data = _unwrap(client.execute(query, {"id": run_id})["runOrError"], "Run", "runOrError")
    return data["status"], {t["key"]: t["value"] for t in data["tags"]}


def run_status(client: Client, run_id: str) -> str:
    return run_info(client, run_id)[0]


def wait_for_run(
    client: Client,
    run_id: str,
    timeout_s: float = 3600.0,
    poll_s: float = 2.0,
    progress: Callable[[str], None] | None = print,
) -> str:
    """Poll until the run is finished (this run only; :func:`follow_run` follows retries too)."""
    deadline, last = time.monotonic() + timeout_s, ""
    while True:
        status = run_status(client, run_id)
        if progress and status != last:
            progress(f"run {run_id}: {status}")
            last = status
        if status in RUN_TERMINAL:
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s: run {run_id} is {status}")
        time.sleep(poll_s)


@dataclass
class RunOutcome:
    """The end of a run's retry chain: the last run's id and status, and every run of the chain."""

    run_id: str
    status: str
    chain: list[str]


def follow_run(
    client: Client,
    run_id: str,
    timeout_s: float = 3600.0,
    poll_s: float = 2.0,
    progress: Callable[[str], None] | None = print,
    tag_grace_s: float = 10.0,
) -> RunOutcome:
    """Wait for the run and for every automatic retry Dagster launches after it; the outcome is the
    last run's. ``tag_grace_s``: how long a failed run may lack the ``dagster/will_retry`` tag (Dagster
    adds it just after the failure event) before the failure counts as final."""
    deadline, chain = time.monotonic() + timeout_s, [run_id]
    while True:
        status = wait_for_run(client, run_id, max(1.0, deadline - time.monotonic()), poll_s, progress)
        if status != "FAILURE":
            return RunOutcome(run_id, status, chain)
        grace = time.monotonic() + tag_grace_s
        while True:
            _, tags = run_info(client, run_id)
            if tags.get(AUTO_RETRY_RUN_ID_TAG):
                break
            if tags.get(WILL_RETRY_TAG) == "false" or (WILL_RETRY_TAG not in tags and time.monotonic() > grace):
                return RunOutcome(run_id, status, chain)
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for the retry of run {run_id}")
            time.sleep(poll_s)
        retry = tags[AUTO_RETRY_RUN_ID_TAG]
        if progress:
            progress(f"run {run_id} failed; Dagster retries it as run {retry}")
        run_id = retry
        chain.append(run_id)


FAILURES_QUERY = """
query($id: ID!) { logsForRun(runId: $id, limit: 10000) { __typename
  ... on EventConnection { events { __typename
    ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } }
    ... on RunFailureEvent { message error { message causes { message } } } } }
  ... on Error { message } } }"""


def _error_text(error: Mapping[str, Any] | None) -> str:
    if not error:
        return ""
    parts = [error.get("message", "").strip()] + [c.get("message", "").strip() for c in error.get("causes") or []]
    return " <- caused by: ".join(p for p in parts if p)


def run_failures(client: Client, run_id: str) -> list[tuple[str, str]]:
    """(step, error) of each failed step of a run; ("(run)", message) when no step failed (e.g. the run
    worker was killed) but the run did."""
    data = client.execute(FAILURES_QUERY, {"id": run_id})["logsForRun"]
    events = data.get("events") or []
    steps = [
        (e["stepKey"], _error_text(e.get("error"))) for e in events if e["__typename"] == "ExecutionStepFailureEvent"
    ]
    if steps:
        return steps
    return [
        ("(run)", _error_text(e.get("error")) or e.get("message") or "failed")
        for e in events
        if e["__typename"] == "RunFailureEvent"
    ]


def print_failures(client: Client, run_id: str, out: Callable[[str], None] = print) -> None:
    for step, error in run_failures(client, run_id) or [("(run)", "no failure event recorded")]:
        out(f"    failed step {step}: {error}")


def report_run(client: Client, outcome: RunOutcome, out: Callable[[str], None] = print) -> int:
    """Print the outcome (with each failed run's step and error) and return the exit code."""
    retried = (
        f" after {len(outcome.chain) - 1} automatic retr{'y' if len(outcome.chain) == 2 else 'ies'}"
        if len(outcome.chain) > 1
        else ""
    )
    out(f"run {outcome.run_id}: {outcome.status}{retried}")
    for run_id in outcome.chain:
        status, _ = run_info(client, run_id)
        if status == "FAILURE":
            out(f"  run {run_id} FAILURE{' (retried)' if run_id != outcome.run_id else ''}:")
            print_failures(client, run_id, out)
    return 0 if outcome.status == "SUCCESS" else 1


def report_backfill(client: Client, state: BackfillState, out: Callable[[str], None] = print) -> int:
    """Each run of a finished backfill (failed ones with their step and error) and the exit code: 0 if
    the backfill succeeded, else 1."""
    for r in state.runs:
        tags = r["tags"]
        partition = tags.get("dagster/partition") or "..".join(
            filter(
                None, [tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")]
            )
        )
        retried = f" (retried as {tags[AUTO_RETRY_RUN_ID_TAG]})" if tags.get(AUTO_RETRY_RUN_ID_TAG) else ""
        out(f"  run {r['runId']}  {r['status']:<8}  {partition}{retried}")
        if r["status"] == "FAILURE":
            print_failures(client, r["runId"], out)
    if state.error:
        out(f"  backfill error: {state.error}")
    return 0 if state.succeeded else 1


def _parse_tags(items: Sequence[str]) -> dict[str, str]:
    tags = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--tag expects key=value, got {item!r}")
        tags[key] = value
    return tags


def _split(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pipelines.tooling.backfill",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--url", default=os.environ.get("DAGSTER_URL", DEFAULT_URL), help="webserver URL")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (default 3600)")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between status polls")
    commands = parser.add_subparsers(dest="command", required=True)

    launch = commands.add_parser("launch", help="launch an asset backfill (--assets) or a job backfill (--job)")
    target = launch.add_mutually_exclusive_group(required=True)
    target.add_argument("--assets", help="comma-separated asset keys (a/b for prefixed keys)")
    target.add_argument("--job", help="job name (backfill of the job's partition set)")
    launch.add_argument("--from", dest="start", help="first partition key of a range, e.g. 2013-01-01")
    launch.add_argument("--to", dest="end", help="last partition key of the range (inclusive)")
    launch.add_argument("--partitions", help="comma-separated partition keys instead of a range")
    launch.add_argument("--title")
    launch.add_argument("--tag", action="append", default=[], help="key=value run tag (repeatable)")
    launch.add_argument("--no-wait", action="store_true")

    retry = commands.add_parser("retry", help="re-run the failed partitions of a finished backfill")
    retry.add_argument("backfill_id")
    retry.add_argument("--all-steps", action="store_true", help="re-run every partition, not only failures")
    retry.add_argument("--no-wait", action="store_true")

    status = commands.add_parser("status", help="show (and with --wait, follow) a backfill")
    status.add_argument("backfill_id")
    status.add_argument("--wait", action="store_true")

    again = commands.add_parser("rerun", help="re-execute a failed run (its partition) from the failure")
    again.add_argument("run_id")
    again.add_argument("--all-steps", action="store_true", help="re-run every step, not only the failed ones")
    again.add_argument("--tag", action="append", default=[])
    again.add_argument("--no-wait", action="store_true")

    materialize = commands.add_parser("materialize", help="one run of unpartitioned assets (e.g. tariff_schedule)")
    materialize.add_argument("--assets", required=True, help="comma-separated asset keys")
    materialize.add_argument("--tag", action="append", default=[])
    materialize.add_argument("--no-wait", action="store_true")

    run = commands.add_parser("run", help="launch one run of a job for one partition")
    run.add_argument("--job", required=True)
    run.add_argument("--partition", required=True)
    run.add_argument("--tag", action="append", default=[])
    run.add_argument("--no-wait", action="store_true")

    args = parser.parse_args(argv)
    client = Client(args.url)
    try:
        if args.command in ("run", "rerun", "materialize"):
            if args.command == "materialize":
                run_id = launch_asset_run(client, _split(args.assets), _parse_tags(args.tag))
            elif args.command == "run":
                run_id = launch_partition_run(client, args.job, args.partition, _parse_tags(args.tag))
            else:
                strategy = "ALL_STEPS" if args.all_steps else "FROM_FAILURE"
                run_id = rerun(client, args.run_id, strategy, _parse_tags(args.tag))
            print(f"launched run {run_id}")
            if args.no_wait:
                return 0
            return report_run(client, follow_run(client, run_id, args.timeout, args.poll))
        if args.command == "launch":
            partitions = _split(args.partitions) or None
            if (args.start or args.end) and partitions:
                parser.error("give --from/--to or --partitions, not both")
            if not partitions and not (args.start and args.end):
                parser.error("give --from and --to, or --partitions")
            tags = _parse_tags(args.tag)
            if args.job:
                if not partitions:
                    parser.error("a job backfill needs --partitions")
                backfill_id = launch_job_backfill(client, args.job, partitions, args.title, tags)
            else:
                backfill_id = launch_asset_backfill(
                    client,
                    _split(args.assets),
                    partition_range=(args.start, args.end) if not partitions else None,
                    partitions=partitions,
                    title=args.title,
                    tags=tags,
                )
            print(f"launched backfill {backfill_id}")
        elif args.command == "retry":
            backfill_id = retry_backfill(client, args.backfill_id, "ALL_STEPS" if args.all_steps else "FROM_FAILURE")
            print(f"launched backfill {backfill_id} (re-execution of {args.backfill_id})")
        else:
            backfill_id = args.backfill_id
            if not args.wait:
                state = backfill_state(client, backfill_id)
                print(state.summary())
                return report_backfill(client, state) if state.done else 0
        if getattr(args, "no_wait", False):
            return 0
        state = wait_for_backfill(client, backfill_id, args.timeout, args.poll)
        return report_backfill(client, state)
    except (GraphQLError, urllib.error.URLError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
