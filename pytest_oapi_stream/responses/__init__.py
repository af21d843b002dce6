"""The Responses API surface (``/v1/responses``, ``stream: true``): typed events, the OAS101-OAS138
rule table, profiles, assembly and the check driver, on the shared core pipeline."""
