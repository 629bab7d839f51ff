"""The quote as a PDF (reportlab, pure Python): letterhead with logo, recipient, lines, totals by VAT rate.

The logo is the workspace profile's `logo_url`: a `data:image/...;base64,` address is
embedded as is; an http(s) address is fetched once per rendering with a short timeout
and a size cap, and only from public addresses (never the server's own network).
A logo that cannot be read is left out rather than failing the quote.
"""

from __future__ import annotations

import base64
import io
import ipaddress
import socket
from urllib.parse import urlsplit
from urllib.request import Request, urlopen
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from kundo_sales.quotes.document import QuoteDocument

MAX_LOGO_BYTES = 2 * 1024 * 1024
INK = colors.HexColor("#1f2937")
MUTED = colors.HexColor("#6b7280")
ACCENT = colors.HexColor("#4f46e5")
RULE = colors.HexColor("#e5e7eb")


def _public_host(host: str) -> bool:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses)


def logo_bytes(url: str | None) -> bytes | None:
    if not url:
        return None
    try:
        if url.startswith("data:image/") and ";base64," in url:
            data = base64.b64decode(url.split(",", 1)[1], validate=True)
            return data if len(data) <= MAX_LOGO_BYTES else None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or not _public_host(parts.hostname):
            return None
        with urlopen(Request(url, headers={"User-Agent": "Kundo"}), timeout=3) as response:  # noqa: S310 - checked
            data = response.read(MAX_LOGO_BYTES + 1)
        return data if len(data) <= MAX_LOGO_BYTES else None
    except (OSError, ValueError):
        return None


def _para(text: str, style) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render_pdf(doc: QuoteDocument) -> bytes:
    buffer = io.BytesIO()
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["Normal"], fontName="Helvetica", fontSize=9.5, leading=13,
                          textColor=INK)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10.5, textColor=MUTED)
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    right_small = ParagraphStyle("right_small", parent=small, alignment=TA_RIGHT)
    heading = ParagraphStyle("heading", parent=body, fontName="Helvetica-Bold", fontSize=17, leading=21,
                             textColor=INK, spaceAfter=2)
    strong = ParagraphStyle("strong", parent=body, fontName="Helvetica-Bold")
    head = doc.letterhead

    story = []
    # Letterhead: logo (or the company's name) on the left, sender's address on the right.
    logo = logo_bytes(head.logo_url)
    left = _para(head.company_name, heading)
    if logo:
        try:
            reader = ImageReader(io.BytesIO(logo))
            width, height = reader.getSize()
            scale = min(45 * mm / width, 16 * mm / height)
            left = Image(io.BytesIO(logo), width=width * scale, height=height * scale, hAlign="LEFT")
        except Exception:  # noqa: BLE001 - an unreadable logo is left out, the quote still renders
            left = _para(head.company_name, heading)
    sender = "\n".join(part for part in (head.company_name, head.address) if part)
    top = Table([[left, _para(sender, right_small)]], colWidths=[95 * mm, 75 * mm])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                             ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [top, Spacer(1, 14 * mm)]

    # Recipient on the left, the quote's facts on the right.
    facts = Table([[_para(doc.labels["number"], small), _para(doc.number, right)],
                   [_para(doc.labels["date"], small), _para(doc.issued, right)],
                   [_para(doc.labels["valid_until"], small), _para(doc.valid_until, right)]],
                  colWidths=[28 * mm, 42 * mm])
    facts.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    address = Table([[_para("\n".join(doc.recipient), body), facts]], colWidths=[100 * mm, 70 * mm])
    address.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                 ("RIGHTPADDING", (0, 0), (-1, -1), 0)]))
    story += [address, Spacer(1, 10 * mm), _para(doc.heading, heading)]
    if doc.title:
        story.append(_para(doc.title, strong))
    story += [Spacer(1, 3 * mm), _para(doc.introduction, body), Spacer(1, 6 * mm)]

    # The lines.
    labels = doc.labels
    rows = [[_para(labels["position"], small), _para(labels["item"], small), _para(labels["quantity"], right_small),
             _para(labels["unit_price"], right_small), _para(labels["discount"], right_small),
             _para(labels["tax"], right_small), _para(labels["net"], right_small)]]
    for line in doc.lines:
        item = [_para(line.name, strong)]
        if line.description:
            item.append(_para(line.description, small))
        rows.append([_para(str(line.position), body), item, _para(line.quantity, right), _para(line.unit_price, right),
                     _para(line.discount, right), _para(line.tax_rate, right), _para(line.net, right)])
    table = Table(rows, colWidths=[10 * mm, 62 * mm, 18 * mm, 25 * mm, 14 * mm, 14 * mm, 27 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 4), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]))
    story += [table, Spacer(1, 4 * mm)]

    # Totals, right-aligned; the gross total stands out.
    strong_right = ParagraphStyle("strong_right", parent=strong, alignment=TA_RIGHT, textColor=ACCENT, fontSize=11)
    total_rows = [[_para(label, strong_right if emphasised else right),
                   _para(amount, strong_right if emphasised else right)]
                  for label, amount, emphasised in doc.totals]
    totals = Table(total_rows, colWidths=[70 * mm, 35 * mm], hAlign="RIGHT")
    totals.setStyle(TableStyle([
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("LINEABOVE", (0, len(total_rows) - 1), (-1, len(total_rows) - 1), 0.8, INK),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    for index, (_label, _amount, emphasised) in enumerate(doc.totals):
        if emphasised:
            totals.setStyle(TableStyle([("ALIGN", (0, index), (-1, index), "RIGHT"),
                                        ("TEXTCOLOR", (0, index), (-1, index), ACCENT)]))
    story += [totals, Spacer(1, 10 * mm), _para(doc.closing, small)]

    def footer(canvas, template):  # noqa: ARG001 - reportlab's page callback signature
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(MUTED)
        canvas.setStrokeColor(RULE)
        canvas.line(20 * mm, 16 * mm, 190 * mm, 16 * mm)
        canvas.drawString(20 * mm, 11 * mm, " · ".join(p for p in (head.company_name,
                                                                   head.address.replace("\n", ", ")) if p)[:140])
        canvas.drawRightString(190 * mm, 11 * mm, f"{doc.number} · {labels['page']} {canvas.getPageNumber()}")
        canvas.restoreState()

    template = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
                                 bottomMargin=24 * mm, title=doc.heading, author=head.company_name,
                                 subject=doc.title, creator="Kundo")
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
