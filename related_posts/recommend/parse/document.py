"""The parsed page: :class:`Document`, the layout of its tail, and parse errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...article import TailItem
from ...errors import InputError

FORMATS = ("text", "markdown", "html", "json")


# -- errors ----------------------------------------------------------------------------------


class ParseError(InputError, ValueError):
    """A page that cannot be read as an article. ``location`` names the file.

    Also a :class:`ValueError`, so callers that predate this class keep catching it.
    """


class BinaryDataError(ParseError):
    """Bytes that are not text (an image, an archive, a PDF...)."""


class InvalidJsonError(ParseError):
    """Text that is not JSON where JSON was expected (a syntax error)."""


class NoArticleError(ParseError):
    """A page in which no article text was found (only a tail, only links, empty)."""


class PageTooLargeError(ParseError):
    """A page with more markup than the limit (``max_page``), whose parse would take minutes."""


class UnknownFormatError(ParseError):
    """A format name that is not one of :data:`FORMATS`."""


def _where(filename: str | None) -> str:
    return filename or "page"


# -- the document ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageMetadata:
    """What a page or record says about itself besides its text.

    Read from front matter (YAML or TOML), HTML ``<head>`` (canonical link, Open Graph,
    ``article:*``, JSON-LD, ``<html lang>``), feed entries and CMS exports. Every field
    is optional; dates are kept as the source writes them (ISO 8601 in every format
    here). ``id`` is an id the source gives itself (a record's id, a WordPress post id, a
    feed entry's guid when it is not a URL); ``slug`` a front matter slug or permalink
    path; ``draft`` marks an unpublished page, which ingest skips.
    """

    id: str | None = None
    url: str | None = None
    slug: str | None = None
    published: str | None = None
    modified: str | None = None
    labels: tuple[str, ...] = ()
    lang: str | None = None
    image: str | None = None
    description: str | None = None
    source: str | None = None
    draft: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The fields that are set, for ``parse --json``."""
        return {name: (list(value) if isinstance(value, tuple) else value)
                for name, value in self.__dict__.items() if value not in (None, (), False)}



@dataclass(frozen=True)
class TailLayout:
    """How a text or Markdown tail is laid out, so a new tail can take the same shape.

    ``heading_lines`` are the exact heading line(s) (an underline included);
    ``bullet`` is the list marker (``-``, ``*``, ``•``; ``1.`` style for numbered lists);
    ``blank_between`` says whether items are separated by blank lines; ``url_own_line``
    whether a bare URL follows the title on its own line; ``teaser_separator`` joins
    title and teaser on one line (``None``: the teaser is its own paragraph).
    """

    heading_lines: tuple[str, ...] = ()
    bullet: str = "-"
    blank_between: bool = True
    blank_after_heading: bool = True
    url_own_line: bool = True
    teaser_separator: str | None = None
    newline: str = "\n"


@dataclass(frozen=True)
class Document:
    """A parsed page.

    ``text[tail_start:tail_end]`` is the related-posts tail (from its heading, or the
    whole HTML block, or the JSON ``related`` value); a page without one has
    ``tail_start == tail_end`` at the place a new tail goes. ``tail_style`` records how
    the items were laid out (``blocks``: title and teaser paragraphs; ``lines``: one
    "title | teaser" line each; ``bullets``; ``numbered``; ``links``: Markdown links;
    ``html``; ``json``) and ``layout`` the details, so a new tail can take the same
    shape. ``metadata`` is what the page says about itself (url, dates, tags...).
    ``warnings`` lists best-effort repairs (charset guesses, mixed encodings, a
    huge page) a caller may want to show.
    """

    text: str
    format: str
    title: str
    body: str
    tail: tuple[TailItem, ...] = ()
    tail_heading: str | None = None
    tail_start: int = -1
    tail_end: int = -1
    tail_style: str = "blocks"
    ellipsis: str = "..."
    meta: dict[str, Any] = field(default_factory=dict)
    layout: TailLayout = field(default_factory=TailLayout)
    warnings: tuple[str, ...] = ()
    metadata: PageMetadata = field(default_factory=PageMetadata)

    def __post_init__(self) -> None:
        if self.tail_end < 0:
            object.__setattr__(self, "tail_end", len(self.text))
        if self.tail_start < 0:
            object.__setattr__(self, "tail_start", self.tail_end)

    @property
    def prefix(self) -> str:
        """Everything above the tail, exactly as in the input."""
        return self.text[: self.tail_start]

    @property
    def original_tail(self) -> str:
        """The tail exactly as in the input (empty when the page has none)."""
        return self.text[self.tail_start : self.tail_end]

    @property
    def suffix(self) -> str:
        """Everything below the tail (closing HTML tags, a copyright line...)."""
        return self.text[self.tail_end :]

    @property
    def has_tail(self) -> bool:
        """Whether the page has a tail (a heading or block, even one without items)."""
        return self.tail_start < self.tail_end

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by ``related-posts parse --json``."""
        return {
            "title": self.title,
            "body": self.body,
            "tail": [item.to_dict() for item in self.tail],
            "format": self.format,
            "tail_heading": self.tail_heading,
            "tail_style": self.tail_style if self.has_tail else None,
            "body_chars": len(self.body),
            "tail_start": self.tail_start,
            "tail_end": self.tail_end,
            "warnings": list(self.warnings),
            "metadata": self.metadata.to_dict(),
        }
