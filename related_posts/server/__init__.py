"""``related-posts serve``: a read-only HTTP server over a store (JSON API, browse page, widget)."""
