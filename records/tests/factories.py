from __future__ import annotations

import hashlib
import io
import zlib

import factory
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw, ImageFont

from accounts.tests.factories import PatientUserFactory
from records.models import FileUpload

# The smallest valid PDF a reader accepts; enough for storage tests.
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


class FileUploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FileUpload

    patient = factory.SubFactory(PatientUserFactory)
    uploaded_by = factory.LazyAttribute(lambda o: o.patient)
    category = "lab_report"
    file = factory.LazyFunction(lambda: ContentFile(MINIMAL_PDF, name="report.pdf"))
    original_filename = "cbc-report.pdf"
    content_type = "application/pdf"
    size_bytes = len(MINIMAL_PDF)
    sha256 = hashlib.sha256(MINIMAL_PDF).hexdigest()
    ocr_status = "pending"


# --- files a test makes ---------------------------------------------------------------

GPS_IFD = 0x8825


def image_bytes(fmt: str = "PNG", *, size=(640, 480), mode="RGB", colour=(200, 220, 210), **save) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (18.0, 31.0, 13.5), 3: "E", 4: (73.0, 51.0, 24.2)}
    return image_bytes("JPEG", exif=exif.tobytes())


def text_image(lines: list[str], *, fmt: str = "PNG", size=(1400, 700)) -> bytes:
    """A white page with black words on it, large and clear enough for Tesseract."""
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=56)
    for row, line in enumerate(lines):
        draw.text((60, 60 + row * 110), line, fill=(0, 0, 0), font=font)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def scanned_pdf(lines: list[str]) -> bytes:
    """A PDF whose only page is a picture of the words: no text layer, as a scanner makes."""
    buffer = io.BytesIO()
    Image.open(io.BytesIO(text_image(lines))).save(buffer, format="PDF", resolution=150)
    return buffer.getvalue()


def text_pdf(lines: list[str]) -> bytes:
    """A digital PDF with a real text layer (Helvetica), written by hand with a correct xref."""
    text = " ".join(f"({line}) Tj 0 -28 Td" for line in lines)
    stream = f"BT /F1 20 Tf 72 720 Td {text} ET".encode()
    objects = [
        b"<</Type/Catalog/Pages 2 0 R>>",
        b"<</Type/Pages/Kids[3 0 R]/Count 1>>",
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 4 0 R>>>>/Contents 5 0 R>>",
        b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>",
        b"<</Length %d>>stream\n" % len(stream) + stream + b"\nendstream",
    ]
    return _pdf(objects)


def pdf_with_hidden_script() -> bytes:
    """A PDF whose catalogue runs JavaScript on opening, compressed inside an object
    stream: the raw bytes never say /JavaScript, so only parsing the PDF finds it."""
    catalog = b"<</Type/Catalog/Pages 2 0 R/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>"
    objs = [catalog, b"<</Type/Pages/Kids[3 0 R]/Count 1>>", b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>"]
    header = body = b""
    for number, obj in enumerate(objs, start=1):
        header += b"%d %d " % (number, len(body))
        body += obj + b"\n"
    packed = zlib.compress(header + body)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    stream_at = len(out)
    out += b"4 0 obj\n<</Type/ObjStm/N 3/First %d/Filter/FlateDecode/Length %d>>stream\n" % (len(header), len(packed))
    out += packed + b"\nendstream\nendobj\n"
    xref_at = len(out)
    rows = [(0, 0, 65535), (2, 4, 0), (2, 4, 1), (2, 4, 2), (1, stream_at, 0), (1, xref_at, 0)]
    table = zlib.compress(b"".join(bytes([t]) + f.to_bytes(4, "big") + g.to_bytes(2, "big") for t, f, g in rows))
    out += b"5 0 obj\n<</Type/XRef/Size 6/W[1 4 2]/Root 1 0 R/Filter/FlateDecode/Length %d>>stream\n" % len(table)
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


def _pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def decompression_bomb() -> bytes:
    # 64 million blank pixels: a few kilobytes on disk, 64 MB or more once decoded.
    return image_bytes("PNG", size=(8000, 8000), mode="1", colour=0)


def named(data: bytes, name: str) -> ContentFile:
    """A file object that keeps its name exactly (Django's upload handlers would cut a path down)."""
    return ContentFile(data, name=name)
