"""Recording layer: readable vcrpy cassettes, filtered and re-chunked; recorded-file readers."""
