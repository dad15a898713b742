"""Checking an uploaded file before anything is stored.

Every upload (a doctor's registration documents and photo now, patients'
medical records later) goes through `validate_upload`, which trusts nothing
the client said about the file:

- the type is sniffed from the bytes by `filetype` (a maintained library; we
  keep no magic numbers of our own), never taken from the name or the
  Content-Type header;
- empty files, files over the cap, types not on the caller's list, names that
  carry a folder path or control characters, and names whose extension
  contradicts the content (``x.pdf.exe``) are refused;
- web pages, SVG drawings and scripts are refused whatever they are named:
  a browser that is ever persuaded to render one runs its script on our origin;
- images (JPEG, PNG, WebP) are decoded with Pillow under a pixel limit and
  re-encoded, which throws away EXIF (including GPS), XMP, comments and
  anything appended to the file;
- PDFs must start with a PDF header, end with an end-of-file marker and carry
  no script or launch actions (PDFs cannot be re-encoded; they are served
  only as downloads, never inline).

Two more helpers for callers that want them (medical records use both):
`check_pdf_structure` parses a PDF with pypdf, which finds scripts hidden in
compressed object streams and refuses password-locked PDFs; `thumbnail_jpeg`
makes a small metadata-free JPEG of a checked image.

What comes back (`CheckedUpload`) is what gets stored, under a random name
chosen by the caller; the name the person gave is kept only for display.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

import filetype
from django.core.exceptions import ValidationError
from PIL import Image, ImageOps, UnidentifiedImageError

# --- limits and types ------------------------------------------------------------

# Constants rather than settings: nothing about a deployment should loosen them.
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# A 40-megapixel phone photo is the largest honest image we expect. Pillow's
# own guard (Image.MAX_IMAGE_PIXELS, ~89 MP, an error only at twice that) is
# the backstop; this limit is checked from the header, before any decoding.
MAX_IMAGE_PIXELS = 40_000_000
PHOTO_SIZE = 512
THUMBNAIL_SIZE = 320

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
PDF = "application/pdf"
IMAGE_TYPES = frozenset({JPEG, PNG, WEBP})
DOCUMENT_TYPES = IMAGE_TYPES | {PDF}

# content type -> (the extension we give it, the extensions a name may carry, label)
_KNOWN: dict[str, tuple[str, frozenset[str], str]] = {
    JPEG: ("jpg", frozenset({"jpg", "jpeg", "jpe", "jfif"}), "a JPEG image"),
    PNG: ("png", frozenset({"png"}), "a PNG image"),
    WEBP: ("webp", frozenset({"webp"}), "a WebP image"),
    PDF: ("pdf", frozenset({"pdf"}), "a PDF document"),
}
_PIL_FORMAT = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
_IMAGE_EXTENSIONS = frozenset().union(*(_KNOWN[t][1] for t in (JPEG, PNG, WEBP)))

# A name ending in one of these claims a type; if the content is another type,
# the file is lying about itself. Extensions that name no type ("scan.2019")
# are left alone and the right extension is added to the stored name.
_CLAIMING_EXTENSIONS = frozenset(t.extension for t in filetype.types) | {
    "bat", "cmd", "com", "scr", "msi", "ps1", "vbs", "vbe", "js", "mjs", "jar", "hta", "sh", "bash", "py",
    "pl", "php", "phtml", "asp", "aspx", "jsp", "cgi", "html", "htm", "xhtml", "shtml", "svg", "svgz",
    "xml", "xsl", "swf", "lnk", "reg", "dll", "app", "dmg", "apk", "iso", "doc", "docx", "xls", "xlsx",
    "txt", "csv", "rtf", "heic", "heif", "tif", "tiff", "bmp", "gif",
}  # fmt: skip

# Markup a browser would render or run. Checked in the first KB of every file:
# an honest JPEG, PNG, WebP or PDF has none of these near its start (XMP
# metadata in a JPEG is XML, but never HTML or SVG).
_MARKUP = re.compile(rb"<\s*(?:!doctype\s+html|html|head|body|script|svg|iframe|object|embed)[\s>/]", re.I)
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")
# Actions that run code or open other files when a PDF is opened. Compressed
# object streams can hide them; served as a download with nosniff, a PDF never
# opens in our origin, so this is a second line, not the only one.
_PDF_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch|EmbeddedFiles?|RichMedia|XFA)(?![A-Za-z0-9])")
# Right-to-left overrides make "gpj.exe" display as "exe.jpg".
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*\x00-\x1f\x7f]')
_MAX_NAME = 120


# --- errors ----------------------------------------------------------------------------

EMPTY = "This file is empty. Choose the file again; it may not have finished saving."
TOO_LARGE = "This file is {size}. The largest file you can upload here is {limit}."
BAD_NAME = "The file's name contains a folder path or hidden characters. Rename the file and upload it again."
MARKUP = (
    "Web pages, SVG drawings and scripts cannot be uploaded, whatever their name. "
    "Upload a photo or scan (JPEG, PNG or WebP) or a PDF."
)
UNKNOWN_TYPE = "We could not recognise this file. Upload {allowed}."
NOT_ALLOWED = "This is {found}. Only {allowed} can be uploaded here."
NAME_MISMATCH = "The file is named “{name}” but it is really {found}. Upload the original file, with its own name."
DAMAGED_IMAGE = "This image could not be read: it is damaged or not really {found}. Save it again and upload it."
TOO_MANY_PIXELS = "This image is too large ({pixels} megapixels). Upload an image of at most {limit} megapixels."
DAMAGED_PDF = "This PDF is damaged or incomplete. Save it again and upload it."
ACTIVE_PDF = (
    "This PDF contains scripts or embedded files, which we do not accept. Print it to a new PDF and upload that."
)
LOCKED_PDF = "This PDF is protected by a password. Save a copy without the password and upload that."


class UploadRejected(ValidationError):
    """An upload refused, with the reason in words a person can act on.

    `code` names the reason for code and tests: empty, too_large, bad_name,
    markup, unknown_type, not_allowed, name_mismatch, damaged_image,
    too_many_pixels, damaged_pdf, active_pdf (and, from `check_pdf_structure`,
    locked_pdf).
    """

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code)
        self.reason = code


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check: store `content`, never the original bytes."""

    content: bytes
    content_type: str
    size: int
    sha256: str  # of `content`, the bytes stored
    original_name: str  # for display and download names only, never for storage
    extension: str  # the one that fits `content_type`, without a dot
    width: int | None = None
    height: int | None = None


# --- the check -----------------------------------------------------------------------


def validate_upload(file: IO[bytes] | Any, *, allowed: set[str] | frozenset[str], max_bytes: int) -> CheckedUpload:
    """Check an uploaded file and return what may be stored; raise UploadRejected otherwise."""
    unknown = set(allowed) - set(_KNOWN)
    if unknown:
        raise ValueError(f"validate_upload cannot check {sorted(unknown)}; known types are {sorted(_KNOWN)}.")
    allowed_words = _describe(allowed)

    declared_size = getattr(file, "size", None)
    if isinstance(declared_size, int) and declared_size > max_bytes:
        raise UploadRejected(TOO_LARGE.format(size=_human(declared_size), limit=_human(max_bytes)), code="too_large")
    data = _read_at_most(file, max_bytes + 1)
    if not data:
        raise UploadRejected(EMPTY, code="empty")
    if len(data) > max_bytes:
        raise UploadRejected(
            TOO_LARGE.format(size=f"over {_human(max_bytes)}", limit=_human(max_bytes)), code="too_large"
        )

    raw_name = str(getattr(file, "name", "") or "")
    name = _safe_name(raw_name)

    if _looks_like_markup(data):
        raise UploadRejected(MARKUP, code="markup")
    kind = filetype.guess(data)
    if kind is None:
        raise UploadRejected(UNKNOWN_TYPE.format(allowed=allowed_words), code="unknown_type")
    content_type = kind.mime
    if content_type not in allowed:
        found = _KNOWN[content_type][2] if content_type in _KNOWN else f"a {kind.extension.upper()} file"
        raise UploadRejected(NOT_ALLOWED.format(found=found, allowed=allowed_words), code="not_allowed")

    extension, aliases, label = _KNOWN[content_type]
    stem, dot, given_ext = name.rpartition(".")
    given_ext = given_ext.lower() if dot and stem else ""
    # One image format named as another (a JPEG saved as .png) is harmless and
    # common; the stored copy gets the right extension. A name claiming any
    # other type (.exe, .html, a .pdf that is really an image) is refused.
    misnamed_image = content_type in IMAGE_TYPES and given_ext in _IMAGE_EXTENSIONS
    if given_ext in _CLAIMING_EXTENSIONS and given_ext not in aliases and not misnamed_image:
        raise UploadRejected(NAME_MISMATCH.format(name=name, found=label), code="name_mismatch")
    if misnamed_image and given_ext not in aliases:
        name = _cap(f"{stem}.{extension}")
    elif given_ext not in aliases:
        name = _cap(f"{name}.{extension}" if name else f"upload.{extension}")

    width = height = None
    if content_type in IMAGE_TYPES:
        data, width, height = _reencode_image(data, content_type=content_type, label=label)
    else:
        _check_pdf(data)

    return CheckedUpload(
        content=data,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=name,
        extension=extension,
        width=width,
        height=height,
    )


def square_jpeg(upload: CheckedUpload, *, size: int = PHOTO_SIZE) -> bytes:
    """A checked image as a `size`×`size` JPEG, cropped to the middle (a little above, where faces are)."""
    if upload.content_type not in IMAGE_TYPES:
        raise ValueError("square_jpeg takes a checked image.")
    with Image.open(io.BytesIO(upload.content), formats=[_PIL_FORMAT[upload.content_type]]) as image:
        image.load()
        fitted = ImageOps.fit(image, (size, size), method=Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    return _jpeg_bytes(fitted, quality=85)


def thumbnail_jpeg(upload: CheckedUpload, *, size: int = THUMBNAIL_SIZE) -> bytes:
    """A checked image shrunk to fit a `size`×`size` box, as a JPEG without metadata (never enlarged)."""
    if upload.content_type not in IMAGE_TYPES:
        raise ValueError("thumbnail_jpeg takes a checked image.")
    with Image.open(io.BytesIO(upload.content), formats=[_PIL_FORMAT[upload.content_type]]) as image:
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale: much less work for a big photo.
        image.draft("RGB", (size * 2, size * 2))
        image.load()
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        return _jpeg_bytes(image, quality=80)


@dataclass(frozen=True)
class PdfFacts:
    pages: int


def check_pdf_structure(content: bytes) -> PdfFacts:
    """Parse a PDF that passed `validate_upload` (with pypdf) and look inside it.

    `validate_upload` only scans the raw bytes, where compressed object streams
    can hide a script. Here the document's objects are read as a PDF reader
    would: one that does not parse, has no pages, needs a password to open, or
    carries scripts, launch actions or embedded files in its catalogue, pages,
    annotations or form is refused. Returns what the caller may keep (the page
    count). Not part of `validate_upload`, so callers that never needed it
    (doctors' documents) behave as before; medical records call both.
    """
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError, PdfReadError

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            # Many lab PDFs are "encrypted" with an empty password only to stop
            # editing; those open for everyone and are fine.
            try:
                opened = reader.decrypt("")
            except (FileNotDecryptedError, NotImplementedError, ValueError) as exc:
                raise UploadRejected(LOCKED_PDF, code="locked_pdf") from exc
            if not opened:
                raise UploadRejected(LOCKED_PDF, code="locked_pdf")
        pages = len(reader.pages)
        active = _pdf_has_active_content(reader)
    except UploadRejected:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise UploadRejected(DAMAGED_PDF, code="damaged_pdf") from exc
    if pages < 1:
        raise UploadRejected(DAMAGED_PDF, code="damaged_pdf")
    if active:
        raise UploadRejected(ACTIVE_PDF, code="active_pdf")
    return PdfFacts(pages=pages)


# --- helpers ---------------------------------------------------------------------------


# Action types that run code or open something outside the document.
_PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute", "/SubmitForm"})


def _pdf_action_is_active(action: Any, depth: int = 0) -> bool:
    action = _resolved(action)
    if depth > 8 or not hasattr(action, "get"):
        return False
    if action.get("/S") in _PDF_ACTIVE_ACTIONS or "/JS" in action:
        return True
    # An action can chain further actions in /Next (one or a list).
    follow = _resolved(action.get("/Next"))
    chained = follow if isinstance(follow, list) else [follow] if follow is not None else []
    return any(_pdf_action_is_active(item, depth + 1) for item in chained)


def _pdf_has_active_content(reader: Any) -> bool:
    root = _resolved(reader.trailer.get("/Root"))
    if not hasattr(root, "get"):
        raise ValueError("A PDF without a catalogue.")
    names = _resolved(root.get("/Names"))
    if hasattr(names, "get") and ("/JavaScript" in names or "/EmbeddedFiles" in names):
        return True
    form = _resolved(root.get("/AcroForm"))
    if hasattr(form, "get") and "/XFA" in form:
        return True
    if "/AA" in root or _pdf_action_is_active(root.get("/OpenAction")):
        return True
    for page in reader.pages:
        if "/AA" in page:
            return True
        for annotation in _resolved(page.get("/Annots")) or []:
            annotation = _resolved(annotation)
            if not hasattr(annotation, "get"):
                continue
            if annotation.get("/Subtype") in ("/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound"):
                return True
            if "/AA" in annotation or _pdf_action_is_active(annotation.get("/A")):
                return True
    return False


def _resolved(value: Any) -> Any:
    return value.get_object() if hasattr(value, "get_object") else value


def _read_at_most(file: Any, limit: int) -> bytes:
    if hasattr(file, "seek"):
        with contextlib.suppress(OSError, ValueError):  # a stream that cannot rewind is read as it is
            file.seek(0)
    data = file.read(limit)
    return data.encode() if isinstance(data, str) else bytes(data or b"")


def _safe_name(raw: str) -> str:
    """The name to show; refuse one that tries to name a place, not a file.

    Django's upload handlers already strip folders from names; a name that
    still has one (or control characters) came from something other than a
    browser's file picker.
    """
    if "/" in raw or "\\" in raw or any(unicodedata.category(c) == "Cc" or c in _BIDI_CONTROLS for c in raw):
        raise UploadRejected(BAD_NAME, code="bad_name")
    # Leading dots would hide the file on the doctor's computer; ".." alone names nothing.
    name = unicodedata.normalize("NFC", raw).strip().strip(".").strip()
    return _cap(_UNSAFE_NAME_CHARS.sub("_", name))


def _cap(name: str) -> str:
    if len(name) <= _MAX_NAME:
        return name
    stem, dot, ext = name.rpartition(".")
    if dot and stem and len(ext) <= 8:
        return stem[: _MAX_NAME - len(ext) - 1] + "." + ext
    return name[:_MAX_NAME]


def _looks_like_markup(data: bytes) -> bool:
    head = data[:1024]
    start = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n\f")
    if start.startswith((b"<", b"#!")):
        return True
    return _MARKUP.search(head) is not None


def _reencode_image(data: bytes, *, content_type: str, label: str) -> tuple[bytes, int, int]:
    fmt = _PIL_FORMAT[content_type]
    try:
        # `formats`: decode only as the type sniffed, never let Pillow guess another.
        with Image.open(io.BytesIO(data), formats=[fmt]) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UploadRejected(_too_many(width * height), code="too_many_pixels")
            image.load()
            # Turn the picture the way its EXIF says before EXIF is dropped.
            upright = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise UploadRejected(_too_many(None), code="too_many_pixels") from exc
    except UploadRejected:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UploadRejected(DAMAGED_IMAGE.format(found=label), code="damaged_image") from exc

    if fmt == "JPEG":
        content = _jpeg_bytes(upright, quality=90)
    else:
        clean = _without_metadata(upright, keep_alpha=True)
        buffer = io.BytesIO()
        if fmt == "PNG":
            clean.save(buffer, format="PNG", optimize=True)
        else:
            clean.save(buffer, format="WEBP", quality=90, method=4)
        content = buffer.getvalue()
    return content, upright.width, upright.height


def _without_metadata(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """A copy with plain pixels and an empty `info`, so no saver can copy EXIF, XMP or text chunks over."""
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if keep_alpha and has_alpha:
        mode = "RGBA"
    elif image.mode in ("L", "RGB"):
        mode = image.mode
    elif image.mode in ("I;16", "I", "F", "1"):
        mode = "L"
    else:
        mode = "RGB"
    if has_alpha and mode != "RGBA":
        # Flatten onto white, as a transparent scan or photo would look on the page.
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        clean = flat
    else:
        clean = image.convert(mode) if image.mode != mode else image.copy()
    clean.info = {}
    return clean


def _jpeg_bytes(image: Image.Image, *, quality: int) -> bytes:
    clean = _without_metadata(image, keep_alpha=False)
    buffer = io.BytesIO()
    clean.save(buffer, format="JPEG", quality=quality, optimize=True, progressive=True)
    return buffer.getvalue()


def _check_pdf(data: bytes) -> None:
    if not _PDF_HEADER.match(data) or b"%%EOF" not in data[-2048:]:
        raise UploadRejected(DAMAGED_PDF, code="damaged_pdf")
    if _PDF_ACTIVE.search(data):
        raise UploadRejected(ACTIVE_PDF, code="active_pdf")


def _too_many(pixels: int | None) -> str:
    shown = f"{pixels / 1_000_000:.0f}" if pixels else "hundreds of"
    return TOO_MANY_PIXELS.format(pixels=shown, limit=MAX_IMAGE_PIXELS // 1_000_000)


def _describe(types: set[str] | frozenset[str]) -> str:
    words = []
    images = [t for t in (JPEG, PNG, WEBP) if t in types]
    if images:
        names = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP"}
        listed = [names[t] for t in images]
        words.append(
            (", ".join(listed[:-1]) + " or " + listed[-1] if len(listed) > 1 else listed[0])
            + (" images" if len(listed) > 1 else " image")
        )
    if PDF in types:
        words.append("PDF documents")
    return " and ".join(words) if words else "nothing"


def _human(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"
