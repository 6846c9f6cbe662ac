"""A site's lists out of the store: exports for static site generators and feeds of lists.

Pure functions over a :class:`~related_posts.store.Store` and the library; the CLI and the
server call them.
"""
