"""Peewee migrations -- 017_outbox_message.py: an outbox message's subject and body stored
once (`outbound_message`), each recipient's row (`outbound_email`) pointing at it.

Every existing row becomes a message of its own, with the same id (so the copy is one
INSERT ... SELECT and one UPDATE), and loses its `subject` and `body` columns. The
message key is NOT NULL on PostgreSQL; on SQLite it stays nullable in the schema, as
adding NOT NULL there means rebuilding `outbound_email`, whose DROP inside the
migration's transaction would delete its attachments (ON DELETE CASCADE). The rollback
copies the texts back to every recipient (the columns NOT NULL again on PostgreSQL only,
for the same reason).
"""

import peewee as pw
from peewee_migrate import Migrator


def _postgres(database) -> bool:
    """The database behind the router's proxy is PostgreSQL."""
    return isinstance(database.obj if isinstance(database, pw.DatabaseProxy) else database, pw.PostgresqlDatabase)


def _restart_message_ids(database) -> None:
    """PostgreSQL: the next message id after the ones copied (SQLite takes the largest + 1)."""
    if _postgres(database):
        database.execute_sql("SELECT setval(pg_get_serial_sequence('outbound_message', 'id'), "
                             'COALESCE(MAX("id"), 1), MAX("id") IS NOT NULL) FROM "outbound_message"')


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    @migrator.create_model
    class OutboundMessage(pw.Model):
        id = pw.AutoField()
        created_at = pw.DateTimeField()
        subject = pw.CharField(max_length=300)
        body = pw.TextField()

        class Meta:
            table_name = "outbound_message"

    def message_key(null: bool) -> pw.ForeignKeyField:
        return pw.ForeignKeyField(column_name='message_id', field='id', model=OutboundMessage, null=null, index=True,
                                  on_delete='CASCADE')

    migrator.add_fields('outbound_email', message=message_key(null=True))
    migrator.sql('INSERT INTO "outbound_message" ("id", "created_at", "subject", "body") '
                 'SELECT "id", "created_at", "subject", "body" FROM "outbound_email"')
    migrator.sql('UPDATE "outbound_email" SET "message_id" = "id"')
    migrator.run(_restart_message_ids, database)
    # NOT NULL by hand: peewee-migrate's add_not_null would change the field the pending
    # ADD COLUMN is made from. The schema the later migrations start from is the model's.
    if _postgres(database):
        migrator.sql('ALTER TABLE "outbound_email" ALTER COLUMN "message_id" SET NOT NULL')
    migrator.orm['outbound_email']._meta.add_field('message', message_key(null=False))
    migrator.remove_fields('outbound_email', 'subject', 'body')


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    migrator.add_fields('outbound_email', subject=pw.CharField(max_length=300, null=True),
                        body=pw.TextField(null=True))
    migrator.sql('UPDATE "outbound_email" SET '
                 '"subject" = (SELECT m."subject" FROM "outbound_message" AS m WHERE m."id" = "outbound_email"."message_id"), '
                 '"body" = (SELECT m."body" FROM "outbound_message" AS m WHERE m."id" = "outbound_email"."message_id")')
    if _postgres(database):  # as 001 made them (SQLite: see the module's docstring)
        migrator.sql('ALTER TABLE "outbound_email" ALTER COLUMN "subject" SET NOT NULL, '
                     'ALTER COLUMN "body" SET NOT NULL')
    migrator.drop_index('outbound_email', 'message')
    migrator.remove_fields('outbound_email', 'message')
    migrator.remove_model('outbound_message')
