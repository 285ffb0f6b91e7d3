"""Rule components on top of the model, wrapping medspaCy (imported only when a component is built).

Factories, all found by spaCy through entry points (no import, no --code):
- `clinical_sentences`: sentence starts for clinical text (lists, vitals, abbreviations, headers).
- `clinical_target_rules`: medspaCy TargetRules adding entities that never override the model's.
- `clinical_sectionizer`: note sections (medspaCy Sectionizer), rules saved with the pipeline.
- `clinical_context`: ConText assertions on entities, rules saved with the pipeline.
The tabular EHR view lives in `spacy_clinicalbert.rules.table`; the five ConText flag names,
which it, the evaluation and the packaging smoke test read, in
`spacy_clinicalbert.rules.assertions`.
"""
