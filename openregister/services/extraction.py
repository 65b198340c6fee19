"""What a document's bytes are, their text, and the passages that text is cut into."""

import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import PurePath

from ..errors import UnsupportedMediaType

PLAIN = "text/plain"
MARKDOWN = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ACCEPTED = (PLAIN, MARKDOWN, HTML, PDF, DOCX)
MARKDOWN_SUFFIXES = {".md", ".markdown", ".mdown", ".mkd"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}

# What a DOCX may unpack to: its parts are read into memory whole, so a small archive of a huge part
# (a zip bomb) would take the worker's memory and seconds of CPU before any XML parser could refuse it.
MAX_DOCX_UNPACKED_SIZE = 100 * 1024 * 1024

PASSAGE_WORDS = 200
OVERLAP_WORDS = 40


class ExtractionFailed(Exception):
    """The file is of an accepted type, but no text could be taken from it; the message says why."""


def unsupported(name: str) -> UnsupportedMediaType:
    return UnsupportedMediaType(
        "Unsupported Media Type",
        f"{name} is not a document this server reads: send plain text, Markdown, HTML, PDF or DOCX.",
        code="unsupported_document_type",
    )


def detect_type(data: bytes, filename: str, declared: str | None) -> str:
    """The document's type from its content first, then its name; the declared type is only a hint.

    Raises UnsupportedMediaType for anything but text, Markdown, HTML, PDF and DOCX.
    """
    suffix = PurePath(filename or "").suffix.lower()
    declared = (declared or "").split(";")[0].strip().lower()
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"PK\x03\x04"):
        if is_docx(data):
            return DOCX
        raise unsupported(filename or "The file")
    text = decode(data)
    if text is None:
        raise unsupported(filename or "The file")
    head = text.lstrip()[:512].lower()
    if suffix in HTML_SUFFIXES or declared == HTML or head.startswith(("<!doctype html", "<html")):
        return HTML
    if suffix in MARKDOWN_SUFFIXES or declared in (MARKDOWN, "text/x-markdown"):
        return MARKDOWN
    return PLAIN


def is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def decode(data: bytes) -> str | None:
    """UTF-8 (with or without a BOM) text without control bytes, or None for what is not text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if re.search(r"[\x00-\x08\x0e-\x1f]", text):
        return None
    return text


def extract_text(data: bytes, mime_type: str) -> str:
    """The text of a document of a detected type; raises ExtractionFailed saying why there is none."""
    if mime_type == PDF:
        text = pdf_text(data)
        if not text.strip():
            raise ExtractionFailed("The PDF has no text layer (a scan?): run it through OCR and upload it again.")
    elif mime_type == DOCX:
        text = docx_text(data)
    elif mime_type == HTML:
        text = html_text(decode(data) or "")
    else:
        text = decode(data) or ""
    if not text.strip():
        raise ExtractionFailed("The document contains no text.")
    return text


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except PyPdfError as error:
        raise ExtractionFailed(f"The PDF cannot be read: {error}") from None
    except Exception as error:  # a damaged file trips pypdf in many ways (KeyError, struct.error, ...)
        raise ExtractionFailed(f"The PDF cannot be read: {type(error).__name__}") from None


def docx_text(data: bytes) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # zipfile stops at each member's declared size, so the declared sizes bound what is read
            unpacked = sum(member.file_size for member in archive.infolist())
        if unpacked > MAX_DOCX_UNPACKED_SIZE:
            raise ExtractionFailed(
                f"The DOCX file unpacks to {unpacked} bytes, more than the {MAX_DOCX_UNPACKED_SIZE} this server reads."
            )
        document = docx.Document(io.BytesIO(data))
    except ExtractionFailed:
        raise
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, OSError) as error:
        raise ExtractionFailed(f"The DOCX file cannot be read: {error}") from None
    except Exception as error:  # lxml's XMLSyntaxError and friends, from a damaged archive
        raise ExtractionFailed(f"The DOCX file cannot be read: {type(error).__name__}") from None
    paragraphs = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            paragraphs.append(" | ".join(cell.text for cell in row.cells))
    return "\n\n".join(paragraphs)


class TextOnly(HTMLParser):
    """The text of an HTML page, block elements as paragraph breaks; scripts and styles left out."""

    BLOCKS = {"p", "div", "section", "article", "li", "ul", "ol", "table", "tr", "br", "h1", "h2", "h3", "h4",
              "h5", "h6", "pre", "blockquote", "header", "footer", "main", "nav", "aside", "dd", "dt", "title"}
    HIDDEN = {"script", "style", "template", "noscript", "head"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN and tag != "head":
            self.hidden += 1
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and tag != "head" and self.hidden:
            self.hidden -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_text(markup: str) -> str:
    parser = TextOnly()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts)


SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")


def paragraphs_of(text: str) -> list[str]:
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def sentences_of(paragraph: str) -> list[str]:
    """Sentences; one longer than a passage is cut into passage-sized runs of words."""
    sentences: list[str] = []
    for sentence in SENTENCE_END.split(paragraph):
        words = sentence.split()
        for start in range(0, len(words), PASSAGE_WORDS):
            sentences.append(" ".join(words[start:start + PASSAGE_WORDS]))
    return [sentence for sentence in sentences if sentence]


def split_passages(text: str, *, size: int = PASSAGE_WORDS, overlap: int = OVERLAP_WORDS) -> list[str]:
    """Passages of at most about `size` words, cut between paragraphs (inside a paragraph longer than
    a passage, between sentences); each but the first starts with the last sentences (up to `overlap`
    words) of the one before, so that a fact on a boundary is whole in one of them."""
    passages: list[str] = []
    current: list[tuple[str, bool]] = []  # (sentence, starts a paragraph)
    words = fresh = 0

    def close() -> None:
        nonlocal current, words, fresh
        passages.append(render(current))
        carried: list[tuple[str, bool]] = []
        carried_words = 0
        for sentence, starts in reversed(current):
            count = len(sentence.split())
            if carried_words + count > overlap:
                break
            carried.insert(0, (sentence, starts))
            carried_words += count
        current, words, fresh = carried, carried_words, 0

    def add(sentence: str, starts: bool) -> None:
        nonlocal words, fresh
        current.append((sentence, starts))
        count = len(sentence.split())
        words += count
        fresh += count

    for paragraph in paragraphs_of(text):
        sentences = sentences_of(paragraph)
        paragraph_words = sum(len(sentence.split()) for sentence in sentences)
        if fresh and words + paragraph_words > size:
            close()
        for index, sentence in enumerate(sentences):
            if fresh and words + len(sentence.split()) > size:
                close()
            add(sentence, index == 0)
    if fresh:
        passages.append(render(current))
    return passages


def render(sentences: list[tuple[str, bool]]) -> str:
    text = ""
    for sentence, starts in sentences:
        text += ("\n\n" if starts and text else " " if text else "") + sentence
    return text
