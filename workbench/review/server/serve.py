"""Entry point run by argilla-server's own Python (its venv), never by the workbench's.

The launcher (``local.py``) starts each process with ``python serve.py <command>`` and the
environment that points argilla at the workbench home: SQLite database, the embedded Redis,
and the SQLite search engine registered below.

Commands:
    server --host H --port P   the API and UI (uvicorn)
    worker                     argilla's rq worker (background jobs)
    migrate                    create or upgrade the database
    owner                      create the owner from the 0600 credentials file, if missing, and
                               a default workspace (``workbench``) when there is none
    reindex                    rebuild the search index from the database
    prepare [--reindex]        migrate, owner (and reindex) in one interpreter: what `up` runs
                               before the server starts (argilla's imports take seconds each time)
"""

import asyncio
import json
import os
import runpy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The database holds the owner's API key: every file this process creates is 0600 (the
# launcher sets the same umask; this covers a hand-run serve.py too).
os.umask(0o077)

# Argilla's quick-start gives the owner a workspace; the SDK's Dataset(...).create() without
# one needs it. The workbench's own pushes use this name too (ReviewConfig.workspace).
DEFAULT_WORKSPACE = "workbench"

import sqlite_engine  # noqa: E402  (registers the engine before argilla picks one)

# This side runs in argilla-server's own venv, where workbench.settings is not importable: it is
# the one place outside settings.py that reads os.environ (variables local.py sets for it).
# Extra engines (the benchmark's do-nothing baseline) register the same way.
for _plugin in filter(None, os.environ.get("WORKBENCH_ARGILLA_PLUGINS", "").split(os.pathsep)):
    runpy.run_path(_plugin)


def _server(host: str, port: int) -> None:
    import uvicorn

    uvicorn.run("argilla_server:app", host=host, port=port, log_level="warning", access_log=False)


def _worker() -> None:
    from argilla_server.jobs.queues import DEFAULT_QUEUE, HIGH_QUEUE, REDIS_CONNECTION
    from rq import Worker

    # One worker is plenty on a laptop; its jobs (record status, hub imports) are light.
    Worker([HIGH_QUEUE, DEFAULT_QUEUE], connection=REDIS_CONNECTION).work(logging_level="WARNING")


def _migrate() -> None:
    from argilla_server.cli.database.migrate import migrate_db

    migrate_db(revision="head")


async def _owner() -> None:
    # argilla's own `users create` echoes the API key; this writes nothing secret anywhere.
    from argilla_server.contexts import accounts
    from argilla_server.database import AsyncSessionLocal
    from argilla_server.enums import UserRole
    from argilla_server.models import User

    creds = json.loads(Path(os.environ["WORKBENCH_ARGILLA_CREDENTIALS"]).read_text())
    async with AsyncSessionLocal() as session:
        owner = await accounts.get_user_by_username(session, creds["username"])
        if owner is None:
            owner = await User.create(session, first_name=creds["username"], username=creds["username"],
                                      role=UserRole.owner, password_hash=accounts.hash_password(creds["password"]),
                                      api_key=creds["api_key"], autocommit=True)
            print("owner created")
        if not await accounts.list_workspaces(session):
            workspace = await accounts.create_workspace(session, {"name": DEFAULT_WORKSPACE})
            await accounts.create_workspace_user(session, {"workspace_id": workspace.id, "user_id": owner.id})
            print(f"workspace {DEFAULT_WORKSPACE} created")


def _reindex() -> None:
    from argilla_server.cli import app

    app(["search-engine", "reindex"], standalone_mode=False)


def main(argv: list[str]) -> None:
    command, args = argv[0], argv[1:]
    if command == "server":
        host = args[args.index("--host") + 1] if "--host" in args else "127.0.0.1"
        port = int(args[args.index("--port") + 1]) if "--port" in args else 6900
        _server(host, port)
    elif command == "worker":
        _worker()
    elif command == "migrate":
        _migrate()
    elif command == "owner":
        asyncio.run(_owner())
    elif command == "reindex":
        _reindex()
    elif command == "prepare":
        _migrate()
        asyncio.run(_owner())
        if "--reindex" in args:
            _reindex()
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
