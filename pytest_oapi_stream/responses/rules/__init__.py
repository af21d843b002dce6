"""The Responses rule catalog: one table, ``RULES`` (OAS101-OAS138 and the byte-level rules).

Codes and names are the stable public API of ``SPEC-responses.md``. The byte-level chat rules
(OAS001-OAS005, OAS040) apply unchanged; OAS001-OAS005 are the very functions of the chat table
(``core/rules.py``). Checks hook in as in the chat table: ``on_event`` (each SSE event),
``on_chunk`` (each typed event, narrowed by ``types``) and ``on_end``. They run *before* the
assembler takes the event in, so they see the state the event arrives into.

The package follows the catalog: ``context`` (``ResponseContext``), one module per catalog
section (``framing`` A, ``schema`` B, ``lifecycle`` C, ``items`` D, ``parts`` E) and ``table``
(``RULES``, in catalog order). Other modules import from here, not from the parts.
"""

from __future__ import annotations

from .context import EventViolation, ResponseContext
from .items import FAMILY_ITEMS
from .lifecycle import CONSTANT_FIELDS, EARLIEST_CREATED, FUTURE_SLACK, MS_THRESHOLD
from .schema import ANNOTATION_REQUIRED, ITEM_REQUIRED, REQUIRED, SNAPSHOT_REQUIRED
from .table import RULES, RULES_BY_CODE

__all__ = [
    "ANNOTATION_REQUIRED",
    "CONSTANT_FIELDS",
    "EARLIEST_CREATED",
    "FAMILY_ITEMS",
    "FUTURE_SLACK",
    "ITEM_REQUIRED",
    "MS_THRESHOLD",
    "REQUIRED",
    "RULES",
    "RULES_BY_CODE",
    "SNAPSHOT_REQUIRED",
    "EventViolation",
    "ResponseContext",
]
