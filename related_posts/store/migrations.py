"""Numbered schema migrations. The schema changes only by appending a function here.

Each migration runs once, inside the same transaction that records it in ``_migrations``,
so a store is never left half-migrated.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import sqlite_utils

from ..errors import StoreError


def _m001_initial(db: sqlite_utils.Database) -> None:
    db.table("settings").create({"key": str, "value": str}, pk="key")
    db.table("articles").create(
        {
            "id": str,
            "title": str,
            "body": str,
            "url": str,
            "published": str,
            "source": str,
            "lang": str,
            "tail": str,  # JSON list of {title, teaser, url}: the tail the page had
            "content_hash": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"title", "body", "content_hash", "created_at", "updated_at"},
    )
    db.table("articles").create_index(["content_hash"])
    db.table("articles").create_index(["url"])
    db.table("embeddings").create(
        {
            "article_id": str,
            "model_id": str,
            "dimension": int,
            "vector": bytes,  # float32, little-endian, L2-normalised
            "content_hash": str,
            "embedded_at": str,
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"model_id", "dimension", "vector", "content_hash"},
    )
    db.table("related").create(
        {
            "article_id": str,
            "rank": int,
            "related_id": str,
            "score": float,
            "model_id": str,
            "computed_at": str,
        },
        pk=("article_id", "rank"),
        foreign_keys=[("article_id", "articles", "id"), ("related_id", "articles", "id")],
        not_null={"related_id", "score", "model_id", "computed_at"},
    )
    db.table("related").create_index(["related_id"])


def _m002_list_state(db: sqlite_utils.Database) -> None:
    # What each related list was computed from, so a refresh recomputes only lists whose
    # article changed (content_hash), whose links changed or vanished (stale), or that
    # were made with another k or model; min_score is the weakest link, which a new
    # article must beat to enter the list without recomputing it.
    db.table("list_state").create(
        {
            "article_id": str,
            "content_hash": str,
            "model_id": str,
            "k": int,
            "size": int,
            "min_score": float,
            "stale": int,
            "computed_at": str,
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"content_hash", "model_id", "k", "size", "stale", "computed_at"},
        defaults={"stale": 0},
    )
    db.table("list_state").create_index(["stale"])


def _m003_ranking(db: sqlite_utils.Database) -> None:
    # The ranking options a list was made with (a fingerprint): lists made under other
    # options are due again. NULL for lists made before ranking options existed, so
    # that those are recomputed once with the current ranking.
    db.table("list_state").add_column("options", str)
    # Why each link is there: its score components as JSON (dense, lexical, re-ranking,
    # time direction), for `related --json`.
    db.table("related").add_column("why", str)
    # Each article's hashed lexical terms, cached per content hash: the lexical signal
    # needs the text, which a refresh would otherwise re-read and re-tokenise each time.
    db.table("lexical_terms").create(
        {
            "article_id": str,
            "content_hash": str,
            "hashes": bytes,  # int32 little-endian, MurmurHash3 of each distinct term
            "weights": bytes,  # float32 little-endian, unit-length sublinear tf
            "shingles": bytes,  # int32 little-endian, hashes of each run of three terms
        },
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"content_hash", "hashes", "weights", "shingles"},
    )


def _m004_labels(db: sqlite_utils.Database) -> None:
    # The site's own categories or tags of each article (a JSON list), which lists can
    # exclude; NULL for articles stored before labels existed (no labels).
    db.table("articles").add_column("labels", str)


#: The vector recipe this migration binds stores to, as it was when the migration was
#: written: a migration is history and must not follow a live constant.
_M005_RECIPE = " body+0.5*title"


def _m005_vector_recipe(db: sqlite_utils.Database) -> None:
    # Articles are now embedded as body plus a weighted title vector (recommend.embed.
    # article_vectors), not as one "title, newline, body" text, and the store's model id
    # names that recipe. Binding an existing store to the suffixed id makes its next
    # refresh re-embed every article (the old vectors keep the bare id, so none counts as
    # current) and recompute every list (list_state keeps the bare id too), instead of
    # ranking old and new vectors together. Until then the stored lists are still served.
    row = db.execute("select value from settings where key = 'model_id'").fetchone()
    if row is not None and not row[0].endswith(_M005_RECIPE):  # a bare model id: the old recipe
        db.execute("update settings set value = ? where key = 'model_id'", [row[0] + _M005_RECIPE])


def _m006_neighbourhoods(db: sqlite_utils.Database) -> None:
    # Each article's re-ranking neighbourhood, frozen when it was found (see
    # recommend/refresh.settled_neighbourhoods): neighbour ids, best first, separated and bracketed by
    # \x1f, and their float32 weights. Rows naming an article whose text changed or that
    # was removed are deleted with it.
    db.table("neighbourhoods").create(
        {"article_id": str, "content_hash": str, "neighbours": str, "weights": bytes},
        pk="article_id",
        foreign_keys=[("article_id", "articles", "id")],
        not_null={"content_hash", "neighbours", "weights"},
    )


#: The related_lists view as this migration defines it (a later change is a new migration
#: that drops and recreates it).
_M007_RELATED_LISTS = """
create view related_lists as
select
    r.article_id,
    a.title as article_title,
    a.url as article_url,
    r.rank,
    r.related_id,
    b.title as related_title,
    b.url as related_url,
    r.score,
    case when json_valid(r.why) then json_extract(r.why, '$.dense') end as dense,
    case when json_valid(r.why) then json_extract(r.why, '$.lexical') end as lexical,
    case when json_valid(r.why) then json_extract(r.why, '$.expanded') end as expanded,
    case when json_valid(r.why) then json_extract(r.why, '$.time') end as time,
    r.why,
    r.model_id,
    r.computed_at
from related r
join articles a on a.id = r.article_id
join articles b on b.id = r.related_id
"""


def _m007_related_lists_view(db: sqlite_utils.Database) -> None:
    # One row per link with both articles' titles and urls, for sqlite3 and Datasette
    # users: the related table holds ids only. The score's parts are read out of ``why``
    # (a JSON object, or NULL for links stored without them); ``why`` itself is kept as
    # it is, which Datasette shows as JSON. The store's code never reads the view.
    db.execute(_M007_RELATED_LISTS)


#: The neighbourhood_members view as this migration defines it.
_M008_NEIGHBOURHOOD_MEMBERS = """
create view neighbourhood_members as
with recursive split(article_id, position, neighbour_id, rest) as (
    select article_id, 0, null, substr(neighbours, 2) from neighbourhoods
    union all
    select article_id, position + 1, substr(rest, 1, instr(rest, char(31)) - 1),
           substr(rest, instr(rest, char(31)) + 1)
    from split where instr(rest, char(31)) > 0
)
select
    s.article_id,
    a.title as article_title,
    s.position,
    s.neighbour_id,
    n.title as neighbour_title
from split s
join articles a on a.id = s.article_id
left join articles n on n.id = s.neighbour_id
where s.position > 0
"""


def _m008_neighbourhood_members_view(db: sqlite_utils.Database) -> None:
    # neighbourhoods.neighbours is ids bracketed and separated by \x1f (compact, and an id
    # may hold any other character); this view splits it into one row per neighbour, best
    # first, with titles, for sqlite3 and Datasette users. The store's code never reads it.
    db.execute(_M008_NEIGHBOURHOOD_MEMBERS)


def _m009_page_metadata(db: sqlite_utils.Database) -> None:
    # What pages say about themselves, for display (image, description: the page's own
    # summary, shown as the teaser) and sync (origin: the absolute path of the file an
    # article was read from, so `ingest --sync` can tell which articles lost their file).
    # NULL for articles stored before: the next ingest of their files fills them in.
    for column in ("image", "description", "modified", "origin"):
        db.table("articles").add_column(column, str)
    db.table("articles").create_index(["origin"])


def _m010_removed_articles(db: sqlite_utils.Database) -> None:
    # Articles taken out with `related-posts remove` (unpublished by hand): a later ingest
    # of the folder they still sit in leaves them out, until `ingest --restore`.
    db.table("removed_articles").create({"id": str, "removed_at": str}, pk="id", not_null={"removed_at"})


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_list_state", _m002_list_state),
    ("003_ranking", _m003_ranking),
    ("004_labels", _m004_labels),
    ("005_vector_recipe", _m005_vector_recipe),
    ("006_neighbourhoods", _m006_neighbourhoods),
    ("007_related_lists_view", _m007_related_lists_view),
    ("008_neighbourhood_members_view", _m008_neighbourhood_members_view),
    ("009_page_metadata", _m009_page_metadata),
    ("010_removed_articles", _m010_removed_articles),
]


def _applied(db: sqlite_utils.Database) -> set[str]:
    """The migrations this database has; refuses one written by a newer version."""
    done = {row["name"] for row in db.table("_migrations").rows} if db.table("_migrations").exists() else set()
    unknown = sorted(done - {name for name, _ in MIGRATIONS})
    if unknown:  # written by a newer version: its schema may mean things this one ignores
        raise StoreError(f"{db.conn.execute('pragma database_list').fetchone()[2] or 'the store'} was "
                         f"upgraded by a newer related-posts (migration {unknown[-1]}); this version "
                         f"knows up to {MIGRATIONS[-1][0]}: upgrade related-posts to use it")
    return done


def pending(db: sqlite_utils.Database) -> list[str]:
    """The names of the migrations this database lacks, in order (without applying any)."""
    done = _applied(db)
    return [name for name, _ in MIGRATIONS if name not in done]


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply the migrations this database lacks, in order; return the names applied."""
    applied: list[str] = []
    with db.atomic():
        if not db.table("_migrations").exists():
            db.table("_migrations").create({"name": str, "applied_at": str}, pk="name")
        done = _applied(db)
        for name, migration in MIGRATIONS:
            if name in done:
                continue
            migration(db)
            db.table("_migrations").insert(
                {"name": name, "applied_at": datetime.now(timezone.utc).isoformat()}
            )
            applied.append(name)
    return applied
