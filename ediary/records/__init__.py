"""The record the law asks for (the regulation on school documentation, §21-§22): the diary of a
class or of a school's year as XML valid against our own schema (docs/dziennik-1.xsd), and the
signed year-end archive."""
