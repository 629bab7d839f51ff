"""sales: stages, stage rules, deals, deal contacts, stage history, targets, settings

Runs inside the tenant's schema (search_path, tenant role), so names are unqualified.

Revision ID: sales_0002
Revises: sales_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "sales_0002"
down_revision = "sales_0001"
branch_labels = None
depends_on = None


def _now():
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "sales_stages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("probability", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rotting_days", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), server_default="open", nullable=False),
        sa.CheckConstraint("probability BETWEEN 0 AND 100", name=op.f("ck_sales_stages_probability_range")),
        sa.CheckConstraint("kind IN ('open', 'won', 'lost')", name=op.f("ck_sales_stages_kind_known")),
        sa.ForeignKeyConstraint(["pipeline_id"], ["sales_pipelines.id"], ondelete="CASCADE",
                                name=op.f("fk_sales_stages_pipeline_id_sales_pipelines")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_stages")),
    )
    op.create_index("ix_sales_stages_pipeline", "sales_stages", ["pipeline_id", "position"])

    op.create_table(
        "sales_stage_rules",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("stage_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("task_type", sa.String(length=20), server_default="todo", nullable=False),
        sa.Column("due_in_days", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(["pipeline_id"], ["sales_pipelines.id"], ondelete="CASCADE",
                                name=op.f("fk_sales_stage_rules_pipeline_id_sales_pipelines")),
        sa.ForeignKeyConstraint(["stage_id"], ["sales_stages.id"], ondelete="CASCADE",
                                name=op.f("fk_sales_stage_rules_stage_id_sales_stages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_stage_rules")),
    )
    op.create_index("ix_sales_stage_rules_stage", "sales_stage_rules", ["stage_id"])

    op.create_table(
        "sales_deals",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), server_default="0", nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("stage_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=True),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("expected_close_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("next_step", sa.String(length=300), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("forecast_category", sa.String(length=20), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'won', 'lost')", name=op.f("ck_sales_deals_status_known")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_sales_deals_amount_not_negative")),
        sa.ForeignKeyConstraint(["pipeline_id"], ["sales_pipelines.id"], ondelete="RESTRICT",
                                name=op.f("fk_sales_deals_pipeline_id_sales_pipelines")),
        sa.ForeignKeyConstraint(["stage_id"], ["sales_stages.id"], ondelete="RESTRICT",
                                name=op.f("fk_sales_deals_stage_id_sales_stages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_deals")),
    )
    op.create_index("ix_sales_deals_board", "sales_deals", ["pipeline_id", "stage_id", "status", "id"])
    op.create_index("ix_sales_deals_owner", "sales_deals", ["owner_id", "status"])
    op.create_index("ix_sales_deals_close", "sales_deals", ["expected_close_date"])
    op.create_index("ix_sales_deals_company", "sales_deals", ["company_id"])

    op.create_table(
        "sales_deal_contacts",
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["sales_deals.id"], ondelete="CASCADE",
                                name=op.f("fk_sales_deal_contacts_deal_id_sales_deals")),
        sa.PrimaryKeyConstraint("deal_id", "contact_id", name=op.f("pk_sales_deal_contacts")),
    )
    op.create_index("ix_sales_deal_contacts_contact", "sales_deal_contacts", ["contact_id", "deal_id"])

    op.create_table(
        "sales_deal_stage_history",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("pipeline_id", sa.BigInteger(), nullable=False),
        sa.Column("from_stage_id", sa.BigInteger(), nullable=True),
        sa.Column("to_stage_id", sa.BigInteger(), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(["deal_id"], ["sales_deals.id"], ondelete="CASCADE",
                                name=op.f("fk_sales_deal_stage_history_deal_id_sales_deals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_deal_stage_history")),
    )
    op.create_index("ix_sales_stage_history_deal", "sales_deal_stage_history", ["deal_id", "changed_at", "id"])
    op.create_index("ix_sales_stage_history_pipeline", "sales_deal_stage_history", ["pipeline_id", "changed_at"])

    op.create_table(
        "sales_targets",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="EUR", nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_targets")),
        sa.UniqueConstraint("owner_id", "month", name="uq_sales_targets_owner_month"),
    )

    op.create_table(
        "sales_settings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("deal_visibility", sa.String(length=10), server_default="all", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_settings")),
    )


def downgrade() -> None:
    for table in ("sales_settings", "sales_targets", "sales_deal_stage_history", "sales_deal_contacts",
                  "sales_deals", "sales_stage_rules", "sales_stages"):
        op.drop_table(table)
