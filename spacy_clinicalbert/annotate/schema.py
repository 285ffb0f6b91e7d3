"""The output tables, described once: OMOP CDM v5.4 `NOTE_NLP` and our own tables.

Every sink (Parquet, CSV, JSONL, a database through SQLAlchemy) and the Spark engine
derive their column types from these descriptions, so every engine writes the same
columns with the same types. Logical types: int64, int32, float64, bool, date,
datetime, string (with a maximum length where OMOP gives one) and json (a list or
dict: native in JSONL, JSON text elsewhere).
"""

from dataclasses import dataclass
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    length: Optional[int] = None
    nullable: bool = True
    primary_key: bool = False


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: Tuple[Column, ...]
    doc: str = ""

    @property
    def names(self) -> Tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def _c(name: str, type_: str, length: Optional[int] = None, **kw) -> Column:
    return Column(name, type_, length, **kw)


# OMOP CDM v5.4 NOTE_NLP, in the CDM's column order and with its lengths.
NOTE_NLP = TableSchema(
    "note_nlp",
    (
        _c("note_nlp_id", "int64", nullable=False, primary_key=True),
        _c("note_id", "int64", nullable=False),
        _c("section_concept_id", "int32"),
        _c("snippet", "string", 250),
        _c("offset", "string", 50),
        _c("lexical_variant", "string", 250, nullable=False),
        _c("note_nlp_concept_id", "int32"),
        _c("note_nlp_source_concept_id", "int32"),
        _c("nlp_system", "string", 250),
        _c("nlp_date", "date", nullable=False),
        _c("nlp_datetime", "datetime"),
        _c("term_exists", "string", 1),
        _c("term_temporal", "string", 50),
        _c("term_modifiers", "string", 2000),
    ),
    "OMOP CDM v5.4 NOTE_NLP: one row per entity.",
)

# Ours: relations between two NOTE_NLP rows of one note.
NOTE_NLP_RELATION = TableSchema(
    "note_nlp_relation",
    (
        _c("note_nlp_relation_id", "int64", nullable=False, primary_key=True),
        _c("note_id", "int64", nullable=False),
        _c("head_note_nlp_id", "int64", nullable=False),
        _c("tail_note_nlp_id", "int64", nullable=False),
        _c("relation", "string", 50, nullable=False),
        _c("score", "float64"),
        _c("nlp_system", "string", 250),
        _c("nlp_date", "date", nullable=False),
    ),
    "Relations between entities: both ends are note_nlp rows of the same note.",
)

# Ours: document categories (doc.cats), one row per label and note.
NOTE_NLP_CATEGORY = TableSchema(
    "note_nlp_category",
    (
        _c("note_id", "int64", nullable=False, primary_key=True),
        _c("category", "string", 250, nullable=False, primary_key=True),
        _c("score", "float64"),
        _c("nlp_system", "string", 250),
        _c("nlp_date", "date", nullable=False),
    ),
    "Document categories (textcat scores), one row per label and note.",
)

# Ours: one row per note the run finished (annotated or failed). It is the done-record:
# a restarted run skips the (note_source_id, occurrence) pairs listed here.
NOTE_NLP_NOTE = TableSchema(
    "note_nlp_note",
    (
        _c("note_source_id", "string", 250, nullable=False, primary_key=True),
        _c("occurrence", "int32", nullable=False, primary_key=True),
        _c("note_id", "int64"),
        _c("person_id", "int64"),
        _c("note_date", "date"),
        _c("status", "string", 20, nullable=False),
        _c("entities", "int32"),
        _c("words", "int32"),
        _c("nlp_system", "string", 250),
        _c("nlp_datetime", "datetime"),
    ),
    "Every note the run finished (status annotated, failed or duplicate): the done-record.",
)

# Ours: why a note was not annotated.
NOTE_NLP_ERROR = TableSchema(
    "note_nlp_error",
    (
        _c("note_source_id", "string", 250, nullable=False, primary_key=True),
        _c("occurrence", "int32", nullable=False, primary_key=True),
        _c("note_id", "int64"),
        _c("location", "string", 500),
        _c("reason", "string", 50, nullable=False),
        _c("detail", "string", 2000),
        _c("nlp_datetime", "datetime"),
    ),
    "Notes that were not annotated, with where they came from and why.",
)

OMOP_TABLES: Tuple[TableSchema, ...] = (
    NOTE_NLP,
    NOTE_NLP_RELATION,
    NOTE_NLP_CATEGORY,
    NOTE_NLP_ERROR,
    NOTE_NLP_NOTE,
)
SCHEMAS: Dict[str, TableSchema] = {t.name: t for t in OMOP_TABLES}
DONE_TABLE = NOTE_NLP_NOTE.name
ERROR_TABLE = NOTE_NLP_ERROR.name


def arrow_schema(table: TableSchema):
    """The pyarrow schema of `table` (json columns are JSON text)."""
    import pyarrow as pa  # type: ignore[import-untyped]

    types = {
        "int64": pa.int64(),
        "int32": pa.int32(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "datetime": pa.timestamp("us"),
        "string": pa.string(),
        "json": pa.string(),
    }
    return pa.schema([pa.field(c.name, types[c.type], nullable=c.nullable) for c in table.columns])


def spark_schema(table: TableSchema, extra: Tuple[Column, ...] = ()):
    """The Spark StructType of `table` (plus `extra` columns)."""
    from pyspark.sql import types as T

    types = {
        "int64": T.LongType(),
        "int32": T.IntegerType(),
        "float64": T.DoubleType(),
        "bool": T.BooleanType(),
        "date": T.DateType(),
        "datetime": T.TimestampNTZType(),
        "string": T.StringType(),
        "json": T.StringType(),
    }
    return T.StructType(
        [T.StructField(c.name, types[c.type], True) for c in (*table.columns, *extra)]
    )


def sqlalchemy_table(table: TableSchema, metadata, prefix: str = ""):
    """A SQLAlchemy Core `Table` with proper types (VARCHAR(n), BIGINT, DATE, ...)."""
    import sqlalchemy as sa

    def sql_type(col: Column):
        if col.type == "string":
            return sa.String(col.length) if col.length else sa.Text()
        return {
            "int64": sa.BigInteger(),
            "int32": sa.Integer(),
            "float64": sa.Float(53),
            "bool": sa.Boolean(),
            "date": sa.Date(),
            "datetime": sa.DateTime(),
            "json": sa.Text(),
        }[col.type]

    return sa.Table(
        prefix + table.name,
        metadata,
        *(
            sa.Column(
                c.name,
                sql_type(c),
                nullable=c.nullable and not c.primary_key,
                primary_key=c.primary_key,
                autoincrement=False,
            )
            for c in table.columns
        ),
    )


def entity_table() -> TableSchema:
    """The `table` command's rows (`rules/table.py` COLUMNS): one per entity, relations nested."""
    from ..rules.assertions import ASSERTION_FLAGS

    return TableSchema(
        "entities",
        (
            _c("doc_id", "string"),
            _c("ent_id", "int32"),
            _c("label", "string"),
            _c("text", "string"),
            _c("start_char", "int32"),
            _c("end_char", "int32"),
            _c("source", "string"),
            _c("rule", "string"),
            _c("section", "string"),
            *(_c(flag, "bool") for flag in ASSERTION_FLAGS),
            _c("assertion_cues", "json"),
            _c("relations", "json"),
        ),
        "One row per entity with nested relations (the `table` command's rows).",
    )


def tables_for(schema: str) -> Tuple[TableSchema, ...]:
    """The tables a run writes: `omop` (NOTE_NLP and ours) or `entities` (the `table` rows)."""
    if schema == "omop":
        return OMOP_TABLES
    if schema == "entities":
        return (entity_table(), NOTE_NLP_ERROR, NOTE_NLP_NOTE)
    raise ValueError(f"Unknown schema '{schema}': use 'omop' or 'entities'.")
