"""sales: products, quotes (lines, number counter), booking pages and meetings

Runs inside the tenant's schema (search_path, tenant role), so names are unqualified.

Revision ID: sales_0003
Revises: sales_0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "sales_0003"
down_revision = "sales_0002"
branch_labels = None
depends_on = None


def _stamps() -> list:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "sales_products",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sku", sa.String(64), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("unit_price", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), server_default="EUR", nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), server_default="19.00", nullable=False),
        sa.Column("unit", sa.String(30), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        *_stamps(),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_sales_products_price_not_negative")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name=op.f("ck_sales_products_tax_rate_percent")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_products")),
    )
    op.create_index("uq_sales_products_sku", "sales_products", [sa.text("lower(sku)")], unique=True,
                    postgresql_where=sa.text("sku IS NOT NULL AND archived_at IS NULL"))

    op.create_table(
        "sales_quote_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_sales_quote_counters")),
    )
    op.create_table(
        "sales_quotes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("deal_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(30), nullable=False),
        sa.Column("status", sa.String(12), server_default="draft", nullable=False),
        sa.Column("language", sa.String(5), server_default="de", nullable=False),
        sa.Column("currency", sa.String(3), server_default="EUR", nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("introduction", sa.Text(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("discount_percent", sa.Numeric(5, 2), server_default="0", nullable=False),
        sa.Column("net_total", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("tax_total", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("gross_total", sa.Numeric(14, 2), server_default="0", nullable=False),
        sa.Column("win_deal_on_accept", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("link_key", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_to", sa.String(320), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_name", sa.String(200), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        *_stamps(),
        sa.CheckConstraint("status IN ('draft', 'sent', 'accepted', 'declined', 'withdrawn')",
                           name=op.f("ck_sales_quotes_status_known")),
        sa.CheckConstraint("discount_percent >= 0 AND discount_percent <= 100",
                           name=op.f("ck_sales_quotes_discount_percent")),
        sa.ForeignKeyConstraint(["deal_id"], ["sales_deals.id"], name=op.f("fk_sales_quotes_deal_id_sales_deals"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_quotes")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_quotes_number")),
    )
    op.create_index("ix_sales_quotes_deal", "sales_quotes", ["deal_id", "created_at"])
    op.create_table(
        "sales_quote_lines",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("quote_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("product_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
        sa.Column("unit", sa.String(30), nullable=True),
        sa.Column("unit_price", sa.Numeric(14, 2), nullable=False),
        sa.Column("discount_percent", sa.Numeric(5, 2), server_default="0", nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_sales_quote_lines_quantity_positive")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_sales_quote_lines_price_not_negative")),
        sa.CheckConstraint("discount_percent >= 0 AND discount_percent <= 100",
                           name=op.f("ck_sales_quote_lines_discount_percent")),
        sa.CheckConstraint("tax_rate >= 0 AND tax_rate <= 100", name=op.f("ck_sales_quote_lines_tax_rate_percent")),
        sa.ForeignKeyConstraint(["quote_id"], ["sales_quotes.id"],
                                name=op.f("fk_sales_quote_lines_quote_id_sales_quotes"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["sales_products.id"],
                                name=op.f("fk_sales_quote_lines_product_id_sales_products"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_quote_lines")),
    )
    op.create_index("ix_sales_quote_lines_quote", "sales_quote_lines", ["quote_id", "position"])

    op.create_table(
        "sales_booking_pages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("slug", sa.String(60), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), server_default="30", nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), server_default="10", nullable=False),
        sa.Column("horizon_days", sa.Integer(), server_default="30", nullable=False),
        sa.Column("notice_minutes", sa.Integer(), server_default="120", nullable=False),
        sa.Column("reminder_minutes", sa.Integer(), server_default="60", nullable=False),
        sa.Column("availability", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        *_stamps(),
        sa.CheckConstraint("duration_minutes BETWEEN 5 AND 480", name=op.f("ck_sales_booking_pages_duration_range")),
        sa.CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name=op.f("ck_sales_booking_pages_buffer_range")),
        sa.CheckConstraint("horizon_days BETWEEN 1 AND 365", name=op.f("ck_sales_booking_pages_horizon_range")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_booking_pages")),
        sa.UniqueConstraint("user_id", name=op.f("uq_sales_booking_pages_user_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_sales_booking_pages_slug")),
    )
    op.create_table(
        "sales_meetings",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("booking_page_id", sa.BigInteger(), nullable=False),
        sa.Column("host_user_id", sa.BigInteger(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(12), server_default="confirmed", nullable=False),
        sa.Column("visitor_name", sa.String(200), nullable=False),
        sa.Column("visitor_email", sa.String(320), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("language", sa.String(5), server_default="en", nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=True),
        sa.Column("activity_id", sa.BigInteger(), nullable=True),
        sa.Column("sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("link_key", sa.String(32), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_sales_meetings_ends_after_start")),
        sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name=op.f("ck_sales_meetings_status_known")),
        sa.ForeignKeyConstraint(["booking_page_id"], ["sales_booking_pages.id"],
                                name=op.f("fk_sales_meetings_booking_page_id_sales_booking_pages"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_meetings")),
    )
    op.create_index("uq_sales_meetings_host_start", "sales_meetings", ["host_user_id", "starts_at"], unique=True,
                    postgresql_where=sa.text("status = 'confirmed'"))
    op.create_index("ix_sales_meetings_host_time", "sales_meetings", ["host_user_id", "starts_at", "ends_at"])


def downgrade() -> None:
    op.drop_table("sales_meetings")
    op.drop_table("sales_booking_pages")
    op.drop_table("sales_quote_lines")
    op.drop_table("sales_quotes")
    op.drop_table("sales_quote_counters")
    op.drop_table("sales_products")
