"""The classification council's part that is not about subject grades (issue 15 item 5): the
behaviour grade (ocena zachowania) with the other teachers' opinions, and the council sheet
(zestawienie na radę klasyfikacyjną) per class and per school, as a print view and a PDF."""
