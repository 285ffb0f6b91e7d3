"""Document categories: what the package adds around spaCy's textcat components."""
