"""Spark and databases: notes read over JDBC, rows written over JDBC exactly once.

Spark's JDBC writer commits each partition on its own, so a run killed half-way would
leave some partitions' rows and not others. Here Spark writes a run's tables into
staging tables (`<table>_spark_stage`, replaced by each run), and the driver then moves
them into the real tables, done-records included, in one database transaction that also
drops the staging tables. A run killed before that transaction leaves only staging
tables, which the next run replaces; one killed after it has finished.

The database is named by the same SQLAlchemy URL the local engine takes
(`postgresql+psycopg://user@host/db`), or for input also by a `jdbc:` URL; PostgreSQL is
the database supported (and tested). Spark needs the JDBC driver jar on its classpath:
`--jars`, or Debian's `libpostgresql-jdbc-java` at /usr/share/java/postgresql.jar, which
is used when present and no jar is given.
"""

from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from .annotate.schema import DONE_TABLE, TableSchema
from .annotate.sinks import DatabaseSink, SinkError
from .annotate.sources import is_database_url
from .annotate.summary import Summary

DEBIAN_POSTGRES_JAR = Path("/usr/share/java/postgresql.jar")
STAGE_SUFFIX = "_spark_stage"


def is_database(spec: str) -> bool:
    return spec.startswith("jdbc:") or is_database_url(spec)


def jdbc_of(spec: str) -> Tuple[str, Dict[str, str]]:
    """(JDBC URL, connection properties) of a SQLAlchemy URL or a `jdbc:` URL."""
    if spec.startswith("jdbc:"):
        return spec, {}
    import sqlalchemy as sa

    url = sa.engine.make_url(spec)
    if url.get_backend_name() != "postgresql":
        raise SinkError(
            f"the Spark engine reaches databases over JDBC and supports PostgreSQL; "
            f"'{url.get_backend_name()}' is not supported (use the local engine, or write "
            "Parquet and load it)."
        )
    jdbc = f"jdbc:postgresql://{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"
    props = {"driver": "org.postgresql.Driver"}
    props.update({k: str(v) for k, v in url.query.items()})  # sslmode=..., as JDBC options
    if url.username:
        props["user"] = url.username
    if url.password is not None:
        props["password"] = str(url.password)
    return jdbc, props


def default_jars(specs: Iterable[Optional[str]], jars: Sequence[str] = ()) -> List[str]:
    """The given jars; else Debian's PostgreSQL driver when a spec is a database and it exists."""
    if jars:
        return list(jars)
    if any(s and is_database(s) for s in specs) and DEBIAN_POSTGRES_JAR.exists():
        return [str(DEBIAN_POSTGRES_JAR)]
    return []


def read_jdbc(spark, spec: str, query: Optional[str]):
    if not query:
        raise ValueError("a database input needs --query (the SQL that gives the notes)")
    jdbc, props = jdbc_of(spec)
    reader = spark.read.format("jdbc").option("url", jdbc).option("query", query)
    for key, value in props.items():
        reader = reader.option(key, value)
    try:
        return reader.load()
    except Exception as err:  # noqa: BLE001 - py4j errors: say which input and why
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{jdbc}: cannot read the notes over JDBC: {first[:500]}") from err


def stage_name(sink: DatabaseSink, table: str) -> str:
    return f"{sink.prefix}{table}{STAGE_SUFFIX}"


def commit_to_database(
    sink: DatabaseSink, frames: Dict[str, Any], tables: Sequence[TableSchema], summary: Summary
) -> None:
    """Stage every table over JDBC, then move all of them in one transaction."""
    import sqlalchemy as sa

    jdbc, props = jdbc_of(sink.url)
    for name, frame in frames.items():
        frame.write.jdbc(jdbc, stage_name(sink, name), mode="overwrite", properties=props)
    with sink.engine.begin() as conn:
        metadata = sa.MetaData()
        staged = {
            t.name: sa.Table(stage_name(sink, t.name), metadata, autoload_with=conn) for t in tables
        }
        _count(conn, staged, summary)
        for table in tables:
            final, stage = sink.tables[table.name], staged[table.name]
            names = list(table.names)
            select = sa.select(*[sa.cast(stage.c[n], final.c[n].type) for n in names])
            conn.execute(final.insert().from_select(names, select))
        for stage in staged.values():
            stage.drop(conn)
    summary.batches = 1


def _count(conn, staged: Dict[str, Any], summary: Summary) -> None:
    import sqlalchemy as sa

    done = staged[DONE_TABLE]
    for status, n, words in conn.execute(
        sa.select(done.c.status, sa.func.count(), sa.func.sum(done.c.words)).group_by(done.c.status)
    ):
        if status == "annotated":
            summary.annotated, summary.words = int(n), int(words or 0)
        else:  # failed, duplicate
            summary.failed += int(n)
    errors = staged["note_nlp_error"]
    for reason, n in conn.execute(
        sa.select(errors.c.reason, sa.func.count()).group_by(errors.c.reason)
    ):
        summary.reasons[reason] += int(n)
    for name, stage in staged.items():
        summary.rows[name] = int(
            conn.execute(sa.select(sa.func.count()).select_from(stage)).scalar()
        )
