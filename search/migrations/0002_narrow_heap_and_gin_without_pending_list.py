"""PostgreSQL storage of the index, for the speed of a search over many matching rows (issue 14):

- toast_tuple_target = 128: a row's text, folded text and tsvector are kept out of line, so the table itself
  holds only the narrow columns the query filters and sorts on (about 50 rows a block instead of 4): the
  rows a common bigram matches are read from a few hundred blocks, and their texts only for the page shown;
- the tsvector is stored without compression (a list of bigrams hardly compresses: it saves trying);
- the GIN index without its pending list (fastupdate off): every search would otherwise scan the list of
  rows indexed since the last vacuum; the index is written by tasks, where the slower insert costs nothing.

Rows written before this migration keep their layout until `manage.py search_reindex` rewrites them.
"""

from django.db import migrations

FORWARD = [
    "ALTER TABLE search_searchentry SET (toast_tuple_target = 128)",
    "ALTER TABLE search_searchentry ALTER COLUMN tokens SET STORAGE EXTERNAL",
    "ALTER INDEX search_entry_tokens_gin SET (fastupdate = off)",
]
BACKWARD = [
    "ALTER INDEX search_entry_tokens_gin RESET (fastupdate)",
    "ALTER TABLE search_searchentry ALTER COLUMN tokens SET STORAGE EXTENDED",
    "ALTER TABLE search_searchentry RESET (toast_tuple_target)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
