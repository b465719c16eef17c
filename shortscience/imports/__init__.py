"""Bringing metadata in: parsers turn BibTeX, DBLP XML and arXiv Atom files into
`ImportRecord`s; `runner` feeds them to the papers use case `import_paper`."""
