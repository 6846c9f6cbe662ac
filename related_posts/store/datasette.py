"""A Datasette ``metadata.json`` document describing a related-posts store.

``datasette site.db --metadata metadata.json`` then shows what each table holds and
offers canned queries for the questions people ask of a store. Datasette names a
database after its file's stem (``site`` for ``site.db``), which is the ``db_name`` the
document is keyed by. The format is Datasette 0.x's metadata file (title, description,
``databases`` -> tables, columns and ``queries``); Datasette 1.0 reads descriptions from
it too but takes canned queries from its configuration file instead.
"""

from __future__ import annotations

from typing import Any

#: Canned queries: name -> (title, description, SQL). Named parameters (``:id``) become
#: form fields in Datasette.
CANNED_QUERIES: dict[str, tuple[str, str, str]] = {
    "article_list": (
        "An article's related list",
        "The links of one article's list, best first, with titles, urls and the score's parts.",
        "select rank, related_id, related_title, related_url, score, dense, lexical, expanded,"
        " time, why\nfrom related_lists\nwhere article_id = :id\norder by rank",
    ),
    "unlinked_articles": (
        "Articles nobody links to",
        "Articles that appear in no other article's related list.",
        "select a.id, a.title, a.url\nfrom articles a\n"
        "where not exists (select 1 from related r where r.related_id = a.id)\norder by a.id",
    ),
    "short_lists": (
        "Lists shorter than k",
        "Articles whose list has fewer links than the k it was computed with: the relevance "
        "floor (the floor_quantile or min_score ranking option) cut it, exclusions left too "
        "few candidates, or the site has fewer articles than k. Weakest link score included.",
        "select s.article_id, a.title, a.url, s.size, s.k, s.min_score\nfrom list_state s\n"
        "join articles a on a.id = s.article_id\nwhere s.size < s.k\n"
        "order by s.size, s.article_id",
    ),
}

#: Table (and view) name -> (description, {column: description}).
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "related_lists": (
        "One row per link of every related list, with both articles' titles and urls "
        "(a view over related and articles).",
        {
            "article_id": "The article whose list this is.",
            "rank": "1 for the best link.",
            "related_id": "The linked article.",
            "score": "Ranking score of the link.",
            "dense": "Cosine similarity of the two articles' vectors.",
            "lexical": "Cosine similarity of their hashed terms (NULL when fusion is off).",
            "expanded": "What neighbourhood re-ranking added to the score (NULL when off).",
            "time": "background (an older link) or follow-up (a newer one), when both are dated.",
            "why": "The score's parts as a JSON object (NULL for links stored without them).",
        },
    ),
    "articles": (
        "The site's articles: text, url and metadata.",
        {
            "tail": "JSON list of the related-posts tail the page had at ingest.",
            "labels": "JSON list of the site's categories or tags.",
            "content_hash": "Hash of the text; a change makes the article's list due again.",
            "image": "The page's image (og:image, front matter image or cover).",
            "description": "The page's own summary, shown as its teaser.",
            "modified": "When the page says it last changed.",
            "origin": "Absolute path of the file the article was read from (for ingest --sync).",
        },
    ),
    "removed_articles": (
        "Articles taken out with `related-posts remove`: ingest leaves them out until --restore.",
        {},
    ),
    "embeddings": (
        "One vector per article (float32 little-endian, L2-normalised), with the model it "
        "was made with.",
        {"vector": "float32 little-endian blob of `dimension` values."},
    ),
    "related": (
        "The related lists by id: one row per link; see the related_lists view for titles.",
        {"why": "The score's parts as a JSON object (NULL for links stored without them)."},
    ),
    "list_state": (
        "What each list was computed from, so a refresh recomputes only the lists that are due.",
        {
            "k": "The most links the list was allowed.",
            "size": "How many links it has (fewer than k when a floor or filters cut it).",
            "min_score": "Score of its weakest link.",
            "stale": "1 when a linked article changed or vanished since.",
            "options": "Fingerprint of the ranking options it was made with.",
        },
    ),
    "lexical_terms": (
        "Each article's hashed lexical terms, cached per content hash (binary blobs).",
        {},
    ),
    "neighbourhoods": (
        "Each article's re-ranking neighbourhood, frozen when it was found.",
        {
            "neighbours": "Neighbour ids, best first, separated and bracketed by the \\x1f "
            "character; the neighbourhood_members view splits them.",
            "weights": "float32 little-endian weights of the neighbours.",
        },
    ),
    "neighbourhood_members": (
        "One row per member of each re-ranking neighbourhood, best first, with titles "
        "(a view over neighbourhoods and articles).",
        {"position": "1 for the nearest neighbour.", "neighbour_id": "The neighbouring article."},
    ),
    "settings": ("The store's model, dimension, saved ranking options and --field mappings.", {}),
    "_migrations": ("The schema migrations applied to this store.", {}),
}


def datasette_metadata(db_name: str) -> dict[str, Any]:
    """The ``metadata.json`` document for a store that Datasette serves as ``db_name``."""
    tables: dict[str, Any] = {}
    for name, (description, columns) in TABLES.items():
        entry: dict[str, Any] = {"description": description}
        if columns:
            entry["columns"] = dict(columns)
        tables[name] = entry
    # Links to an article (related.related_id, related.article_id) show its title.
    tables["articles"]["label_column"] = "title"
    return {
        "title": "Related posts",
        "description": "A related-posts store: articles, their vectors and their related "
        "lists. Start with the related_lists view or the canned queries.",
        "databases": {
            db_name: {
                "description": "Articles, vectors and related lists of one site.",
                "tables": tables,
                "queries": {
                    name: {"title": title, "description": description, "sql": sql}
                    for name, (title, description, sql) in CANNED_QUERIES.items()
                },
            }
        },
    }
