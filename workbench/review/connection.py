"""Which Argilla to talk to, checked before any work: a remote one if configured, else the local one.

Order: explicit arguments, then ``WORKBENCH_ARGILLA_URL``/``WORKBENCH_ARGILLA_API_KEY``, then
``ARGILLA_API_URL``/``ARGILLA_API_KEY`` (the SDK's own variables; both read by
:class:`~workbench.settings.WorkbenchSettings`), then the local Argilla (``workbench argilla up``)
with its owner's key. The key never appears in errors or logs.

Example:
    >>> from workbench.review.connection import connect
    >>> client, url = connect()          # doctest: +SKIP
"""

from __future__ import annotations

import httpx

from workbench.review.schema import ReviewError


def resolve(url: str | None = None, api_key: str | None = None) -> tuple[str, str, bool]:
    """(url, api_key, is_local) from arguments, settings (the environment), or the local Argilla."""
    from workbench.settings import get_settings

    s = get_settings()
    url = url or s.argilla_url
    if api_key is None:
        api_key = s.argilla_key()
    if url:
        if not api_key:
            raise ReviewError(f"no API key for the Argilla at {url}: set ARGILLA_API_KEY or WORKBENCH_ARGILLA_API_KEY")
        return url.rstrip("/"), api_key, False
    from workbench.review.server.local import LocalArgilla

    local = LocalArgilla.from_settings()
    if not local.healthy():
        raise ReviewError(f"the local Argilla is not running at {local.url}: start it with `workbench argilla up` "
                          "(or set ARGILLA_API_URL and ARGILLA_API_KEY for a remote one)")
    return local.url, local.credentials().api_key, True


def check(url: str, api_key: str) -> dict:
    """The user the key belongs to; a clear ReviewError for a wrong URL or a wrong key."""
    try:
        resp = httpx.get(f"{url}/api/v1/me", headers={"X-Argilla-Api-Key": api_key}, timeout=10)
    except httpx.HTTPError as exc:
        raise ReviewError(f"cannot reach Argilla at {url} ({type(exc).__name__}): check the URL "
                          "(ARGILLA_API_URL / WORKBENCH_ARGILLA_URL) and that the server is up") from None
    if resp.status_code == 401:
        raise ReviewError(f"Argilla at {url} rejected the API key: check ARGILLA_API_KEY / WORKBENCH_ARGILLA_API_KEY")
    if resp.status_code != 200 or "username" not in resp.text:
        raise ReviewError(f"{url} answered HTTP {resp.status_code} to /api/v1/me: is it an Argilla 2.x server?")
    return resp.json()


def connect(url: str | None = None, api_key: str | None = None):
    """An ``argilla.Argilla`` client, after checking the URL and key. Returns (client, url)."""
    import argilla as rg

    url, api_key, _ = resolve(url, api_key)
    check(url, api_key)
    return rg.Argilla(api_url=url, api_key=api_key), url


def ensure_argilla(start_local: bool = True) -> str:
    """The URL of a reachable Argilla: the configured remote one (checked), else the local one,
    started when ``start_local`` (idempotent: a running one is reused). Notebooks call this.

    Example:
        >>> ensure_argilla()          # doctest: +SKIP
        'http://127.0.0.1:6900'
    """
    from workbench.review.server.local import LocalArgilla
    from workbench.settings import get_settings

    if start_local and not get_settings().argilla_url:
        LocalArgilla.from_settings().up()  # no remote one configured: the local one, reused if running
    url, api_key, _ = resolve()
    check(url, api_key)
    return url
