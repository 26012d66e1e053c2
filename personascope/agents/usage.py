"""Token usage of the model calls made inside a block, per model.

LangChain's ``get_usage_metadata_callback`` registers a new configure hook on every
use, so the hook list (walked on every model call) grows without bound over a long
experiment. Here one context variable is registered once and set per block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from langchain_core.callbacks import UsageMetadataCallbackHandler
from langchain_core.tracers.context import register_configure_hook


class _InlineUsageHandler(UsageMetadataCallbackHandler):
    # A sync handler is otherwise called through the event loop's thread pool, one thread
    # hop per model call; adding up token counts under a lock is safe to do inline.
    run_inline = True

    # Only on_llm_end counts tokens: every other event of every run below the block
    # (chains, parsers, the chat model's start) need not be dispatched to this handler.
    @property
    def ignore_chain(self) -> bool:
        return True

    @property
    def ignore_chat_model(self) -> bool:
        return True

    @property
    def ignore_agent(self) -> bool:
        return True

    @property
    def ignore_retriever(self) -> bool:
        return True

    @property
    def ignore_retry(self) -> bool:
        return True

    @property
    def ignore_custom_event(self) -> bool:
        return True


_USAGE: ContextVar[UsageMetadataCallbackHandler | None] = ContextVar("personascope_usage", default=None)
register_configure_hook(_USAGE, inheritable=True)


@contextmanager
def track_usage() -> Iterator[UsageMetadataCallbackHandler]:
    """``with track_usage() as u: ...`` then ``u.usage_metadata`` is ``{model: usage}``."""
    handler = _InlineUsageHandler()
    token = _USAGE.set(handler)
    try:
        yield handler
    finally:
        _USAGE.reset(token)
