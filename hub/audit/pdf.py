"""HTML to PDF for the SAR report and the record of processing (WeasyPrint).

The console's own templates are rendered to HTML by the web layer and handed here, so the
PDF says exactly what the screen says. WeasyPrint is imported on first use: it loads
Pango and HarfBuzz, which a process that never prints should not pay for.
"""

from __future__ import annotations

from pathlib import Path


def html_to_pdf(html: str, base_url: Path | None = None) -> bytes:
    """Render one HTML document (with its print stylesheet) to PDF bytes."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=str(base_url) if base_url else None)
    return document.write_pdf()  # type: ignore[no-any-return]
