"""Scripts from an OpenAI chat model (or any OpenAI-compatible server): structured output, checked, repaired once."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, Protocol

import httpx
import openai
import pydantic
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionSystemMessageParam

from pipeline.errors import ConfigError, ProviderError, ShortsError
from pipeline.models import ScenePlan, Script, ShortRequest
from pipeline.prompts import fill
from pipeline.providers.base import ScriptWriter, Shared
from pipeline.providers.openai.client import Connection, check_model, client_options, scrub, vendor_error
from pipeline.script_rules import ScriptDraft, max_words, plan_scenes, script_problems, target_words
from pipeline.settings import OpenAISettings, default
from pipeline.source.models import Source

log = logging.getLogger("shorts")

MAX_ECHO_CHARS = 12_000  # how much of a broken answer is sent back in the repair round
MAX_SOURCE_CHARS = 6_000  # of the article's lead given as the source: a long lead's first paragraphs
MAX_AVOID = 100  # topics listed as "already have" when brainstorming; keeps the prompt cheap
Answer = tuple[ScriptDraft | None, str, list[str]]  # the draft (if it parsed), its raw text, what is wrong


class JsonBody(Protocol):
    """An HTTP response, of httpx or of httpx2 (which openai 3.x sends through): only its JSON body is read."""

    def json(self) -> Any: ...


class TopicIdeas(pydantic.BaseModel):
    """What a brainstorm answer holds."""

    topics: list[str]


class OpenAIScriptWriter(ScriptWriter):
    """Writes the script with `chat.completions.parse`, falling back to JSON mode where a server lacks it."""

    name: ClassVar[str] = "openai"
    section: ClassVar[type[OpenAISettings]] = OpenAISettings
    reads_source: ClassVar[bool] = True  # write_script gives it the article found for the topic
    model_setting: ClassVar[str] = "SHORTS_OPENAI_SCRIPT_MODEL"  # named when the model falls short
    server: ClassVar[str] = "OpenAI"  # the server and the setting that says where it is, for error messages
    address: ClassVar[str] = "OPENAI_BASE_URL"
    learns: ClassVar[bool] = True

    def __init__(self, connection: Connection, *, model: str = default("openai_script_model")) -> None:
        self.model = model
        self.json_mode = False  # set once a server has rejected structured output
        self._client = connection.client()

    @classmethod
    def from_settings(
        cls, settings: OpenAISettings, shared: Shared | None = None, http_client: httpx.Client | None = None
    ) -> OpenAIScriptWriter:
        return cls(client_options(settings, "--script openai", http_client), model=settings.openai_script_model)

    def check(self, request: ShortRequest) -> None:
        check_model(self._client, self.model, self.model_setting, "--script offline")

    def write(self, request: ShortRequest, plan: ScenePlan | None = None, source: Source | None = None) -> Script:
        plan = plan or plan_scenes(request)
        seconds = plan.seconds
        topic = request.topic.replace("<", "‹").replace(">", "›")  # data between <topic> tags: it cannot close them
        values = dict(
            topic=topic,
            seconds=request.seconds,
            scene_count=len(seconds),
            language=request.language,
            style=request.style,
            scene_seconds=f"{seconds[0]:g}",
            words_per_second=f"{plan.words_per_second:.1f}",
            target_words=target_words(seconds[0], plan),
            max_words=max_words(seconds[0], plan),
            article=_source_block(source),
            learnings=request.learnings,
        )
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": fill("script_system.txt", **values)},
            {"role": "user", "content": fill("script_user.txt", **values)},
        ]
        try:
            draft, content, problems = self._ask(messages, request.topic)
            if draft is not None and not problems:  # a draft that did not parse comes with its problems
                problems = script_problems(draft, plan)
            if problems:
                log.warning(
                    "  the %s script broke %d rule(s), asking for one repair: %s",
                    self.model,
                    len(problems),
                    "; ".join(problems),
                )
                messages += [
                    {"role": "assistant", "content": content[:MAX_ECHO_CHARS] or "(empty)"},
                    {"role": "user", "content": _repair_request(problems)},
                ]
                draft, content, problems = self._ask(messages, request.topic)
                if draft is not None and not problems:
                    problems = script_problems(draft, plan)
        except openai.OpenAIError as exc:
            raise vendor_error(
                exc, "writing the script", model=self.model, server=self.server, address=self.address
            ) from exc
        if problems or draft is None:
            raise ProviderError(
                f"The {self.model} script about {request.topic!r} still broke the rules after one "
                f"repair round ({'; '.join(problems)}); rerun, or set {self.model_setting} to "
                "a stronger model."
            )
        return draft.to_script(seconds)

    def brainstorm(self, niche: str, count: int, avoid: Collection[str] = (), learnings: str = "") -> list[str]:
        """Up to `count` new topic ideas for a channel niche, in one JSON-mode call (the caller checks them);
        `learnings` is what the channel's stats taught, asking for more like the winners."""
        listed = "\n".join(f"- {topic}" for topic in sorted(avoid)[:MAX_AVOID]) or "(none yet)"
        prompt = fill("brainstorm.txt", niche=niche, count=count, avoid=listed, learnings=learnings)
        try:
            completion = self._client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": prompt}],
                response_format={"type": "json_object"},
            )
        except openai.OpenAIError as exc:
            raise vendor_error(
                exc, "brainstorming topics", model=self.model, server=self.server, address=self.address
            ) from exc
        content = (completion.choices[0].message.content if completion.choices else None) or ""
        try:
            return TopicIdeas.model_validate_json(_strip_fences(content)).topics[:count]
        except pydantic.ValidationError as exc:
            raise ProviderError(
                f"The {self.model} topic ideas for {niche!r} were not the JSON asked for "
                f"({_not_the_schema(exc)}); rerun, or set SHORTS_SCRIPT_PROVIDER=offline.",
                retry_safe=True,
            ) from exc

    def _ask(self, messages: list[ChatCompletionMessageParam], topic: str) -> Answer:
        if not self.json_mode:
            try:
                return self._ask_structured(messages, topic)
            except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                # Ollama, vLLM and LM Studio builds differ in what they accept; JSON mode is the common ground.
                log.warning(
                    "  the server rejected structured output for %s (%d: %s); using JSON mode instead",
                    self.model,
                    exc.status_code,
                    scrub(exc.message, 120),
                )
                self.json_mode = True
        return self._ask_json(messages, topic)

    def _ask_structured(self, messages: list[ChatCompletionMessageParam], topic: str) -> Answer:
        raw = self._client.chat.completions.with_raw_response.parse(
            model=self.model, messages=messages, response_format=ScriptDraft
        )
        try:
            completion = raw.parse()
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as exc:
            raise self._stopped(exc, topic) from exc
        except ValueError as exc:  # pydantic's ValidationError: the text is not JSON of the schema
            return None, _raw_content(raw.http_response), [_not_the_schema(exc)]
        if not completion.choices:
            return None, "", ["the answer had no message"]
        message = completion.choices[0].message
        if message.refusal:
            raise self._refused(message.refusal, topic)
        if message.parsed is None:
            return None, message.content or "", ["the answer was empty"]
        return message.parsed, message.content or "", []

    def _ask_json(self, messages: list[ChatCompletionMessageParam], topic: str) -> Answer:
        schema = json.dumps(ScriptDraft.model_json_schema(), separators=(",", ":"))
        instructions = messages[0]["content"]  # text: the system message `write` made
        system: ChatCompletionSystemMessageParam = {
            "role": "system",
            "content": f"{instructions}\nAnswer with one JSON object and nothing "
            f"else. It must follow this JSON schema:\n{schema}\n",
        }
        completion = self._client.chat.completions.create(
            model=self.model, messages=[system, *messages[1:]], response_format={"type": "json_object"}
        )
        if not completion.choices:
            return None, "", ["the answer had no message"]
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if refusal:
            raise self._refused(refusal, topic)
        if choice.finish_reason in ("length", "content_filter"):
            raise self._stopped(choice.finish_reason, topic)
        content = choice.message.content or ""
        try:
            return ScriptDraft.model_validate_json(_strip_fences(content)), content, []
        except pydantic.ValidationError as exc:
            return None, content, [_not_the_schema(exc)]

    def _refused(self, refusal: str, topic: str) -> ShortsError:
        return ConfigError(
            f"The {self.model} model refused to write a script about {topic!r} "
            f"({scrub(refusal, 160)}); change the topic or use --script offline."
        )

    def _stopped(self, why: object, topic: str) -> ShortsError:
        if isinstance(why, openai.ContentFilterFinishReasonError) or why == "content_filter":
            return ConfigError(f"The server's content filter stopped the script about {topic!r}; change the topic.")
        return ProviderError(
            f"The {self.model} script about {topic!r} ran past the model's output limit; rerun, "
            f"or set {self.model_setting} to another model."
        )


def _source_block(source: Source | None) -> str:
    """The article's lead as the prompt's source (empty without one), marked as data like the topic."""
    if source is None:
        return ""
    lead = source.lead[:MAX_SOURCE_CHARS].replace("<", "‹").replace(">", "›")
    return "\n" + fill("script_source.txt", title=source.title, site=source.site, url=source.url, lead=lead)


def _repair_request(problems: list[str]) -> str:
    listed = "\n".join(f"- {p}" for p in problems)
    return (
        f"Your script breaks these rules:\n{listed}\n"
        "Fix every one and answer with the whole corrected script, in the same JSON format, and nothing else."
    )


def _not_the_schema(exc: Exception) -> str:
    errors = exc.errors() if isinstance(exc, pydantic.ValidationError) else []
    first: Mapping[str, Any] = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ())) or "the answer"
    detail = first.get("msg", str(exc))
    return f"the answer is not valid JSON in the required format ({where}: {scrub(detail, 120)})"


def _raw_content(response: JsonBody) -> str:
    try:
        return response.json()["choices"][0]["message"]["content"] or ""
    except (ValueError, LookupError, TypeError):
        return ""


def _strip_fences(text: str) -> str:
    """The JSON inside a ```json fence, which some local models add even in JSON mode."""
    match = re.search(r"```(?:json)?\s*(.*?)```", text, re.DOTALL)
    return match.group(1) if match else text.strip()
