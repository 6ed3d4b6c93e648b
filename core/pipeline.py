"""Fewer round trips to PostgreSQL without leaving the ORM: deferred writes, sent with the COMMIT.

A unit of work on the call path reads what it must (locked), decides in Python, and then writes. The
writes' results are never read (the decisions are made), so waiting for each one is waste: `DeferredWrites`
collects them as SQL compiled by Django's own compilers and `flush()` sends them in one psycopg pipeline,
followed by the COMMIT when the unit owns the transaction. Writes and commit: one round trip.

PostgreSQL stays the single source of truth: a deferred write that fails (a unique index, a check) fails
the flush, the COMMIT is never applied, and the whole transaction rolls back as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import psycopg
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, models
from django.db.models.sql import InsertQuery, UpdateQuery
from psycopg import pq

M = TypeVar("M", bound=models.Model)

# The SQL text of a plain write depends only on the model, the columns and (for an insert) the number of
# rows; compiling it through Django's query and compiler classes cost about a quarter of an engine event's
# CPU in the web process (cProfile under bench-webhook's call mix). It is built once per shape and kept here;
# the values still go through each field's own `get_db_prep_save`, as the compiler does. Anything that is
# not a plain value (an expression, a model instance, a field with its own placeholder) takes the ORM's path.
_UPDATES: dict[tuple[str, type[models.Model], tuple[str, ...]], tuple[str, tuple[models.Field, ...]]] = {}
_INSERTS: dict[tuple[str, type[models.Model], int, bool], tuple[str, tuple[models.Field, ...]]] = {}


def _plain(value: Any) -> bool:
    return not (hasattr(value, "resolve_expression") or hasattr(value, "prepare_database_save"))


def _update_shape(using: str, model: type[models.Model], names: tuple[str, ...]) -> tuple[str, tuple] | None:
    """`UPDATE … SET` the named columns `WHERE pk = %s`; None when a name is not a plain column."""
    key = (using, model, names)
    shape = _UPDATES.get(key)
    if shape is None:
        fields = []
        for name in names:
            try:
                field = model._meta.get_field(name)
            except FieldDoesNotExist:  # the ORM's path says what is wrong with the name
                return None
            if not getattr(field, "concrete", False) or field.many_to_many or field.primary_key \
                    or hasattr(field, "get_placeholder") or field.model._meta.db_table != model._meta.db_table:
                return None
            fields.append(field)
        quote = connections[using].ops.quote_name
        table = quote(model._meta.db_table)
        sql = (f"UPDATE {table} SET {', '.join(f'{quote(f.column)} = %s' for f in fields)} "
               f"WHERE {table}.{quote(model._meta.pk.column)} = %s")
        shape = _UPDATES[key] = (sql, tuple(fields))
    return shape


def _insert_shape(using: str, model: type[models.Model], rows: int, keyed: bool) -> tuple[str, tuple] | None:
    """`INSERT … VALUES` of `rows` rows, every concrete column; the key too when the rows carry it (`keyed`:
    taken from the sequence by an earlier read), else the database gives it."""
    key = (using, model, rows, keyed)
    shape = _INSERTS.get(key)
    if shape is None:
        fields = tuple(f for f in model._meta.concrete_fields if keyed or not f.primary_key)
        if any(hasattr(f, "get_placeholder") for f in fields):
            return None
        quote = connections[using].ops.quote_name
        row = f"({', '.join(['%s'] * len(fields))})"
        sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
               f"VALUES {', '.join([row] * rows)}")
        shape = _INSERTS[key] = (sql, fields)
    return shape


class DeferredWrites:
    """INSERTs and UPDATEs whose results nobody reads, kept in order until `flush()`."""

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self.statements: list[tuple[str, tuple[Any, ...] | dict[str, Any]]] = []

    def __len__(self) -> int:
        return len(self.statements)

    def update(self, model: type[models.Model], pk: int, **values: Any) -> None:
        """`UPDATE … SET values WHERE pk = pk`, as `Model.objects.filter(pk=pk).update(**values)` would send."""
        shape = _update_shape(self.using, model, tuple(values)) if isinstance(pk, int) and values \
            and all(_plain(v) for v in values.values()) else None
        if shape is not None:
            sql, fields = shape
            connection = connections[self.using]
            params = [f.get_db_prep_save(v, connection=connection)
                      for f, v in zip(fields, values.values(), strict=True)]
            params.append(model._meta.pk.get_db_prep_value(pk, connection))
            self.statements.append((sql, tuple(params)))
            return
        query = UpdateQuery(model)
        query.add_q(models.Q(pk=pk))
        query.add_update_values(values)
        sql, params = query.get_compiler(self.using).as_sql()
        self.statements.append((sql, tuple(params)))

    def save(self, obj: models.Model, fields: Iterable[str] | None = None) -> None:
        """Write back an existing row: the named fields, or every concrete field but the key."""
        names = list(fields) if fields is not None else [
            f.attname for f in obj._meta.concrete_fields if not f.primary_key]
        self.update(type(obj), obj.pk, **{name: getattr(obj, name) for name in names})

    def insert(self, objs: list[models.Model]) -> None:
        """`INSERT` rows (without RETURNING: give them their key first when a later write refers to them)."""
        if not objs:
            return
        model = type(objs[0])
        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and objs[0].pk is None)]
        keyed = objs[0].pk is not None
        shape = _insert_shape(self.using, model, len(objs), keyed) \
            if all((o.pk is not None) == keyed for o in objs) else None
        if shape is not None:
            # what the compiler does for each row: the field's pre_save (auto_now values), then its db value
            sql, fields_with_key = shape
            connection = connections[self.using]
            values = [f.pre_save(obj, add=True) for obj in objs for f in fields_with_key]
            if all(_plain(v) for v in values):
                flat = fields_with_key * len(objs)
                self.statements.append((sql, tuple(f.get_db_prep_save(v, connection=connection)
                                                   for f, v in zip(flat, values, strict=True))))
                return
        for obj in objs:  # what the ORM does before an insert: defaults and auto_now values
            for field in fields:
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    field.pre_save(obj, add=True)
        query = InsertQuery(model)
        query.insert_values(fields, objs)
        compiler = query.get_compiler(self.using)
        compiler.returning_fields = None
        for sql, params in compiler.as_sql():
            self.statements.append((sql, tuple(params)))

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> None:
        self.statements.append((sql, params))

    def flush(self, *, commit: bool) -> None:
        """Send every write (and COMMIT when `commit`) in one round trip.

        `commit` is for the unit that owns the transaction, at its very end: Django's own commit on leaving
        the atomic block then finds nothing to commit and only runs the on-commit hooks. A failing write
        raises here, the COMMIT is skipped by the server, and the atomic block rolls everything back.
        """
        if not self.statements and not commit:
            return
        connection = connections[self.using]
        raw = connection.connection
        with connection.wrap_database_errors, raw.pipeline(), psycopg.ClientCursor(raw) as cur:
            for sql, params in self.statements:
                cur.execute(sql, params or None)
            if commit:
                cur.execute("COMMIT")
        self.statements = []


def owns_transaction(using: str = "default") -> bool:
    """True inside an outermost `atomic` block (not nested in a caller's transaction or a test's): the unit
    may then send the COMMIT itself."""
    connection = connections[using]
    return connection.in_atomic_block and len(connection.atomic_blocks) == 1 and not connection.needs_rollback


def begin_with(statements: list[tuple[str, dict[str, Any]]], using: str = "default") -> list[list[tuple[Any, ...]]]:
    """Open the transaction and run `statements`, in order, in one round trip; return each one's rows.

    psycopg starts a transaction by sending `BEGIN` before its first statement and waiting for the answer:
    a round trip of its own on every engine event. In pipeline mode the `BEGIN` is queued with the
    statements instead, and the server runs them one after another in the order sent: a later statement
    sees the row locks and the sequence values (`currval`) an earlier one took. Each statement is prepared
    on the server (planned once per connection). Must run inside `atomic`, before any other statement of
    the transaction.
    """
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    # psycopg would send its own BEGIN and wait for it (it syncs a pipeline after BEGIN): send ours in the
    # pipeline instead. psycopg then runs the rest of the transaction without a BEGIN of its own (the
    # server is in the transaction block) and commits or rolls back by the server's transaction status,
    # as Django asks; Django restores autocommit when its atomic block ends.
    starts = raw.pgconn.transaction_status == pq.TransactionStatus.IDLE
    with connection.wrap_database_errors:
        if starts:
            raw.autocommit = True
        cursors = [psycopg.Cursor(raw) for _ in statements]
        with raw.pipeline():
            if starts:
                raw.execute(_begin_statement(raw))
            for cur, (sql, params) in zip(cursors, statements, strict=True):
                cur.execute(sql, params, prepare=True)
        try:
            # `pgresult.status`, not `description`: the latter builds a Column object per column (7 % of an event)
            return [cur.fetchall() if cur.pgresult is not None and cur.pgresult.status == pq.ExecStatus.TUPLES_OK
                    else [] for cur in cursors]
        finally:
            for cur in cursors:
                cur.close()


def _begin_statement(raw: psycopg.Connection) -> str:
    level = raw.isolation_level
    return "BEGIN" if level is None else f"BEGIN ISOLATION LEVEL {level.name.replace('_', ' ')}"


# --- Rows of the statements above as model objects (the SQL names every column: `columns`) ----------------

def columns(model: type[models.Model], alias: str) -> str:
    """The model's concrete columns under `alias`, in field order (what `instance` reads back)."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any]) -> M | None:
    """A model object from a row of `columns(model)`, converted as the ORM converts (JSON fields); None
    for the NULLs of an outer join."""
    if values[0] is None:
        return None
    fields = model._meta.concrete_fields
    converted = [f.from_db_value(v, None, connection) if v is not None and hasattr(f, "from_db_value") else v
                 for f, v in zip(fields, values, strict=True)]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)
