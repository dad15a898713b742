"""Reading the text of an uploaded record, for search.

- Images (JPEG, PNG, WebP): Tesseract through `pytesseract`, in the languages
  of RECORDS_OCR_LANGUAGES that are installed (English and Hindi by default).
- PDFs: each page's own text layer through `pypdf`. A page without one (a
  scan) is rendered to an image by poppler's `pdftoppm` and read by Tesseract.
  Only the first RECORDS_OCR_MAX_PAGES pages are read.

What comes back says what happened, in the words of `OcrStatus`:

- done: text was read (it may be empty: a picture with no words);
- not applicable: there is nothing to read for search (never returned here:
  the upload service decides that for photos);
- unavailable: Tesseract (or pdftoppm, for a scan) is not installed, or OCR is
  switched off (RECORDS_OCR=false). Nothing breaks: the file is kept, shown
  and downloadable, only not searchable by its content. Once the engine is
  installed, `manage.py records_ocr --status unavailable` reads them;
- failed: the engine ran and gave up (a timeout, a file it cannot read).

Nothing here touches the database: records.services.file_ocr_run stores
the result.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from PIL import Image

from dhanwantari.uploads import IMAGE_TYPES, PDF
from records.models import OcrStatus

logger = logging.getLogger(__name__)

# Keep the column (and search) sane whatever a 20-page scan produces.
MAX_TEXT = 200_000
# Fewer visible characters than this on a PDF page means it has no real text layer.
MIN_PAGE_CHARACTERS = 20
# Tesseract reads best around 300 dpi; larger images only cost time.
MAX_OCR_SIDE = 4000
# pdftoppm renders each page to fit this many pixels on its longest side (an A4 page
# at about 300 dpi), whatever size the page claims to be.
RENDER_SIDE = 3500


@dataclass(frozen=True)
class OcrResult:
    status: str
    text: str = ""
    detail: str = ""
    facts: dict = field(default_factory=dict)  # source, languages, pages read: kept in metadata["ocr"]


class EngineMissing(Exception):
    """Tesseract or pdftoppm is not installed (or OCR is switched off)."""


def extract_text(content: bytes, content_type: str) -> OcrResult:
    """The text of a checked upload (bytes as stored), and how it was obtained."""
    try:
        if content_type in IMAGE_TYPES:
            return _image(content)
        if content_type == PDF:
            return _pdf(content)
    except EngineMissing as exc:
        return OcrResult(OcrStatus.UNAVAILABLE, detail=str(exc))
    except subprocess.TimeoutExpired:
        return OcrResult(OcrStatus.FAILED, detail="Reading the file took too long.")
    except Exception as exc:  # an engine or a parser giving up on one file must not stop the worker
        logger.warning("OCR failed: %s", exc.__class__.__name__, exc_info=True)
        return OcrResult(OcrStatus.FAILED, detail="The file could not be read.")
    return OcrResult(OcrStatus.NOT_APPLICABLE, detail="There is nothing to read in this kind of file.")


def engine_status() -> str:
    """'available', or why Tesseract cannot run here (for the operator and the tests)."""
    try:
        _tesseract()
    except EngineMissing as exc:
        return str(exc)
    return "available"


# --- images ---------------------------------------------------------------------------


def _image(content: bytes) -> OcrResult:
    command, languages = _tesseract()
    with Image.open(io.BytesIO(content)) as image:
        image.load()
        text = _read_image(image, command, languages)
    return OcrResult(OcrStatus.DONE, text=_tidy(text), facts={"source": "tesseract", "languages": languages})


def _read_image(image: Image.Image, command: str, languages: str) -> str:
    import pytesseract

    image = image.convert("L") if image.mode not in ("L", "RGB") else image
    if max(image.size) > MAX_OCR_SIDE:
        image = image.copy()
        image.thumbnail((MAX_OCR_SIDE, MAX_OCR_SIDE), Image.Resampling.LANCZOS)
    # pytesseract reads the command from a module attribute; set it on every call
    # so a changed setting (or a test hiding the binary) takes effect.
    pytesseract.pytesseract.tesseract_cmd = command
    try:
        return pytesseract.image_to_string(image, lang=languages, timeout=settings.RECORDS_OCR_TIMEOUT)
    except pytesseract.TesseractNotFoundError as exc:
        raise EngineMissing("Tesseract is not installed.") from exc
    except RuntimeError as exc:
        # pytesseract signals its timeout as RuntimeError("Tesseract process timeout").
        if "timeout" in str(exc).lower():
            raise subprocess.TimeoutExpired(command, settings.RECORDS_OCR_TIMEOUT) from exc
        raise


# --- PDFs -----------------------------------------------------------------------------


def _pdf(content: bytes) -> OcrResult:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted:
        reader.decrypt("")  # checked on upload: only PDFs that open without a password are kept
    total = len(reader.pages)
    limit = min(total, settings.RECORDS_OCR_MAX_PAGES)
    texts: list[str] = []
    scanned: list[int] = []  # 1-based numbers of pages without a text layer
    for number in range(1, limit + 1):
        text = reader.pages[number - 1].extract_text() or ""
        if len(re.sub(r"\s", "", text)) >= MIN_PAGE_CHARACTERS:
            texts.append(text)
        else:
            texts.append("")
            scanned.append(number)

    facts: dict = {"pages": total, "pages_read": limit}
    sources = ["text_layer"] if len(scanned) < limit else []
    detail = ""
    if scanned:
        try:
            command, languages = _tesseract()
            renderer = _pdftoppm()
        except EngineMissing as exc:
            if not sources:
                return OcrResult(OcrStatus.UNAVAILABLE, detail=str(exc), facts=facts)
            detail = f"Scanned pages were not read. {exc}"
        else:
            for number, text in _ocr_pages(content, scanned, renderer, command, languages):
                texts[number - 1] = text
            sources.append("tesseract")
            facts["languages"] = languages
            facts["scanned_pages"] = scanned
    if total > limit:
        detail = (detail + " " if detail else "") + f"Only the first {limit} of {total} pages were read."
    facts["source"] = "+".join(sources)
    return OcrResult(OcrStatus.DONE, text=_tidy("\n\n".join(t for t in texts if t)), detail=detail, facts=facts)


def _ocr_pages(content: bytes, numbers: list[int], renderer: str, command: str, languages: str):
    """Render each scanned page with pdftoppm and read it; yields (page number, text)."""
    with tempfile.TemporaryDirectory(prefix="records-ocr-") as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(content)
        for number in numbers:
            prefix = Path(folder) / f"page-{number}"
            # A fixed argument list and no shell; the only inputs are paths we
            # made and page numbers we counted.
            subprocess.run(  # noqa: S603
                [
                    renderer,
                    "-f",
                    str(number),
                    "-l",
                    str(number),
                    "-scale-to",
                    str(RENDER_SIDE),
                    "-gray",
                    "-png",
                    "-singlefile",
                    str(source),
                    str(prefix),
                ],
                check=True,
                capture_output=True,
                timeout=settings.RECORDS_OCR_TIMEOUT,
            )
            rendered = prefix.with_suffix(".png")
            with Image.open(rendered) as image:
                image.load()
                yield number, _read_image(image, command, languages)
            rendered.unlink(missing_ok=True)


# --- the engines ----------------------------------------------------------------------


def _tesseract() -> tuple[str, str]:
    """The Tesseract binary and the configured languages it has ("eng+hin"); EngineMissing otherwise."""
    if not settings.RECORDS_OCR:
        raise EngineMissing("OCR is switched off.")
    command = shutil.which(settings.RECORDS_TESSERACT_CMD)
    if command is None:
        raise EngineMissing("Tesseract is not installed.")
    installed = _installed_languages(command)
    wanted = [lang for lang in settings.RECORDS_OCR_LANGUAGES.split("+") if lang]
    languages = [lang for lang in wanted if lang in installed]
    if not languages:
        raise EngineMissing(f"Tesseract has none of the languages {'+'.join(wanted)} installed.")
    return command, "+".join(languages)


def _pdftoppm() -> str:
    command = shutil.which(settings.RECORDS_PDFTOPPM_CMD)
    if command is None:
        raise EngineMissing("pdftoppm (poppler-utils) is not installed, so scanned PDFs cannot be read.")
    return command


@functools.lru_cache(maxsize=8)
def _installed_languages(command: str) -> frozenset[str]:
    # Asked once per binary per process: `tesseract --list-langs` prints a header line, then one per line.
    done = subprocess.run([command, "--list-langs"], capture_output=True, text=True, timeout=30, check=False)  # noqa: S603
    lines = (done.stdout or done.stderr).splitlines()
    return frozenset(line.strip() for line in lines[1:] if line.strip())


def _tidy(text: str) -> str:
    # Tesseract ends pages with form feeds and pads lines with spaces.
    text = text.replace("\x0c", "\n").replace("\x00", "")
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text[:MAX_TEXT]
