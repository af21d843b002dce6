"""The rule catalog: one table, ``RULES``, with each rule's code, name, severity and checks.

Codes and names are the stable public API of ``SPEC-invariants.md``. A rule's checks hook into
three points of the one-way flow: ``on_event`` (each SSE event, framing), ``on_chunk`` (each typed
chunk, before the assembler takes it in) and ``on_end`` (the whole stream). They read the shared
``RuleContext`` and report through ``ctx.emit``; the profile decides each finding's severity.

The package follows the catalog: ``context`` (``RuleContext``), one module per catalog section
(``framing`` A, ``envelope`` B, ``constancy`` C, ``choices`` D, ``finish`` E, ``usage`` F,
``tools`` G, ``content`` H, ``errors`` I, ``matrix`` J) and ``table`` (``RULES``, in catalog
order). Other modules import from here, not from the parts.
"""

from __future__ import annotations

from ...core.rules import Rule, data_field_event, failed_request
from ...core.sources import HttpInfo
from .choices import _index_order_chunk, _index_range_chunk, _noise_chunk, _role_chunk
from .constancy import _constancy_chunk
from .content import _logprobs_chunk, _reasoning_chunk
from .context import ChunkCheck, EndCheck, EventCheck, RuleContext
from .envelope import (
    FINISH_REASONS,
    SERVICE_TIERS,
    _choice_fields_chunk,
    _enum_chunk,
    _extension_chunk,
    _object_chunk,
    _required_chunk,
)
from .errors import (
    EARLIEST_CREATED,
    FUTURE_SLACK,
    MS_THRESHOLD,
    _created_chunk,
    _error_chunk,
    _fffd_chunk,
    error_event,
)
from .finish import _finish_chunk
from .framing import _event_field_event
from .matrix import _delta_lists_chunk
from .table import CONSTANCY_CODES, RULES, RULES_BY_CODE, TOOL_CODES
from .tools import _tool_chunk
from .usage import _usage_math_chunk, _usage_place_chunk, stream_usage

__all__ = [
    "CONSTANCY_CODES",
    "EARLIEST_CREATED",
    "FINISH_REASONS",
    "FUTURE_SLACK",
    "MS_THRESHOLD",
    "RULES",
    "RULES_BY_CODE",
    "SERVICE_TIERS",
    "TOOL_CODES",
    "ChunkCheck",
    "EndCheck",
    "EventCheck",
    "HttpInfo",
    "Rule",
    "RuleContext",
    "error_event",
    "failed_request",
    "stream_usage",
]
# chat/fastpath.py looks the checks it covers up by name here (its CHUNK_CHECKS, EVENT_CHECKS)
# and compares them by identity with the table's; a name missing here switches it off.
__all__ += [
    "_choice_fields_chunk",
    "_constancy_chunk",
    "_created_chunk",
    "_delta_lists_chunk",
    "_enum_chunk",
    "_error_chunk",
    "_event_field_event",
    "_extension_chunk",
    "_fffd_chunk",
    "_finish_chunk",
    "_index_order_chunk",
    "_index_range_chunk",
    "_logprobs_chunk",
    "_noise_chunk",
    "_object_chunk",
    "_reasoning_chunk",
    "_required_chunk",
    "_role_chunk",
    "_tool_chunk",
    "_usage_math_chunk",
    "_usage_place_chunk",
    "data_field_event",
]
