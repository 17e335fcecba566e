"""The `linker` command line: thin wrappers over the library, one command per job.

Every command exits 0 on success and non-zero with one line on stderr on failure; no traceback
reaches the user unless LINKER_DEBUG is set. Progress is shown only on a terminal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from linker import store
from linker.errors import LinkerError, one_line

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find strategic-mineral smuggling operations hidden in express-parcel records.",
)
# Off a terminal (cron logs, pipes) rich would squeeze tables into 80 columns; give them room.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True, width=None if sys.stderr.isatty() else 160)

DbOption = typer.Option(
    None, "--db", help="The store (a DuckDB file). Default: $LINKER_DB, else ./linker.duckdb.", show_default=False
)


class UserError(LinkerError):
    """A failure the user can act on, reported as one line."""


def db_path(db: Optional[Path]) -> Path:
    return Path(db) if db else store.default_db_path()


def interactive() -> bool:
    return sys.stdout.isatty()


@app.command()
def ingest(
    paths: list[Path] = typer.Argument(..., help="Parcel files (CSV, Parquet, JSON Lines; .gz allowed) or directories."),
    db: Optional[Path] = DbOption,
) -> None:
    """Validate and load parcel files into the store.

    Bad rows go to quarantine with their file, line and reason; a file already loaded (same
    content) is skipped; each file loads whole or not at all.

    Example: linker ingest incoming/2026-11-21/ --db store.duckdb
    """
    from linker.stages.ingest import ingest_paths

    con = store.connect(db_path(db))
    try:
        report = ingest_paths(con, paths, progress=interactive(), console=err)
    finally:
        con.close()
    for problem in report.problems:
        err.print(f"[yellow]skipped[/yellow] {problem}")
    out.print(
        f"{report.rows_loaded:,} rows loaded, {report.rows_quarantined:,} quarantined, "
        f"{report.rows_duplicate:,} duplicates ignored, {report.files_loaded} files loaded, "
        f"{report.files_already_loaded} files skipped as already loaded"
        + (f", {len(report.problems)} files could not be read" if report.problems else "")
    )
    if report.files_loaded == 0 and report.files_already_loaded == 0 and report.problems:
        raise UserError("nothing could be read")


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="One JSON object, for scripts."),
    db: Optional[Path] = DbOption,
) -> None:
    """What the store holds: parcels, quarantine, files, entities, clusters, last run.

    Example: linker status --json --db store.duckdb
    """
    con = store.connect(db_path(db), read_only=True)
    try:
        st = store.status(con)
    finally:
        con.close()
    if as_json:
        print(json.dumps(st.as_dict(), default=str))
        return
    for key, value in st.as_dict().items():
        if key == "last_run" and value:
            shown = f"{value['kind']} {value['status']}, started {(value['started_at'] or '')[:16].replace('T', ' ')} UTC (run {value['run_id']})"
        else:
            shown = "not computed yet" if value is None else (f"{value:,}" if isinstance(value, int) else value)
        out.print(f"{key.replace('_', ' '):>17}: {shown}")


FullOption = typer.Option(
    False, "--full",
    help="Analyse every parcel again instead of extending the last analysis to the parcels loaded since.",
)


RetrainOption = typer.Option(
    False, "--retrain",
    help="Estimate the entity-resolution model (m and u per role) from the data again; implies a full run.",
)


def _print_model(summary: dict, title: str) -> None:
    """The model's figures: per role the pairs it was estimated from, and every level's m, u
    and weight in bits."""
    from rich.table import Table

    for role, info in (summary.get("roles") or {}).items():
        state = "estimated" if info.get("estimated") else "settings (too few pairs to estimate)"
        out.print(f"{role}: {state}; {info.get('candidate_pairs', 0):,} candidate pairs, "
                  f"{info.get('random_pairs', 0):,} random pairs, EM over {len(info.get('rules') or {})} blocking rules")
    table = Table(title=title)
    for col in ("role", "field", "level", "m", "u", "weight (bits)", "from"):
        table.add_column(col, no_wrap=True)
    import math

    for r in summary.get("levels", []):
        u = r["u"]
        weight = f"{math.log2(r['m'] / u):+.1f}" if u else "by frequency"
        table.add_row(r["role"], r["field"], r["level"], f"{r['m']:.4f}", "tf" if u is None else f"{u:.2g}", weight,
                      f"m {r['m_source']}, u {r['u_source']}")
    out.print(table)


@app.command()
def model(
    db: Optional[Path] = DbOption,
    as_json: bool = typer.Option(False, "--json", help="Print the model as one JSON object."),
    save: Optional[Path] = typer.Option(None, "--out", help="Write the model to this JSON file."),
    load: Optional[Path] = typer.Option(None, "--load", help="Use the model in this JSON file (from `--out` of another store) from the next full run on."),
) -> None:
    """The entity-resolution model: m and u of every comparison level per role, when and from
    how many pairs they were estimated. `linker run` estimates it on its first full run and
    keeps it; `linker run --retrain` estimates it again.

    Example: linker model --db store.duckdb
    """
    import json

    from linker.stages import resolve

    path = db_path(db)
    if not path.exists():
        raise UserError(f"no store at {path}: load parcels first with `linker ingest FILE --db {path}`")
    con = store.connect(path, read_only=load is None)
    try:
        if load is not None:
            try:
                data = json.loads(Path(load).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UserError(f"cannot read the model {load}: {exc}") from None
            try:
                resolve.import_model(con, data)
            except (resolve.ResolutionError, KeyError, TypeError) as exc:
                raise UserError(f"cannot use the model {load}: {exc}") from None
            out.print(f"model loaded from {load}: the next full run (linker run --full) resolves with it")
            return
        try:
            data = resolve.export_model(con)
        except resolve.ResolutionError as exc:
            raise UserError(str(exc)) from None
    finally:
        con.close()
    if save is not None:
        Path(save).write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        out.print(f"model written to {save}")
    elif as_json:
        print(json.dumps(data, sort_keys=True))
    else:
        _print_model(data, f"resolution model, estimated {data['estimated_at']}")


@app.command()
def run(db: Optional[Path] = DbOption, full: bool = FullOption, retrain: bool = RetrainOption) -> None:
    """Analyse what is loaded: normalise, resolve entities, goods signals, graph, clusters, scores.

    The last analysis is extended to the parcels loaded since (same parties and clusters as a
    full run, in a fraction of the time); a first run, changed settings, catalogue or code, or
    --full analyse everything. Results are swapped in at the end, so a failed run leaves the
    previous results intact; the run is recorded in `linker runs`. Ends with the top clusters.

    Example: linker run --db store.duckdb
    """
    from linker.outputs.clusters import top_clusters
    from linker.pipeline.analysis import run as run_analysis

    path = db_path(db)
    if not path.exists():
        raise UserError(f"no store at {path}: load parcels first with `linker ingest FILE --db {path}`")
    show = interactive()
    status_line = err.status("starting") if show else None

    def on_stage(stage: str, event: str, info: dict) -> None:
        if not show:
            return
        if event == "start":
            status_line.update(f"[bold]{stage}[/bold] ...")
        else:
            extra = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in info.items() if k != "seconds" and isinstance(v, int))
            err.print(f"[green]done[/green] {stage:<10} {info['seconds']:7.1f}s  {extra}")

    if status_line:
        status_line.start()
    try:
        result = run_analysis(path, on_stage=on_stage, mode="full" if full or retrain else "auto", retrain=retrain)
    finally:
        if status_line:
            status_line.stop()
    c = result.counts
    out.print(
        f"run {result.run_id}: {c.get('parcels', 0):,} parcels, {c.get('entities', 0):,} parties, "
        f"{c.get('clusters', 0):,} clusters, {c.get('flagged_clusters', 0):,} flagged, "
        f"{sum(result.timings.values()):.1f}s"
    )
    if c.get("mode") == "incremental":
        out.print(f"extended the last analysis: {c.get('changed_parcels', 0):,} parcels new or with a changed party")
    else:
        out.print(f"full analysis: {c.get('full_reason')}")
    con = store.connect(path, read_only=True)
    try:
        top = top_clusters(con, 10)
        from linker.stages import resolve

        summary = resolve.model_summary(con) if c.get("model") in ("now", "settings") else None
    finally:
        con.close()
    if summary:
        _print_model(summary, "resolution model estimated in this run (linker model shows it later)")
    elif c.get("model") == "stored":
        out.print(f"resolution model: as estimated {c.get('model_estimated_at')} (linker model; --retrain to estimate it again)")
    if top:
        from rich.table import Table

        table = Table(title="top clusters")
        for col in ("rank", "cluster", "flagged", "score", "commodity", "kg / threshold", "parcels"):
            table.add_column(col, no_wrap=True)
        for r in top:
            table.add_row(
                str(r["rank"]), r["cluster_id"], "yes" if r["flagged"] else "no", f"{r['score']:.1f}", str(r["commodity"]),
                f"{r['est_controlled_kg']:.1f} / {r['threshold_kg']:g} kg", str(r["parcels"]),
            )
        out.print(table)
        for r in top[:3]:
            out.print(f"{r['cluster_id']}: {r['summary']}")


@app.command()
def export(
    out_dir: Path = typer.Option(..., "--out", help="Folder for parcel_clusters.csv, clusters.csv and party_entities.csv."),
    db: Optional[Path] = DbOption,
) -> None:
    """Write the result files of the last run (CONTRACT.md section 3), each replaced atomically.

    Example: linker export --out results/ --db store.duckdb
    """
    from linker.outputs.export import export_results

    con = store.connect(db_path(db), read_only=True)
    try:
        rows = export_results(con, out_dir)
    finally:
        con.close()
    out.print(", ".join(f"{name}: {n:,} rows" for name, n in rows.items()) + f" written to {out_dir}")


@app.command()
def synth(
    parcels: int = typer.Option(..., "--parcels", min=1, help="How many parcels to generate."),
    out_file: Path = typer.Option(..., "--out", help="Output file: .csv, .csv.gz, .parquet, .jsonl or .jsonl.gz."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed gives the same world."),
    lookalikes: float = typer.Option(
        1.0, "--lookalikes", min=0.0,
        help="Hardness of the legitimate look-alikes: 0 few and plain, 1 as real trade is, 2 harder."),
) -> None:
    """Generate a synthetic world with known smuggling rings; the truth is written beside it.

    Example: linker synth --parcels 100000 --out data/parcels.csv.gz --seed 11 --lookalikes 2
    """
    from linker.synth import synthesise

    summary = synthesise(parcels, out_file, seed=seed, progress=interactive(), lookalike_strength=lookalikes)
    out.print(summary.describe())


def run_dashboard(path: Path, port: int, address: Optional[str]) -> None:
    """Run the dashboard server in the foreground until it stops, Ctrl-C or SIGTERM.

    Stopping this process stops the server too: systemd, cron wrappers and `kill` send SIGTERM,
    which would otherwise end this process and leave Streamlit listening on the port.
    """
    import signal

    from linker import serve as serving

    def stop(signum, frame):  # noqa: ARG001 - signal handler signature
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    # Streamlit's own log lines go to stderr so that stdout holds only the address printed before.
    proc = serving.start(path, port, address, stdout=sys.stderr)
    try:
        code = proc.wait()
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        signal.signal(signal.SIGTERM, previous)
    if code:
        raise UserError(f"the dashboard server stopped with exit code {code}")


@app.command()
def demo(
    workdir: Path = typer.Option(Path("demo"), "--dir", help="Folder for the demo's data, store and reports."),
    parcels: int = typer.Option(20_000, "--parcels", min=1000, help="Size of the synthetic world."),
    seed: int = typer.Option(7, "--seed", help="Seed of the synthetic world."),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port of the dashboard."),
    no_serve: bool = typer.Option(False, "--no-serve", help="Prepare everything but do not start the dashboard."),
) -> None:
    """Synthesise a world with planted rings, load it, run, write a report and start the dashboard.

    Example: linker demo --parcels 50000 --port 8502
    """
    from linker.synth import demo as demo_module

    setup = demo_module.prepare(workdir, parcels=parcels, seed=seed, console=err, progress=interactive())
    out.print(setup.nightly_summary)
    flagged = [r for r in setup.top if r["flagged"]]
    if flagged:
        from rich.table import Table

        table = Table(title="flagged clusters, riskiest first", title_justify="left")
        for col in ("rank", "cluster", "score", "commodity", "kg / threshold", "parcels"):
            table.add_column(col, no_wrap=True)
        for r in flagged:
            table.add_row(str(r["rank"]), r["cluster_id"], f"{r['score']:.1f}", str(r["commodity"]),
                          f"{r['est_controlled_kg']:.1f} / {r['threshold_kg']:g} kg", str(r["parcels"]))
        out.print(table)
        for r in flagged[:5]:
            out.print(f"{r['cluster_id']}: {r['summary']}")
    out.print(f"planted rings found by a flagged cluster: {setup.rings_found} of {setup.rings}")
    out.print(f"tonight's report: {(setup.report_dir / 'index.html').resolve()}")
    if no_serve:
        return
    out.print(f"dashboard: http://localhost:{port}  login: {demo_module.DEMO_USER} / {demo_module.DEMO_PASSWORD}  (Ctrl-C stops it)")
    sys.stdout.flush()
    run_dashboard(setup.db, port, "127.0.0.1")


@app.command()
def serve(
    db: Optional[Path] = DbOption,
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="Port to listen on."),
    address: Optional[str] = typer.Option(None, "--address", help="Interface to bind (default: all)."),
) -> None:
    """Start the investigators' dashboard on the latest snapshot of the store; runs until stopped.

    Example: linker serve --db store.duckdb --port 8501
    """
    from linker import serve as serving

    path = db_path(db)
    for warning in serving.check_ready(path):
        err.print(f"[yellow]warning[/yellow] {warning}")
    out.print(f"dashboard for {path} at http://{address or 'localhost'}:{port}  (Ctrl-C stops it)")
    sys.stdout.flush()
    run_dashboard(path, port, address)


@app.command()
def nightly(
    incoming: Path = typer.Option(..., "--incoming", help="Folder where tonight's parcel files arrive (files loaded before are skipped)."),
    reports: Path = typer.Option(..., "--reports", help="Folder of reports; tonight's goes to REPORTS/YYYY-MM-DD/."),
    db: Optional[Path] = DbOption,
    report_date: Optional[str] = typer.Option(None, "--date", help="Date of the report, YYYY-MM-DD (default: today, local time)."),
    force: bool = typer.Option(False, "--force", help="Analyse again even when no new file arrived."),
    full: bool = FullOption,
    keep: int = typer.Option(3, "--keep", min=1, help="Snapshots to keep (the current one and any under 10 minutes old are always kept)."),
) -> None:
    """Ingest new files, run the analysis, publish a snapshot and write tonight's report.

    Safe to re-run (same night, same report) and to start from cron: a second copy started
    while one runs exits with code 75 and changes nothing. On failure the previous snapshot
    and reports stay as they were and the command exits 1.

    Example: linker nightly --incoming /data/incoming --reports /data/reports --db /data/linker.duckdb
    """
    from linker.nightly import NightlyBusy, run_nightly

    try:
        result = run_nightly(db_path(db), incoming, reports, report_date=report_date, force=force, keep=keep,
                             progress=interactive(), console=err, full=full)
    except NightlyBusy as exc:
        err.print(f"error: {exc}")
        # SystemExit, not typer.Exit: with standalone_mode=False click returns Exit's code instead of exiting.
        raise SystemExit(75) from None
    out.print(result.describe())


@app.command()
def runs(
    as_json: bool = typer.Option(False, "--json", help="A JSON list, for scripts."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many runs, newest first."),
    db: Optional[Path] = DbOption,
) -> None:
    """The run history: nightly jobs and analysis runs, with status, times, counts and errors.

    Example: linker runs --limit 7 --db store.duckdb
    """
    from rich.table import Table

    from linker.pipeline.runs import list_runs

    history, source = list_runs(db_path(db), limit=limit)
    if as_json:
        print(json.dumps(history, default=str))
        return
    table = Table(title=f"runs in {source}", title_justify="left")
    for column in ("run", "kind", "status", "started (UTC)", "seconds", "analysis", "loaded", "flagged", "error"):
        table.add_column(column, justify="right" if column in ("seconds", "loaded", "flagged") else "left",
                         no_wrap=column != "error")
    colours = {"ok": "green", "failed": "red", "abandoned": "yellow", "running": "cyan"}
    for r in history:
        counts = r["counts"] or {}
        analysis = counts.get("pipeline_counts") or counts  # a nightly job keeps its analysis' counts inside
        mode = analysis.get("mode") or ("skipped" if counts.get("analysed") is False else "")
        table.add_row(
            r["run_id"], r["kind"], f"[{colours.get(r['status'], 'white')}]{r['status']}[/]",
            (r["started_at"] or "")[:16].replace("T", " "),
            "" if r["seconds"] is None else f"{r['seconds']:,.1f}",
            mode,
            "" if counts.get("rows_loaded") is None else f"{counts['rows_loaded']:,}",
            "" if counts.get("flagged_clusters") is None else f"{counts['flagged_clusters']:,}",
            r["error"] or "",
        )
    if not history:
        out.print(f"no runs recorded in {source} yet")
        return
    out.print(table)


users_app = typer.Typer(no_args_is_help=True, help="Dashboard users (kept in <store>.cases.sqlite beside the store).")
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Log-in name (an e-mail address where an identity provider is used)."),
    role: str = typer.Option(..., "--role", help="investigator (reads and changes cases) or viewer (reads only)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    db: Optional[Path] = DbOption,
) -> None:
    """Create a dashboard user; asks for the password twice without echo unless --password-stdin.

    Example: echo 'long secret' | linker users add ana --role investigator --password-stdin
    """
    from linker.casework import auth
    from linker.casework.cases import ROLES, CasesError, cases_db_path

    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        import getpass

        password = getpass.getpass(f"Password for {name}: ")
        if getpass.getpass("Again: ") != password:
            raise UserError("the two passwords differ; nothing was changed")
    target = cases_db_path(db_path(db))
    try:
        user = auth.create_user(target, name, role, password)
    except CasesError as exc:
        raise UserError(str(exc)) from None
    out.print(f"user {user.name} ({user.role}) added to {target}")


@users_app.command("list")
def users_list(db: Optional[Path] = DbOption) -> None:
    """List dashboard users and their roles.

    Example: linker users list --db store.duckdb
    """
    from linker.casework.cases import cases_db_path, list_users

    for user in list_users(cases_db_path(db_path(db))):
        out.print(f"{user['name']}\t{user['role']}\t{user['created_at']}")


def main() -> None:
    """Console entry point: run the app, turning known failures into one line on stderr."""
    try:
        # Without standalone mode click returns an exit code (from typer.Exit) instead of exiting.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except LinkerError as exc:
        err.print(f"error: {exc}")
        sys.exit(1)
    except (typer.Exit, SystemExit) as exc:
        code = getattr(exc, "exit_code", getattr(exc, "code", 0))
        sys.exit(code or 0)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the user gets one line, developers the traceback
        if os.environ.get("LINKER_DEBUG"):
            raise
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        err.print(f"error: {one_line(exc)} (set LINKER_DEBUG=1 for details)")
        sys.exit(1)


if __name__ == "__main__":
    main()
