"""`workbench export` and `workbench serve`: a trained student as a file other runtimes load,
and students behind one HTTP service."""

from __future__ import annotations

from typing import Optional

import typer

from workbench.cli.base import _config, _emit, _limits, app
from workbench.export.config import ExportConfig
from workbench.serve.config import ServeConfig


@app.command()
def serve(
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="Serve the task's latest finished run; repeat."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="TASK=PATH: serve a run or export folder as TASK."),
    router: Optional[str] = typer.Option(None, "--router", help="A classification task whose labels are served tasks "
                                         "(POST /v1/route)."),
    fmt: Optional[list[str]] = typer.Option(None, "--format", help="pytorch (default), onnx, onnx-int8, gguf[-quant], "
                                            "merged; or TASK=FORMAT for one task. The export must exist."),
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address; loopback unless you say otherwise."),
    port: int = typer.Option(8321, "--port", help="Port" + _limits(ServeConfig, "port") + "."),
    no_auth: bool = typer.Option(False, "--no-auth", help="No API key (refused on a non-loopback host)."),
    show_key: bool = typer.Option(False, "--show-key", help="Print the API key (made if missing) and where it is."),
) -> None:
    """Serve students over HTTP: classify, OpenAI-compatible chat, a router, /metrics."""
    from workbench.serve import api_key, key_path, run_serve

    if show_key:
        typer.echo(f"{api_key()}\n(kept in {key_path()}; send it as 'Authorization: Bearer <key>')")
        return
    run_serve(_config(ServeConfig, tasks=task or [], models=model or [], router=router, format=fmt or "pytorch",
                      host=host, port=port, auth=not no_auth), echo=typer.echo)



@app.command("export")
def export_cmd(
    run: str = typer.Option(..., "--run", "-r", help="Run id, <task>/<run-id> or a run folder."),
    format: str = typer.Option(..., "--format", "-f", help="onnx, onnx-int8 (classify runs); gguf, merged (SFT runs)."),
    quant: Optional[str] = typer.Option(None, "--quant", help="gguf only: f16, q8_0 or q4_k_m (default)."),
    parity_rows: Optional[int] = typer.Option(None, "--parity-rows", help="Held-out rows the parity check uses; "
                                              "default all" + _limits(ExportConfig, "parity_rows") + "."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object as the last line."),
) -> None:
    """Export a trained student (ONNX, ONNX int8, GGUF, merged), checked against it on the held-out set."""
    from workbench.export import run_export

    options = {"run": run, "format": format, "parity_rows": parity_rows} | ({"quant": quant} if quant else {})
    result = run_export(_config(ExportConfig, **options))
    d, p = result.to_dict(), result.to_dict()["parity"]
    how = "already exported; returning" if result.reused else "exported"
    figures = ", ".join(f"{k} {v:.4g}" for k, v in p.items() if isinstance(v, float))
    _emit(d, as_json, f"{how} {d['run_id']} as {d['format']} ({d['size_bytes'] / 2**20:.1f} MB; parity on "
                      f"{p['rows']} held-out rows: {figures}) at {d['folder']}")
