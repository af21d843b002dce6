"""Contracts over checked streams: shapes, shape diffs, streamed vs final, conformance."""
