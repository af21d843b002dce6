"""The shared pipeline: sources -> SSE decoder -> ... -> report, written once for every surface."""
