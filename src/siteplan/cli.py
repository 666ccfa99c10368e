"""Command line: a thin shell over :func:`siteplan.pipeline.run`.

``siteplan run`` plans on the default Guangyuan data (or a scenario you give),
``siteplan validate`` checks every input and writes nothing, ``siteplan build-data``
rebuilds the embedded default dataset from the public sources.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from siteplan.errors import SiteplanError

app = typer.Typer(
    name="siteplan",
    help=(
        "Plan care and protection sites for rural left-behind children (留守儿童): "
        "coverage of villages on the road network, where new sites go, police and rescue "
        "response, costs, maps, workbook and GIS files.\n\n"
        "Without a SCENARIO file the embedded 广元市 (Guangyuan) default is used."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

err_console = Console(stderr=True)
console = Console()

_state = {"debug": False}


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one plain line for a planner (the source line only with --debug)."""
    if _state["debug"]:
        err_console.print(warnings.formatwarning(message, category, filename, lineno, line),
                          highlight=False, markup=False)
    else:
        err_console.print(f"warning: {message}", highlight=False, markup=False, soft_wrap=True)


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")] = False,
) -> None:
    _state["debug"] = debug
    warnings.showwarning = _show_warning


def _fail(e: BaseException) -> None:
    if _state["debug"]:
        raise e
    # the message is plain text: square brackets in it (e.g. "[model]") are not Rich markup
    err_console.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False, markup=True, soft_wrap=True)
    raise typer.Exit(code=getattr(e, "exit_code", 2))


ScenarioArg = Annotated[
    Path | None,
    typer.Argument(help="Scenario TOML file (default: data/guangyuan/scenario.toml).", show_default=False),
]
DataOpt = Annotated[
    Path | None,
    typer.Option("--data", help="Folder the scenario's relative data paths are read from."),
]


@app.command()
def run(
    scenario: ScenarioArg = None,
    data: DataOpt = None,
    out: Annotated[
        Path, typer.Option("--out", help="Parent folder of the outputs; a run writes OUT/<scenario name>/.")
    ] = Path("outputs"),
    model: Annotated[
        str | None, typer.Option("--model", help="Override the location model: targets, lscp, mclp, pmedian, pcenter, budget_mclp, none. Outputs then go to OUT/<scenario name>-<model>[-p<N>]/.")
    ] = None,
    p: Annotated[int | None, typer.Option("--p", help="Number of new sites for mclp / pmedian / pcenter.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bars.")] = False,
) -> None:
    """Run the main job: inputs -> network -> coverage -> new sites -> response -> costs -> outputs."""
    from siteplan.pipeline import format_summary
    from siteplan.pipeline import run as run_pipeline
    from siteplan.scenario import load_scenario

    try:
        overrides = {}
        model_over = {}
        if model:
            model_over["kind"] = model
        if p is not None:
            model_over["p"] = p
        if model_over:
            overrides["model"] = model_over
        sc = load_scenario(scenario, **overrides)
        if model_over:  # a run with another model never overwrites the scenario's own outputs
            suffix = "-".join(f"{k}{v}" if k == "p" else str(v) for k, v in model_over.items())
            sc = sc.model_copy(update={"name": f"{sc.name}-{suffix}"})
        if data is not None:
            sc = sc.model_copy(update={"base_dir": data.resolve()})
        result = run_pipeline(sc, out_dir=out, progress=not quiet)
    except SiteplanError as e:
        _fail(e)
        return
    console.print(format_summary(result), highlight=False, markup=False)


@app.command()
def validate(scenario: ScenarioArg = None, data: DataOpt = None) -> None:
    """Check the scenario and every input file; write nothing."""
    from siteplan.pipeline import validate_inputs
    from siteplan.scenario import load_scenario

    try:
        sc = load_scenario(scenario)
        if data is not None:
            sc = sc.model_copy(update={"base_dir": data.resolve()})
        report = validate_inputs(sc)
    except SiteplanError as e:
        _fail(e)
        return
    console.print(report, highlight=False, markup=False)


@app.command("build-data")
def build_data(
    shared: Annotated[Path, typer.Option("--shared", help="The shared/ folder with data/guangyuan/ public sources.")] = Path("../shared"),
    out: Annotated[Path, typer.Option("--out", help="Where to write the dataset.")] = Path("data/guangyuan"),
    seed: Annotated[int, typer.Option("--seed", help="Seed of every modelled layer.")] = 20261129,
) -> None:
    """Rebuild the embedded Guangyuan default dataset from the public sources (reproducible)."""
    from siteplan.datasets import build_guangyuan

    try:
        written = build_guangyuan(shared, out, seed=seed)
    except SiteplanError as e:
        _fail(e)
        return
    for name, path in written.items():
        console.print(f"{name}: {path}", highlight=False, markup=False)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
