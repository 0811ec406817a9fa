"""The audit log is append-only in the database too: UPDATE on moderation_action fails, whoever runs it (a
bulk queryset update, the admin, a shell), and so does DELETE on PostgreSQL. (On SQLite a DELETE trigger
would also stop the test runner's flush, which deletes row by row; PostgreSQL's flush is a TRUNCATE, which
row triggers do not see. On SQLite, deletes are refused by the model and the admin.)"""

from django.db import migrations

SQLITE = [
    "CREATE TRIGGER moderation_action_no_update BEFORE UPDATE ON moderation_action "
    "BEGIN SELECT RAISE(ABORT, 'moderation_action is append-only'); END",

]
SQLITE_REVERSE = ["DROP TRIGGER moderation_action_no_update"]
POSTGRES = [
    "CREATE FUNCTION moderation_action_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'moderation_action is append-only'; END $$",
    "CREATE TRIGGER moderation_action_append_only BEFORE UPDATE OR DELETE ON moderation_action "
    "FOR EACH ROW EXECUTE FUNCTION moderation_action_append_only()",
]
POSTGRES_REVERSE = ["DROP TRIGGER moderation_action_append_only ON moderation_action",
                    "DROP FUNCTION moderation_action_append_only()"]


def forwards(apps, schema_editor):
    statements = SQLITE if schema_editor.connection.vendor == "sqlite" else POSTGRES
    for sql in statements:
        schema_editor.execute(sql)


def backwards(apps, schema_editor):
    statements = SQLITE_REVERSE if schema_editor.connection.vendor == "sqlite" else POSTGRES_REVERSE
    for sql in statements:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("moderation", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
