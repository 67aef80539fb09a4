"""The files behind signed URLs: a ticket's QR code as PNG, an order's tickets as PDF.

``segno`` and ``fpdf2`` are imported only when a file is rendered; without
them rendering raises :class:`SandboxDependencyError` naming the extra to
install (``ticketpulse[sandbox]``).
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import UTC

from ._state import OrderPdfPage

__all__ = ["SandboxDependencyError", "render_order_pdf", "render_ticket_png"]

# Look-alikes for what NFKD does not decompose into Latin-1.
_TRANSLITERATE = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u20ac": "EUR",
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u0152": "OE",
    "\u0153": "oe",
}


class SandboxDependencyError(ImportError):
    """An optional dependency of the sandbox's file rendering is not installed."""


def _missing(module: str, purpose: str) -> SandboxDependencyError:
    return SandboxDependencyError(
        f"the Ticket Pulse sandbox needs {module!r} to render {purpose}; "
        "install it with: pip install 'ticketpulse[sandbox]'"
    )


def _qr_png(text: str, scale: int) -> bytes:
    try:
        import segno
    except ImportError as exc:
        raise _missing("segno", "ticket QR codes") from exc
    buffer = io.BytesIO()
    # A regular (not micro) QR code: every phone and scanner reads those.
    segno.make(text, micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def render_ticket_png(reference: str) -> bytes:
    """A PNG of a QR code that scans to the ticket reference."""
    return _qr_png(reference, scale=10)


def _latin1(text: str) -> str:
    # The PDF's built-in Helvetica covers Latin-1 only: fold the rest to look-alikes.
    out: list[str] = []
    for char in text:
        if char in _TRANSLITERATE:
            out.append(_TRANSLITERATE[char])
            continue
        if ord(char) < 256:
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(ord(c) < 256 for c in base) else "?")
    return "".join(out)


def render_order_pdf(pages: Sequence[OrderPdfPage]) -> bytes:
    """A PDF with one page per ticket: event, date, ticket type, attendee, QR code."""
    try:
        from fpdf import FPDF
    except ImportError as exc:
        raise _missing("fpdf2", "order ticket PDFs") from exc
    pdf = FPDF(format=(148, 210))  # A5, in mm
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(_latin1(f"Tickets {pages[0].order_reference}" if pages else "Tickets"))
    pdf.set_creator("Ticket Pulse sandbox")
    for page in pages:
        pdf.add_page()
        pdf.set_font("Helvetica", style="B", size=18)
        pdf.multi_cell(0, 9, _latin1(page.event_name), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        when = (
            "" if page.start is None else page.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        )
        for line in (
            when,
            f"Ticket: {page.ticket_type}",
            f"Attendee: {page.attendee}",
            page.email,
            f"Order: {page.order_reference}",
            f"Reference: {page.reference}",
        ):
            pdf.cell(0, 7, _latin1(line), new_x="LMARGIN", new_y="NEXT")
        pdf.image(io.BytesIO(_qr_png(page.reference, scale=8)), x=34, y=pdf.get_y() + 6, w=80)
    return bytes(pdf.output())
