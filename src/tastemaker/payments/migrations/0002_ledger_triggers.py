"""Database triggers that keep the ledger append-only and balanced, whatever code talks to the database.

On both SQLite and PostgreSQL:

* UPDATE of an entry or a transaction is refused.
* DELETE of an entry or a transaction is refused. (SQLite: except in an in-memory database, which is
  by definition throw-away: the test framework empties it between tests with ``DELETE FROM``.
  PostgreSQL empties tables with TRUNCATE, which row triggers do not see; truncating the ledger is a
  deliberate administrator act, like dropping the table.)
* Entries are written first and the transaction row last (``ledger.post_transaction`` does so; the
  foreign key from entry to transaction is deferred to commit). Inserting the transaction row checks
  that it has at least two entries and that they sum to zero per currency; an entry for a transaction
  that is already written is refused, so nothing can be added to a posted transaction later.
* An entry's currency must be its account's currency.

All refusals raise an integrity error (SQLite ``RAISE(ABORT)``, PostgreSQL SQLSTATE 23000), which
Django turns into ``IntegrityError``.
"""

from django.db import migrations

SQLITE_FORWARD = [
    # append-only
    """CREATE TRIGGER payments_entry_no_update BEFORE UPDATE ON payments_entry
       BEGIN SELECT RAISE(ABORT, 'payments ledger: entries are append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER payments_entry_no_delete BEFORE DELETE ON payments_entry
       WHEN (SELECT file FROM pragma_database_list WHERE name = 'main') <> ''
       BEGIN SELECT RAISE(ABORT, 'payments ledger: entries are append-only (DELETE refused)'); END""",
    """CREATE TRIGGER payments_transaction_no_update BEFORE UPDATE ON payments_transaction
       BEGIN SELECT RAISE(ABORT, 'payments ledger: transactions are append-only (UPDATE refused)'); END""",
    """CREATE TRIGGER payments_transaction_no_delete BEFORE DELETE ON payments_transaction
       WHEN (SELECT file FROM pragma_database_list WHERE name = 'main') <> ''
       BEGIN SELECT RAISE(ABORT, 'payments ledger: transactions are append-only (DELETE refused)'); END""",
    # entries first, then the transaction row, which must balance
    """CREATE TRIGGER payments_entry_insert_open BEFORE INSERT ON payments_entry
       WHEN EXISTS (SELECT 1 FROM payments_transaction WHERE id = NEW.transaction_id)
       BEGIN SELECT RAISE(ABORT, 'payments ledger: the transaction is already posted (entry refused)'); END""",
    """CREATE TRIGGER payments_entry_insert_currency BEFORE INSERT ON payments_entry
       WHEN NEW.currency IS NOT (SELECT currency FROM payments_account WHERE id = NEW.account_id)
       BEGIN SELECT RAISE(ABORT, 'payments ledger: entry currency differs from its account'); END""",
    """CREATE TRIGGER payments_transaction_balanced AFTER INSERT ON payments_transaction
       WHEN (SELECT count(*) FROM payments_entry WHERE transaction_id = NEW.id) < 2
         OR EXISTS (SELECT 1 FROM payments_entry WHERE transaction_id = NEW.id
                    GROUP BY currency HAVING sum(amount) <> 0)
       BEGIN SELECT RAISE(ABORT, 'payments ledger: a transaction needs two or more entries that sum to zero per currency'); END""",
]
SQLITE_REVERSE = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("payments_entry_no_update", "payments_entry_no_delete", "payments_transaction_no_update",
                 "payments_transaction_no_delete", "payments_entry_insert_open", "payments_entry_insert_currency",
                 "payments_transaction_balanced")
]

POSTGRES_FORWARD = [
    """CREATE OR REPLACE FUNCTION payments_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION 'payments ledger: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
           USING ERRCODE = 'integrity_constraint_violation';
       END $$""",
    """CREATE TRIGGER payments_entry_append_only BEFORE UPDATE OR DELETE ON payments_entry
       FOR EACH ROW EXECUTE FUNCTION payments_refuse_change()""",
    """CREATE TRIGGER payments_transaction_append_only BEFORE UPDATE OR DELETE ON payments_transaction
       FOR EACH ROW EXECUTE FUNCTION payments_refuse_change()""",
    """CREATE OR REPLACE FUNCTION payments_entry_check() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM payments_transaction WHERE id = NEW.transaction_id) THEN
           RAISE EXCEPTION 'payments ledger: the transaction is already posted (entry refused)'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         IF NEW.currency IS DISTINCT FROM (SELECT currency FROM payments_account WHERE id = NEW.account_id) THEN
           RAISE EXCEPTION 'payments ledger: entry currency differs from its account'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER payments_entry_insert BEFORE INSERT ON payments_entry
       FOR EACH ROW EXECUTE FUNCTION payments_entry_check()""",
    """CREATE OR REPLACE FUNCTION payments_transaction_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF (SELECT count(*) FROM payments_entry WHERE transaction_id = NEW.id) < 2
            OR EXISTS (SELECT 1 FROM payments_entry WHERE transaction_id = NEW.id
                       GROUP BY currency HAVING sum(amount) <> 0) THEN
           RAISE EXCEPTION 'payments ledger: a transaction needs two or more entries that sum to zero per currency'
             USING ERRCODE = 'integrity_constraint_violation';
         END IF;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER payments_transaction_balanced AFTER INSERT ON payments_transaction
       FOR EACH ROW EXECUTE FUNCTION payments_transaction_balanced()""",
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS payments_transaction_balanced ON payments_transaction",
    "DROP TRIGGER IF EXISTS payments_entry_insert ON payments_entry",
    "DROP TRIGGER IF EXISTS payments_transaction_append_only ON payments_transaction",
    "DROP TRIGGER IF EXISTS payments_entry_append_only ON payments_entry",
    "DROP FUNCTION IF EXISTS payments_transaction_balanced()",
    "DROP FUNCTION IF EXISTS payments_entry_check()",
    "DROP FUNCTION IF EXISTS payments_refuse_change()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        statements = statements_by_vendor.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError(f"payments ledger triggers: no SQL for {schema_editor.connection.vendor}")
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_FORWARD, "postgresql": POSTGRES_FORWARD}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        ),
    ]
