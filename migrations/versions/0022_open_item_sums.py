"""the open items summed per department and due or recognition date, kept by triggers on items

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30

open_item_sums (recovery/ledger/models.py, recovery/ledger/open_sums.py): the company-wide
aging and the ledger's bucket totals read these sums — a few thousand rows — instead of every
open item (300,000 at a million items: 90–150 ms a page, docs/performance.md).

Triggers on items keep them in the transaction of every change, whatever writes it (the
application, an import, the API, a restore that loads rows): a change inserts the item as it
was with a minus sign and the item as it is, so that writers never update a shared row and
never wait for one another. The table is filled here from the items as they are.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

COLUMNS = "basis, department_id, day, items, amount_fen, open_fen, compacted"
WATCHED = ("open_amount", "amount", "due_on", "recognized_on", "department_id")

# On PostgreSQL a part payment — the usual change — inserts only the change of the open
# amount (two rows); anything else the item as it was, negated, and as it is (up to four).
POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION items_keep_open_sums() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.open_amount <> 0 AND NEW.open_amount <> 0 AND OLD.amount = NEW.amount
           AND OLD.due_on = NEW.due_on AND OLD.recognized_on = NEW.recognized_on
           AND OLD.department_id IS NOT DISTINCT FROM NEW.department_id THEN
            INSERT INTO open_item_sums ({COLUMNS}) VALUES
                ('due', NEW.department_id, NEW.due_on, 0, 0,
                 NEW.open_amount - OLD.open_amount, false),
                ('age', NEW.department_id, NEW.recognized_on, 0, 0,
                 NEW.open_amount - OLD.open_amount, false);
            RETURN NULL;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF OLD.open_amount <> 0 THEN
            INSERT INTO open_item_sums ({COLUMNS}) VALUES
                ('due', OLD.department_id, OLD.due_on, -1, -OLD.amount, -OLD.open_amount, false),
                ('age', OLD.department_id, OLD.recognized_on, -1, -OLD.amount,
                 -OLD.open_amount, false);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        IF NEW.open_amount <> 0 THEN
            INSERT INTO open_item_sums ({COLUMNS}) VALUES
                ('due', NEW.department_id, NEW.due_on, 1, NEW.amount, NEW.open_amount, false),
                ('age', NEW.department_id, NEW.recognized_on, 1, NEW.amount, NEW.open_amount,
                 false);
        END IF;
    END IF;
    RETURN NULL;
END
$$
"""


def _changed(old_is_not_new: str) -> str:
    """The condition "a watched column changed" with the dialect's null-safe inequality."""
    return " OR ".join(f"OLD.{c} {old_is_not_new} NEW.{c}" for c in WATCHED)


def _sqlite_rows(row: str, sign: str) -> list[str]:
    """The (due, age) rows of the item ``row`` (OLD or NEW) with ``sign`` ("" or "-")."""
    one = "-1" if sign else "1"
    return [
        f"SELECT '{basis}', {row}.department_id, {row}.{day}, {one}, {sign}{row}.amount, "
        f"{sign}{row}.open_amount, 0 WHERE {row}.open_amount <> 0"
        for basis, day in (("due", "due_on"), ("age", "recognized_on"))
    ]


def upgrade():
    op.create_table(
        "open_item_sums",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("basis", sa.String(length=3), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("open_fen", sa.BigInteger(), nullable=False),
        sa.Column("compacted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.CheckConstraint("basis IN ('due', 'age')", name=op.f("ck_open_item_sums_basis")),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_open_item_sums_department_id_departments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open_item_sums")),
    )
    op.create_index("ix_open_item_sums_basis_day", "open_item_sums", ["basis", "day"])
    compacted = "true" if op.get_bind().dialect.name == "postgresql" else "1"
    op.execute(
        f"INSERT INTO open_item_sums ({COLUMNS}) "
        f"SELECT 'due', department_id, due_on, count(*), sum(amount), sum(open_amount), "
        f"{compacted} FROM items WHERE open_amount <> 0 GROUP BY department_id, due_on "
        f"UNION ALL "
        f"SELECT 'age', department_id, recognized_on, count(*), sum(amount), sum(open_amount), "
        f"{compacted} FROM items WHERE open_amount <> 0 GROUP BY department_id, recognized_on"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(
            "CREATE TRIGGER items_open_sums_insert AFTER INSERT ON items FOR EACH ROW "
            "WHEN (NEW.open_amount <> 0) EXECUTE FUNCTION items_keep_open_sums()"
        )
        op.execute(
            f"CREATE TRIGGER items_open_sums_update AFTER UPDATE OF {', '.join(WATCHED)} "
            f"ON items FOR EACH ROW WHEN ({_changed('IS DISTINCT FROM')}) "
            f"EXECUTE FUNCTION items_keep_open_sums()"
        )
        op.execute(
            "CREATE TRIGGER items_open_sums_delete AFTER DELETE ON items FOR EACH ROW "
            "WHEN (OLD.open_amount <> 0) EXECUTE FUNCTION items_keep_open_sums()"
        )
    else:
        minus_old, plus_new = _sqlite_rows("OLD", "-"), _sqlite_rows("NEW", "")
        insert = f"INSERT INTO open_item_sums ({COLUMNS}) "
        op.execute(
            f"CREATE TRIGGER items_open_sums_insert AFTER INSERT ON items "
            f"WHEN NEW.open_amount <> 0 BEGIN {insert}{' UNION ALL '.join(plus_new)}; END"
        )
        op.execute(
            f"CREATE TRIGGER items_open_sums_update AFTER UPDATE OF {', '.join(WATCHED)} "
            f"ON items WHEN {_changed('IS NOT')} "
            f"BEGIN {insert}{' UNION ALL '.join(minus_old + plus_new)}; END"
        )
        op.execute(
            f"CREATE TRIGGER items_open_sums_delete AFTER DELETE ON items "
            f"WHEN OLD.open_amount <> 0 BEGIN {insert}{' UNION ALL '.join(minus_old)}; END"
        )


def downgrade():
    for name in ("items_open_sums_insert", "items_open_sums_update", "items_open_sums_delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON items")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS items_keep_open_sums()")
    op.drop_index("ix_open_item_sums_basis_day", table_name="open_item_sums")
    op.drop_table("open_item_sums")
