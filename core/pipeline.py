"""Fewer round trips to PostgreSQL without leaving the ORM: deferred writes, sent with the COMMIT.

A unit of work on the call path reads what it must (locked), decides in Python, and then writes. The
writes' results are never read (the decisions are made), so waiting for each one is waste: `DeferredWrites`
collects them and `flush()` sends them in one psycopg pipeline, followed by the COMMIT when the unit owns
the transaction. Writes and commit: one round trip.

The call path writes the same few shapes over and over (the call, its log rows, the offer, the operator), so
their SQL text is built once per shape from the models' metadata and cached; each value still goes through
its field's `get_db_prep_save`, as the ORM's compilers do. The statements are bound on the server (no
quoting of every value into the text on the client) and prepared by psycopg once a shape has run a few
times (`prepare_threshold`). A write the plain shape cannot express (an expression as a value, a field with
its own placeholder) is compiled by Django's own compilers instead.

PostgreSQL stays the single source of truth: a deferred write that fails (a unique index, a check) fails
the flush, the COMMIT is never applied, and the whole transaction rolls back as before.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import psycopg
from django.db import connection, connections, models
from django.db.models.sql import InsertQuery, UpdateQuery
from psycopg import pq

M = TypeVar("M", bound=models.Model)


def _plain(field: models.Field) -> bool:
    """A column whose value is one `%s` of its `get_db_prep_save` (what the fast shapes assume)."""
    return (field.concrete and not field.many_to_many and not hasattr(field, "get_placeholder")
            and field.db_default is models.NOT_PROVIDED)


@functools.cache
def _update_shape(model: type[models.Model], names: tuple[str, ...]) -> tuple[str, list[models.Field]] | None:
    """`UPDATE table SET col = %s, … WHERE pk = %s` for these fields (names or attnames), or None."""
    fields = [model._meta.get_field(name) for name in names]
    if not all(_plain(f) and not f.primary_key for f in fields):
        return None
    qn = connections["default"].ops.quote_name
    sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
    return f"UPDATE {qn(model._meta.db_table)} SET {sets} WHERE {qn(model._meta.pk.column)} = %s", fields


@functools.cache
def _insert_shape(model: type[models.Model], with_pk: bool, rows: int) -> tuple[str, list[models.Field]] | None:
    """`INSERT INTO table (cols) VALUES (%s, …), …` for `rows` rows, or None."""
    fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
    if not all(_plain(f) for f in fields):
        return None
    qn = connections["default"].ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES {', '.join([row] * rows)}"), fields


def _prepared_value(field: models.Field, value: Any, connection: Any) -> tuple[bool, Any]:
    """(True, the value as the ORM's compilers send it), or (False, _) for one they would compile as SQL."""
    if hasattr(value, "resolve_expression"):
        return False, None
    if hasattr(value, "prepare_database_save"):  # a model instance for a foreign key: its key
        return (True, value.prepare_database_save(field)) if field.remote_field else (False, None)
    return True, field.get_db_prep_save(value, connection)


class DeferredWrites:
    """INSERTs and UPDATEs whose results nobody reads, kept in order until `flush()`."""

    def __init__(self, using: str = "default") -> None:
        self.using = using
        # A statement, or a row inserted late (`insert_late`): its SQL is made when it is sent.
        self.statements: list[tuple[str, tuple[Any, ...] | dict[str, Any]] | models.Model] = []
        self._late: dict[int, models.Model] = {}

    def __len__(self) -> int:
        return len(self.statements)

    def update(self, model: type[models.Model], pk: int, **values: Any) -> None:
        """`UPDATE … SET values WHERE pk = pk`, as `Model.objects.filter(pk=pk).update(**values)` would send."""
        shape = _update_shape(model, tuple(values))
        if shape is not None:
            connection = connections[self.using]
            params = []
            for field, value in zip(shape[1], values.values(), strict=True):
                plain, prepared = _prepared_value(field, value, connection)
                if not plain:
                    break
                params.append(prepared)
            else:
                params.append(model._meta.pk.get_db_prep_save(pk, connection))
                self.statements.append((shape[0], tuple(params)))
                return
        query = UpdateQuery(model)
        query.add_q(models.Q(pk=pk))
        query.add_update_values(values)
        sql, params = query.get_compiler(self.using).as_sql()
        self.statements.append((sql, tuple(params)))

    def save(self, obj: models.Model, fields: Iterable[str] | None = None) -> None:
        """Write back an existing row: the named fields, or every concrete field but the key. An object read
        by `instance()` remembers the values it was read with: without `fields`, only the columns that differ
        from them are written (nothing at all when none does), so a call's step sends the two or three
        columns it changed, not its thirty (the values' conversion was an eighth of a web worker's time)."""
        loaded = obj.__dict__.get(_AS_LOADED)
        if fields is not None:
            names = list(fields)
        else:
            names = [f.attname for f in obj._meta.concrete_fields if not f.primary_key]
            if loaded is not None:
                names = [name for name in names if getattr(obj, name) != loaded.get(name, _UNKNOWN)]
                if not names:
                    return
        values = {name: getattr(obj, name) for name in names}
        self.update(type(obj), obj.pk, **values)
        if loaded is not None:  # what the row will hold once this unit's writes are sent
            loaded.update({name: _kept(value) for name, value in values.items()})

    def insert_late(self, obj: models.Model) -> None:
        """`INSERT` a new row (with its key) in this place of the order, with the values it has when the writes
        are sent: a row created and then changed in the same unit (a call that arrives and is rung at once) is
        written once, not inserted and then updated (a second row version and index entries for nothing)."""
        self._late[id(obj)] = obj
        self.statements.append(obj)

    def inserting(self, obj: models.Model) -> bool:
        """Whether `obj` waits in `insert_late`: saving it changes nothing, the insert carries its values."""
        return self._late.get(id(obj)) is obj

    def insert(self, objs: list[models.Model]) -> None:
        """`INSERT` rows (without RETURNING: give them their key first when a later write refers to them)."""
        self.statements.extend(self._insert_statements(objs))

    def _insert_statements(self, objs: list[models.Model]) -> list[tuple[str, tuple[Any, ...]]]:
        if not objs:
            return []
        model = type(objs[0])
        fields = [f for f in model._meta.concrete_fields if not (f.primary_key and objs[0].pk is None)]
        for obj in objs:  # what the ORM does before an insert: defaults and auto_now values
            for field in fields:
                if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                    field.pre_save(obj, add=True)
        shape = _insert_shape(model, objs[0].pk is not None, len(objs))
        if shape is not None:
            connection = connections[self.using]
            params = []
            for obj in objs:
                for field in shape[1]:
                    plain, prepared = _prepared_value(field, getattr(obj, field.attname), connection)
                    if not plain:
                        break
                    params.append(prepared)
                else:
                    continue
                break
            else:
                return [(shape[0], tuple(params))]
        query = InsertQuery(model)
        query.insert_values(fields, objs)
        compiler = query.get_compiler(self.using)
        compiler.returning_fields = None
        return [(sql, tuple(params)) for sql, params in compiler.as_sql()]

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
        # Bound on the server: each shape's text is the same on every call, so psycopg prepares it once it has
        # run `prepare_threshold` times on this connection.
        statements = []
        for item in self.statements:
            statements.extend(self._insert_statements([item]) if isinstance(item, models.Model) else [item])
        self.statements, self._late = [], {}
        probe = _after_commit.get() if commit else None
        with connection.wrap_database_errors, psycopg.Cursor(raw) as cur:
            read = psycopg.Cursor(raw) if probe is not None else None  # only when a probe rides along
            try:
                with raw.pipeline():
                    for sql, params in statements:
                        cur.execute(sql, params or None)
                    if commit:
                        cur.execute("COMMIT")
                    if read is not None:  # runs after the COMMIT, on the committed state, in the same round trip
                        read.execute(probe.sql, probe.params, prepare=True)
                if read is not None:
                    probe.rows, probe.fresh = read.fetchall(), True
            finally:
                if read is not None:
                    read.close()


class AfterCommit:
    """A read that rides with every COMMIT a unit sends (`DeferredWrites.flush`), in the same round trip: its
    rows are what the database holds right after the latest of those commits (`fresh` once one has run)."""

    def __init__(self, sql: str, params: dict[str, Any]) -> None:
        self.sql, self.params = sql, params
        self.rows: list[tuple[Any, ...]] = []
        self.fresh = False


_after_commit: contextvars.ContextVar[AfterCommit | None] = contextvars.ContextVar("after_commit", default=None)


@contextlib.contextmanager
def read_after_commit(sql: str, params: dict[str, Any]) -> Iterator[AfterCommit]:
    """Within the block, every unit that commits its own transaction also runs `sql` after its COMMIT and
    leaves the rows in the probe (the simulator's next timer deadline after an engine event: no round trip
    of its own). A commit made another way (Django's, a rollback) does not refresh it: `fresh` says whether
    one did since the caller last cleared it."""
    probe = AfterCommit(sql, params)
    token = _after_commit.set(probe)
    try:
        yield probe
    finally:
        _after_commit.reset(token)


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
            raw.execute(_GENERIC_PLANS)
            for cur, (sql, params) in zip(cursors, statements, strict=True):
                cur.execute(sql, params, prepare=True)
        try:
            # `pgresult.status`, not `description`: the latter builds a Column object per column (7 % of an event)
            return [cur.fetchall() if cur.pgresult is not None and cur.pgresult.status == pq.ExecStatus.TUPLES_OK
                    else [] for cur in cursors]
        finally:
            for cur in cursors:
                cur.close()


# The hot path's statements are written for their indexes (a key, a partial index, the free-operator walk), so a
# plan made for the values at hand buys nothing over the generic one, and costs a planning on every execution:
# PostgreSQL's default (`auto`) keeps re-planning a statement whose generic plan it estimates dearer, which it
# did for the routing statement on every event (bind 2.5-7.6 ms of an event's ~4 ms of server time under
# bench-webhook). Set for the transaction a first round trip opens, with its BEGIN (no round trip of its own).
_GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"


def fetch_prepared(sql: str, params: dict[str, Any], using: str = "default") -> list[tuple[Any, ...]]:
    """Run one read statement as a server-side prepared statement, in one round trip; return its rows.

    Django's cursor binds the values into the text on the client, so PostgreSQL parses and plans a statement
    afresh on every call: for the timers' statements, asked after every step of a simulation, planning cost
    more than running. Prepared (`prepare=True`), it is planned once per connection; in a pipeline, the first
    call's Parse goes with its Execute instead of costing a round trip of its own."""
    connection = connections[using]
    connection.ensure_connection()
    raw = connection.connection
    with connection.wrap_database_errors, psycopg.Cursor(raw) as cur:
        with raw.pipeline():
            cur.execute(sql, params, prepare=True)
        return cur.fetchall() if cur.pgresult is not None and cur.pgresult.status == pq.ExecStatus.TUPLES_OK else []


def _begin_statement(raw: psycopg.Connection) -> str:
    level = raw.isolation_level
    return "BEGIN" if level is None else f"BEGIN ISOLATION LEVEL {level.name.replace('_', ' ')}"


# --- Rows of the statements above as model objects (the SQL names every column: `columns`) ----------------

def columns(model: type[models.Model], alias: str) -> str:
    """The model's concrete columns under `alias`, in field order (what `instance` reads back)."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


def instance(model: type[M], values: Sequence[Any]) -> M | None:
    """A model object from a row of `columns(model)`, converted as the ORM converts (JSON fields); None
    for the NULLs of an outer join. It remembers the values it was read with (`DeferredWrites.save` writes
    back only what changed)."""
    if values[0] is None:
        return None
    fields = model._meta.concrete_fields
    names = [f.attname for f in fields]
    converted = [f.from_db_value(v, None, connection) if v is not None and hasattr(f, "from_db_value") else v
                 for f, v in zip(fields, values, strict=True)]
    obj = model.from_db(connection.alias, names, converted)
    obj.__dict__[_AS_LOADED] = {name: _kept(value) for name, value in zip(names, converted, strict=True)}
    return obj


# In an object's __dict__: the column values its row holds, as this unit knows them (read under the row's lock,
# then what the unit wrote). An object read by `instance()` is written through `DeferredWrites` only; one whose
# row is changed another way in the same unit (`refresh_from_db`, a queryset `update`) is saved with `fields`.
_AS_LOADED = "_pipeline_as_loaded"
_UNKNOWN = object()


def _kept(value: Any) -> Any:
    """A value as remembered: a JSON document is copied, since the code may change it in place."""
    return copy.deepcopy(value) if isinstance(value, (dict, list)) else value
