"""``python -m pytest_oapi_stream``: the same CLI as ``oapi-stream``."""

from pytest_oapi_stream.cli import main

raise SystemExit(main())
