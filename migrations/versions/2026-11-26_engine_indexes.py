"""indexes of the indicator engine

Revision ID: engine_indexes
Revises: 0001
Create Date: 2026-11-26 06:00:00

IND-01 reads a year's range of activities from one covering index; IND-02 finds activities begun before the
Action Month and still running by their last day; the data ETag reads the latest change from an index.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "engine_indexes"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_activity_held_on_scan", "activity", ["held_on", "task_group", "kind", "unit_id"])
    op.create_index("ix_activity_ends_on", "activity", ["ends_on"])
    op.create_index("ix_activity_updated_at", "activity", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_activity_updated_at", table_name="activity")
    op.drop_index("ix_activity_ends_on", table_name="activity")
    op.drop_index("ix_activity_held_on_scan", table_name="activity")
