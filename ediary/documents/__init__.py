"""Documents the school prints or downloads: PDFs rendered from the page templates, tables as
CSV and XLSX, QR codes. Shared by every console (house rule 1: one package, its own files)."""
