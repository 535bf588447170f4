"""``workbench serve``: one HTTP service for several tasks' students, with a router in front.

A front (like the CLI): it imports train, export and the core. Models load once, at startup;
requests that arrive together share a model call (:mod:`workbench.serve.batching`).

Example:
    >>> from workbench.serve import ServeConfig, run_serve
    >>> run_serve(ServeConfig(tasks=["support_intents", "support_replies"], router="support_router"))  # doctest: +SKIP
"""

from workbench.serve.app import build_app
from workbench.serve.config import ServeConfig
from workbench.serve.keys import api_key, key_path
from workbench.serve.run import (RunningServer, ServiceProcess, run_serve, serve_in_background, serve_in_subprocess,
                                 startup_lines)
from workbench.serve.students import Served, ServeError, load_served

__all__ = ["RunningServer", "ServeConfig", "ServeError", "Served", "ServiceProcess", "api_key", "build_app", "key_path",
           "load_served", "run_serve", "serve_in_background", "serve_in_subprocess", "startup_lines"]
