"""The request and response bodies of the service (pydantic: FastAPI validates and documents them).

Extra fields are ignored, as OpenAI-compatible servers do, so a client library that sends
``temperature`` or ``user`` is served (replies are greedy: the student's own decoding).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ClassifyRequest(_Body):
    texts: list[str] = Field(description="Messages to label; at most the server's max_texts, none empty.")


class Classified(BaseModel):
    label: str = Field(description="The most probable label.")
    probabilities: dict[str, float] = Field(description="Every label's probability (they sum to 1).")
    abstained: bool = Field(False, description="True when the task's out-of-scope check declined the text; "
                                               "always false until tasks declare out-of-scope (a later issue).")


class ClassifyResponse(BaseModel):
    task: str
    results: list[Classified]


class ChatMessage(_Body):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        """The content as text (OpenAI's list of parts: the text parts joined)."""
        if isinstance(self.content, list):
            return "".join(p.get("text", "") for p in self.content if p.get("type") == "text")
        return self.content or ""


class ChatRequest(_Body):
    model: str = Field(description="The task whose SFT student answers.")
    messages: list[ChatMessage] = Field(description="The last user message is the student's input; earlier "
                                                    "turns and system messages are not (it was trained on one).")
    max_tokens: int | None = Field(None, ge=1, description="Reply length cap; default the server's max_new_tokens.")
    max_completion_tokens: int | None = Field(None, ge=1, description="OpenAI's newer name for max_tokens.")
    stream: bool = False


class RouteRequest(_Body):
    text: str = Field(description="The message to route.")
    max_tokens: int | None = Field(None, ge=1, description="Reply length cap when the chosen task generates.")


class RouterChoice(BaseModel):
    task: str = Field(description="The router task.")
    label: str = Field(description="The task it chose.")
    probability: float


class RouteResponse(BaseModel):
    router: RouterChoice
    task: str = Field(description="The task that answered (the router's label).")
    objective: Literal["classify", "sft"]
    result: Classified | None = Field(None, description="The chosen classifier's answer.")
    reply: str | None = Field(None, description="The chosen generator's reply.")
