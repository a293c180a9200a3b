"""`shorts doctor`: what this machine and these keys can do, checked without spending anything."""

from __future__ import annotations

import typer

from flows.cli.errors import one_line_errors
from pipeline import (
    Finding,
    Settings,
    ShortRequest,
    ShortsError,
    choose_providers,
    describe_platform,
    has_youtube_token,
    key_variable,
    open_ledger,
    open_store,
    package_version,
    provider_spec,
)

RUNWAY_KEY, OPENAI_KEY, ELEVENLABS_KEY, PEXELS_KEY, PIXABAY_KEY = map(
    key_variable, ("runwayml_api_secret", "openai_api_key", "elevenlabs_api_key", "pexels_api_key", "pixabay_api_key")
)


def doctor() -> None:
    """Check settings, keys and tools; Runway's balance and tier come from a free call."""
    with one_line_errors(code=2):
        settings = Settings()
    problems = 0
    typer.echo(f"shorts {package_version()}, SHORTS_HOME={settings.home_dir}")
    try:
        for choice in choose_providers(ShortRequest(topic="doctor"), settings).values():
            typer.echo(f"{choice.step:<7} provider: {choice.name} ({choice.reason})")
    except ShortsError as exc:  # a provider setting that cannot work: saying so is what doctor is for
        problems += 1
        typer.echo(f"providers: {exc}")
    problems += _say(provider_spec("script", "ollama").describe(settings))
    problems += _say(provider_spec("voice", "offline").describe(settings))
    typer.echo(_fonts_line())
    for voice in ("elevenlabs", "openai", "edge"):  # which online voices can speak here
        problems += _say(provider_spec("voice", voice).describe(settings))
    problems += _shared_state(settings)
    problems += _say(provider_spec("video", "runway").describe(settings))  # balance and tier from a free call
    typer.echo(stock_line(settings))
    problems += _say(provider_spec("script", "openai").describe(settings))  # the OpenAI models' shutdowns
    channel = settings.youtube_channel
    authorised = has_youtube_token(settings.home_dir, channel)
    typer.echo(
        f"YouTube channel {channel!r}: "
        + ("authorised" if authorised else f"not authorised (run `shorts auth youtube --channel {channel}`)")
    )
    problems += _platform_lines(settings)
    if problems:
        raise typer.Exit(1)


def _platform_lines(settings: Settings) -> int:
    """Instagram, Facebook and TikTok: whose token, and the quota left, from free calls; returns the problems."""
    problems = 0
    for name in ("instagram", "facebook", "tiktok"):
        try:
            typer.echo(describe_platform(name, settings))
        except ShortsError as exc:
            problems += 1
            typer.echo(f"{name.capitalize()}: {exc}")
    return problems


def stock_line(settings: Settings) -> str:
    """Which free stock-footage sources have a key, and what they ask of the Short."""
    keyed = [name for name, var in (("Pexels", PEXELS_KEY), ("Pixabay", PIXABAY_KEY)) if settings.has_key(var)]
    if not keyed:
        return (
            f"Stock footage: no {PEXELS_KEY} or {PIXABAY_KEY} set (free keys: https://www.pexels.com/api/, "
            "https://pixabay.com/api/docs/)"
        )
    return (
        f"Stock footage: {' and '.join(keyed)} key set (--video {keyed[0].lower()}); each clip's author and link "
        "go in the manifest and the YouTube description"
    )


def _fonts_line() -> str:
    """Which scripts the title cards and captions can draw on this machine."""
    from pipeline.media.fonts import describe_fonts  # here: doctor alone needs it

    return describe_fonts()


def _say(findings: list[Finding]) -> int:
    """Print a vendor's lines; returns the number of problems among them."""
    for finding in findings:
        typer.echo(finding.text)
    return sum(finding.problem for finding in findings)


def _shared_state(settings: Settings) -> int:
    """Say where the ledger and the assets are, reaching the shared ones; returns the number of problems."""
    if not (settings.database_url or settings.store_url):
        return 0
    problems = 0
    try:
        ledger = open_ledger(settings)
        typer.echo(f"ledger: {ledger.database.name}" + (" (shared)" if ledger.shared else ""))
    except ShortsError as exc:
        problems += 1
        typer.echo(f"ledger: {exc}")
    if settings.store_url:
        try:
            remote = open_store(settings).remote
            assert remote is not None  # a store_url makes one
            remote.check()
            typer.echo(f"assets and Prefect results: {settings.store_url} (reachable)")
        except ShortsError as exc:
            problems += 1
            typer.echo(f"assets: {exc}")
        except Exception as exc:  # any other S3 failure (credentials, endpoint) is worth one line, not a traceback
            problems += 1
            typer.echo(
                f"assets: cannot reach {settings.store_url} ({type(exc).__name__}); check the AWS variables "
                "and the bucket."
            )
    return problems
