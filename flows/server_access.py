"""Who may use the Prefect servers we start: the login they ask for, the origins and hosts they answer, and the
environment they start with (no vendor keys).

Both `shorts serve`'s server and the background server run `flows.guarded_server` on 127.0.0.1 with:
- Prefect's basic auth (PREFECT_SERVER_API_AUTH_STRING), the string kept 0600 in SHORTS_HOME/prefect-login, given
  to our own clients as PREFECT_API_AUTH_STRING, and typed into the UI's login page;
- CORS for its own origins only, and Prefect's CSRF tokens on every write;
- a Host and Origin check in front (DNS rebinding: a page served from evil.example that resolves to 127.0.0.1 sends
  Host: evil.example), since Prefect has none.
"""

from __future__ import annotations

import base64
import os
import re
import time
import uuid

import httpx

from flows.guarded_server import HOST, origins
from pipeline import ConfigError, Settings, private_home, private_secret

CSRF_REFRESH_SECONDS = 30 * 60  # Prefect's tokens last PREFECT_SERVER_CSRF_TOKEN_EXPIRATION, an hour by default
# The server needs none of these; a flow run gets them from the process that runs it (`shorts make`, the runner).
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|AUTH", re.I)
_STRIPPED_PREFIXES = (
    "SHORTS_",
    "OPENAI_",
    "RUNWAY",
    "RUNWARE_",
    "ELEVENLABS_",
    "PEXELS_",
    "PIXABAY_",
    "YOUTUBE_",
    "AWS_",
    "GOOGLE_",
)


def login(settings: Settings) -> str:
    """This SHORTS_HOME's server login (made on first use); it is the UI's password, so never log it."""
    private_home(settings.home_dir)
    try:
        return private_secret(settings.paths.server_login)
    except OSError as exc:
        raise ConfigError(
            f"Cannot keep the server login in {settings.paths.server_login} ({exc.strerror}); check that "
            "SHORTS_HOME is yours and writable."
        ) from exc


def server_env(settings: Settings, port: int, public: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a server process: ours without vendor keys or SHORTS_ settings, plus its access rules
    (`public`: the https:// address a reverse proxy serves it at, if any)."""
    env = {name: value for name, value in os.environ.items() if not _secret(name)}
    api_url = f"http://{HOST}:{port}/api"
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "PREFECT_UI_API_URL": f"{public.rstrip('/')}/api" if public else api_url,  # else the UI calls :4200
            "PREFECT_SERVER_API_AUTH_STRING": login(settings),
            "PREFECT_SERVER_CORS_ALLOWED_ORIGINS": ",".join(origins(port, public)),
            "PREFECT_SERVER_CSRF_PROTECTION_ENABLED": "true",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            **extra,
        }
    )
    return env


def _secret(name: str) -> bool:
    if name.startswith("PREFECT_"):  # the server's own settings (a Postgres password among them) stay; a client's go
        return name in ("PREFECT_API_KEY", "PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING")
    return name.startswith(_STRIPPED_PREFIXES) or bool(_SECRET_NAME.search(name))


def client_env(settings: Settings) -> dict[str, str]:
    """What our own Prefect clients need to use our server: its login."""
    return {"PREFECT_API_AUTH_STRING": login(settings)}


def api_client(api_url: str, auth: str, timeout: float = 10) -> httpx.Client:
    """An httpx client for our server's API, logged in, that fetches a CSRF token before its first write."""
    token = base64.b64encode(auth.encode()).decode()
    client = httpx.Client(
        base_url=api_url.rstrip("/") + "/", timeout=timeout, headers={"Authorization": f"Basic {token}"}
    )
    csrf: dict[str, str] = {}
    fetched: list[float] = []

    def add_csrf(request: httpx.Request) -> None:
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            if not fetched or time.monotonic() - fetched[0] > CSRF_REFRESH_SECONDS:  # tokens expire after an hour
                me = str(uuid.uuid4())
                answer = client.get("csrf-token", params={"client": me})
                answer.raise_for_status()
                csrf.update({"Prefect-Csrf-Client": me, "Prefect-Csrf-Token": answer.json()["token"]})
                fetched[:] = [time.monotonic()]
            request.headers.update(csrf)

    client.event_hooks["request"].append(add_csrf)
    return client


def answers_to(api_url: str, auth: str) -> str:
    """How a Prefect API at `api_url` treats our login: `ours` (asks for it and takes it), `other` (refuses it),
    `open` (asks for none) or `down`."""
    try:
        if httpx.get(f"{api_url}/version", timeout=5).status_code == 200:
            return "open"
        with api_client(api_url, auth, timeout=5) as client:
            return "ours" if client.get("version").status_code == 200 else "other"
    except httpx.HTTPError:
        return "down"
