"""Re-record the example cassettes: serve each real recording on loopback, run its test.

    python examples/record.py [TEST_NAME ...]

For each example test, an ``OAPIServer`` on 127.0.0.1:8765 serves the named corpus file (the
provider's own bytes) and ``pytest --oapi-record`` records what the openai SDK received into
``cassettes/examples/test_provider_streams/<test>.yaml``. No key and no network are needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pytest_oapi_stream.server import OAPIServer

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data"

#: Example test -> the real recording it replays.
SOURCES = {
    "test_openai_text_with_usage": "corpus/openai__gpt-4o_text_include-usage.sse",
    "test_openai_parallel_tool_calls": "corpus/openai__gpt-4o_tool-calls-parallel.sse",
    "test_deepseek_reasoner": "corpus/deepseek__deepseek-reasoner_reasoning-content.sse",
    "test_qwen_plus_usage": "seed/qwen-plus__include-usage.sse",
    "test_groq_whole_tool_call_in_one_fragment":
        "corpus/groq__llama-3.3-70b_tool-call-single-chunk.sse",
    "test_azure_filter_prologue": "corpus/azure__gpt-5-mini_latency-checkpoint.sse",
    "test_llamacpp_tool_call_with_timings": "corpus/llamacpp__gpt-oss-20b_tool-call-timings.sse",
    "test_readme_example.py::test_hello_stream": "corpus/openai__gpt-4o_no-usage-curl.sse",
}


def main(names: list[str]) -> int:
    """Record the named examples (all by default); returns the number of failures."""
    failures = 0
    for name in names or list(SOURCES):
        with OAPIServer(port=8765) as server:
            server.serve_sse((CORPUS / SOURCES[name]).read_bytes())
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--oapi-record",
                 f"examples/{name if '::' in name else 'test_provider_streams.py::' + name}"],
                cwd=ROOT, check=False,
                # The loopback server needs no key; the SDK insists on one (it is redacted).
                env={**os.environ, "OPENAI_API_KEY": os.environ.get("OPENAI_API_KEY", "sk-local")},
            )
        failures += proc.returncode != 0
    return failures


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
