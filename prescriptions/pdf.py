"""The prescription as a PDF (reportlab): what a patient shows a pharmacy.

One A4 page (more if the remedies need it): the clinic letterhead, the
doctor's name, qualifications and registration; the patient's name, age and
sex; the date; ℞ and the remedies as a homeopathic prescription is written
(remedy and potency, form, dose, repetition, duration, quantity,
instructions, the LM plan); advice, follow-up and validity; the doctor's
signature; and on every page the verification code, its address and a QR
code of it. A draft says DRAFT across the page, a withdrawn one WITHDRAWN.

It is drawn from the same RxDocument as the printable page
(prescriptions.queries.build_document), so the two never disagree. A
placebo is printed under the name the doctor wrote and not marked as one:
the mark is for the doctor's eyes (editor and their preview) only.

Fonts: DejaVu Sans where the system has it (it has ℞, ₹ and most scripts'
letters), else Bitstream Vera, which ships inside reportlab; with Vera the
℞ is drawn as "Rx".
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

import reportlab
from django.core.files.storage import default_storage
from PIL import Image as PILImage
from reportlab.graphics.barcode import qrencoder
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    ListFlowable,
    ListItem,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from prescriptions.queries import RxDocument

TEAL = colors.HexColor("#0b6b5f")
MUTED = colors.HexColor("#4d5e5a")
RULE = colors.HexColor("#b0ddd4")
MARGIN = 16 * mm

_SYSTEM_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
)
_VERA = Path(reportlab.__file__).parent / "fonts"


@cache
def _fonts() -> tuple[str, str, bool]:
    """Register the fonts once per process: (regular, bold, has the ℞ sign)."""
    regular, bold = _SYSTEM_FONTS
    if regular.exists() and bold.exists():
        pdfmetrics.registerFont(TTFont("RxSans", str(regular)))
        pdfmetrics.registerFont(TTFont("RxSans-Bold", str(bold)))
        return "RxSans", "RxSans-Bold", True
    pdfmetrics.registerFont(TTFont("RxSans", str(_VERA / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont("RxSans-Bold", str(_VERA / "VeraBd.ttf")))
    return "RxSans", "RxSans-Bold", False


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold, _ = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=10, leading=13.5, textColor=colors.black)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=11, textColor=MUTED),
        "clinic": ParagraphStyle("clinic", parent=base, fontName=bold, fontSize=15, leading=18, textColor=TEAL),
        "doctor": ParagraphStyle("doctor", parent=base, fontName=bold, fontSize=11.5, leading=14, alignment=TA_RIGHT),
        "right": ParagraphStyle("right", parent=base, fontSize=9, leading=12, alignment=TA_RIGHT, textColor=MUTED),
        "label": ParagraphStyle("label", parent=base, fontName=bold, fontSize=8, leading=10, textColor=MUTED),
        "heading": ParagraphStyle("heading", parent=base, fontName=bold, fontSize=10.5, leading=14, spaceBefore=6),
        "remedy": ParagraphStyle("remedy", parent=base, fontName=bold, fontSize=11.5, leading=15),
        "rx": ParagraphStyle("rx", parent=base, fontName=bold, fontSize=22, leading=26, textColor=TEAL),
        "banner": ParagraphStyle(
            "banner", parent=base, fontName=bold, fontSize=10, textColor=colors.HexColor("#912018")
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _date(value) -> str:
    return value.strftime("%d %b %Y").lstrip("0") if value else ""


class _Rule(Flowable):
    def __init__(self, width: float, color=RULE, thickness: float = 1.2) -> None:
        super().__init__()
        self.width, self.color, self.thickness = width, color, thickness
        self.height = thickness + 4

    def draw(self) -> None:
        self.canv.setStrokeColor(self.color)
        self.canv.setLineWidth(self.thickness)
        self.canv.line(0, 2, self.width, 2)


def _signature(doc: RxDocument) -> Image | None:
    profile = getattr(doc.prescription.doctor, "doctor_profile", None)
    if not doc.has_signature or profile is None:
        return None
    try:
        with default_storage.open(profile.signature.name, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError):
        return None
    reader = ImageReader(io.BytesIO(data))
    width, height = reader.getSize()
    box_w, box_h = 50 * mm, 18 * mm
    scale = min(box_w / width, box_h / height)
    return Image(io.BytesIO(data), width=width * scale, height=height * scale, hAlign="RIGHT")


def _qr_image(text: str) -> ImageReader:
    """The QR code of `text` (error correction M, the usual 4-module quiet zone) as a
    black-and-white bitmap, 8 pixels a module so no viewer blurs it."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    count, border, scale = code.getModuleCount(), 4, 8
    side = count + 2 * border
    image = PILImage.new("1", (side, side), 1)
    pixels = image.load()
    for r, row in enumerate(code.modules):
        for c, dark in enumerate(row):
            if dark:
                pixels[c + border, r + border] = 0
    return ImageReader(image.resize((side * scale, side * scale), PILImage.Resampling.NEAREST))


def render_pdf(doc: RxDocument, *, verify_url: str) -> bytes:
    """The prescription as PDF bytes. `verify_url` is the absolute address of its verification page."""
    styles = _styles()
    _, bold, has_rx_sign = _fonts()
    rx = doc.prescription
    head = doc.letterhead
    buffer = io.BytesIO()
    width = A4[0] - 2 * MARGIN
    title = f"Prescription for {doc.patient_name}, {head.doctor_name}"
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 20 * mm,
        title=title,
        author=head.doctor_name,
        subject="Homeopathic prescription",
        creator="Dhanwantari",
    )
    story: list[Flowable] = []

    # Letterhead: the clinic on the left, the doctor on the right.
    left = [_p(head.clinic_name or head.doctor_name, styles["clinic"])]
    if head.clinic_address:
        left.append(_p(head.clinic_address, styles["small"]))
    right = [_p(head.doctor_name, styles["doctor"])]
    if head.qualifications:
        right.append(_p(head.qualifications, styles["right"]))
    if head.registration:
        right.append(_p(head.registration, styles["right"]))
    letterhead = Table([[left, right]], colWidths=[width * 0.55, width * 0.45])
    letterhead.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story += [letterhead, Spacer(1, 2 * mm), _Rule(width, TEAL, 1.6), Spacer(1, 3 * mm)]

    if doc.is_draft:
        story.append(_p("DRAFT: not issued, not valid for dispensing.", styles["banner"]))
    elif doc.is_cancelled:
        note = f"WITHDRAWN on {_date(doc.cancelled_on)}: {rx.cancellation_reason}"
        if doc.replaced_by_version:
            note += f" Replaced by version {doc.replaced_by_version}."
        story.append(_p(note, styles["banner"]))

    # Patient and date.
    when = _date(doc.date) if doc.date else f"{_date(doc.written_on)} (draft)"
    facts = [
        [_p("PATIENT", styles["label"]), _p("AGE / SEX", styles["label"]), _p("DATE", styles["label"])],
        [
            _p(doc.patient_name, styles["base"]),
            _p(
                " / ".join(
                    part
                    for part in (f"{doc.patient_age} y" if doc.patient_age is not None else "", doc.patient_sex)
                    if part
                )
                or "—",
                styles["base"],
            ),
            _p(when, styles["base"]),
        ],
    ]
    table = Table(facts, colWidths=[width * 0.5, width * 0.22, width * 0.28])
    table.setStyle(
        TableStyle(
            [
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, 0), 0),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 2 * mm)]
    kind = rx.get_prescription_type_display()
    line = f"{kind} prescription"
    if rx.version > 1:
        earlier = rx.supersedes.issued_at if rx.supersedes is not None else None
        line += f" · version {rx.version}"
        if earlier is not None:
            line += f", correcting the one of {_date(earlier.astimezone(doc.zone).date())}"
    story.append(_p(line, styles["small"]))
    if rx.diagnosis:
        story += [Spacer(1, 2 * mm), _p("Diagnosis", styles["label"]), _p(rx.diagnosis, styles["base"])]
    story += [Spacer(1, 3 * mm), _Rule(width), Spacer(1, 1 * mm)]

    # ℞ and the remedies.
    story.append(_p("℞" if has_rx_sign else "Rx", styles["rx"]))
    entries = []
    for item in doc.items:
        parts = [_p(f"{item.remedy_name} {item.potency}".strip(), styles["remedy"])]
        how = [item.form_text]
        if item.dose:
            how.append(item.dose)
        if item.repetition_text:
            how.append(item.repetition_text)
        if item.duration:
            how.append(f"for {item.duration}")
        parts.append(_p(" · ".join(how), styles["base"]))
        if item.quantity:
            parts.append(_p(f"Quantity: {item.quantity}", styles["small"]))
        for text in item.lm_plan_lines:
            parts.append(_p(f"LM plan: {text}" if text == item.lm_plan_lines[0] else text, styles["small"]))
        for text in item.instruction_lines:
            parts.append(_p(f"• {text}", styles["small"]))
        parts.append(Spacer(1, 2.5 * mm))
        entries.append(ListItem(KeepTogether(parts), leftIndent=14, value=len(entries) + 1))
    if entries:
        story.append(
            ListFlowable(entries, bulletType="1", bulletFontName=bold, bulletFontSize=11, leftIndent=14, spaceBefore=2)
        )
    story.append(Spacer(1, 4 * mm))

    if rx.general_advice:
        story += [_p("Advice", styles["label"]), _p(rx.general_advice, styles["base"]), Spacer(1, 3 * mm)]
    closing = []
    if rx.follow_up_date:
        closing.append(f"Follow-up: {_date(rx.follow_up_date)}")
    closing.append(f"Valid until: {_date(rx.valid_until)}" if rx.valid_until else "Valid until: no end date given")
    story.append(_p(" · ".join(closing), styles["base"]))

    # Signature block, kept together at the right.
    signature = _signature(doc)
    block: list[Flowable] = [Spacer(1, 8 * mm)]
    if signature is not None:
        block.append(signature)
    else:
        block.append(Spacer(1, 14 * mm))
    block += [_p(head.doctor_name, styles["doctor"])]
    if head.registration:
        block.append(_p(head.registration, styles["right"]))
    story.append(KeepTogether(block))

    code = rx.verification_code
    size = 18 * mm
    # Encoded once per document, as a tiny bitmap: a vector QR code is some
    # 7,000 shapes per page and was most of the PDF's time.
    qr = _qr_image(verify_url)

    def footer(canvas, _doc) -> None:
        canvas.saveState()
        if doc.is_draft or doc.is_cancelled:
            canvas.setFont(bold, 64)
            canvas.setFillColor(colors.Color(0.7, 0.1, 0.1, alpha=0.12))
            canvas.translate(A4[0] / 2, A4[1] / 2)
            canvas.rotate(35)
            canvas.drawCentredString(0, 0, "DRAFT" if doc.is_draft else "WITHDRAWN")
            canvas.restoreState()
            canvas.saveState()
        canvas.drawImage(qr, MARGIN, MARGIN - 2 * mm, width=size, height=size)
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, MARGIN + size + 1 * mm, A4[0] - MARGIN, MARGIN + size + 1 * mm)
        canvas.setFillColor(MUTED)
        canvas.setFont(styles["base"].fontName, 8.5)
        text_x = MARGIN + size + 4 * mm
        canvas.drawString(text_x, MARGIN + 11 * mm, f"Verification code: {code}")
        canvas.drawString(text_x, MARGIN + 6.5 * mm, f"Check that this prescription is genuine: {verify_url}")
        canvas.drawString(text_x, MARGIN + 2 * mm, "The page shows the doctor, the date and whether it is still valid.")
        canvas.drawRightString(A4[0] - MARGIN, MARGIN - 2 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    pdf.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
