"""The local Argilla service. ``serve.py`` and ``sqlite_engine.py`` run in argilla-server's own venv."""
