"""Entity components that know about annotation layers (`spacy_clinicalbert.layers`)."""
