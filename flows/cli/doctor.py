"""`shorts doctor`: what this machine and these keys can do, checked without spending anything."""

from __future__ import annotations

import typer

from flows.cli.errors import one_line_errors
from pipeline import (
    Settings,
    ShortRequest,
    ShortsError,
    build_provider,
    choose_providers,
    describe_ollama,
    describe_platform,
    has_youtube_token,
    key_variable,
    offline_voices,
    open_ledger,
    open_store,
    package_version,
    runway_account,
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
    typer.echo(describe_ollama(settings))
    typer.echo(f"offline voices: {', '.join(offline_voices()) or 'none installed (offline Shorts are silent)'}")
    typer.echo(_fonts_line())
    problems += _voice_lines(settings)
    problems += _shared_state(settings)
    if settings.has_key(RUNWAY_KEY):
        try:
            account = runway_account(settings)
        except ShortsError as exc:
            problems += 1
            typer.echo(f"Runway: {exc}")
        else:
            typer.echo(
                f"Runway: key accepted; {account.credit_balance} credits, monthly spend cap "
                f"{account.max_monthly_credit_spend}"
            )
            for model, limit in sorted(account.max_concurrent.items()):
                typer.echo(
                    f"  {model}: {limit} at once, {account.used_today.get(model, 0)} of "
                    f"{account.max_daily.get(model)} today"
                )
    else:
        typer.echo(f"Runway: no {RUNWAY_KEY} set")
    typer.echo(stock_line(settings))
    if settings.has_key(OPENAI_KEY):
        problems += _check_openai_models(settings)
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
    from pipeline.render.fonts import describe_fonts  # here: doctor alone needs it

    return describe_fonts()


def _voice_lines(settings: Settings) -> int:
    """Which online voices can speak here, and OpenAI speech's shutdown; returns the number of problems."""
    from pipeline.providers.openai import SPEECH_ENDS  # a constant, without the SDK

    problems = 0
    if settings.has_key(ELEVENLABS_KEY):
        try:
            narrator = build_provider("voice", "elevenlabs", settings)  # the SDK only when a key is set
            count = len(narrator.voices())  # the free voice list proves the key
            narrator.voice_id(settings.elevenlabs_voice)  # and a voice given by name is in it
            typer.echo(
                f"ElevenLabs: key accepted, {count} voices; voice {settings.elevenlabs_voice}, model "
                f"{settings.elevenlabs_model}"
                f"; up to {settings.max_characters_per_short:g} characters a Short, "
                f"{settings.max_characters_per_day:g} a day"
            )
        except ShortsError as exc:
            problems += 1
            typer.echo(f"ElevenLabs: {exc}")
    else:
        typer.echo(f"ElevenLabs: no {ELEVENLABS_KEY} set (a paid voice with exact word timings)")
    keyed = "key set" if settings.has_key(OPENAI_KEY) else f"no {OPENAI_KEY} set"
    typer.echo(
        f"OpenAI speech: {keyed}; ends {SPEECH_ENDS}, when OpenAI shuts its speech models down: `auto` no "
        "longer picks it (--voice openai until then), use --voice elevenlabs, --voice runway, --voice edge or "
        "--voice offline"
    )
    typer.echo(
        "Edge voices: free and keyless, online, only when asked for (--voice edge); `shorts voices --provider "
        "edge` lists them"
    )
    return problems


def _check_openai_models(settings: Settings) -> int:
    """Warn of configured OpenAI models with an announced shutdown, or not listed; 1 if the check failed."""
    from pipeline.providers.openai.client import model_shutdowns  # here: the SDK loads only when a key is set

    try:
        shutdowns = model_shutdowns(settings)
    except ShortsError as exc:
        typer.echo(f"OpenAI: {exc}")
        return 1
    typer.echo("OpenAI: key accepted; models: " + ", ".join(getattr(settings, name) for name in shutdowns))
    for name, date in shutdowns.items():
        model, variable = getattr(settings, name), f"SHORTS_{name.upper()}"
        if date:
            typer.echo(
                f"  warning: {model} shuts down on {date} (announced by OpenAI); set {variable} to a model "
                "with no shutdown date before then"
            )
        elif date == "":
            typer.echo(f"  warning: the server does not list {model}; check {variable}")
    return 0


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
            open_store(settings).remote.check()
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
