"""The catalogue: create, edit, archive and list products — the one way pages and the API change them.

Products are archived, never deleted: quotes copy a product's name, price and VAT rate
onto their lines, and a line keeps pointing at the product it came from.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from kundo.platform.clock import now
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.products.models import Product

MAX_PRICE = Decimal("999999999999.99")
FIELDS = ("name", "sku", "description", "unit_price", "tax_rate", "unit", "currency")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_decimal(value, *, places: int) -> Decimal | None:
    """A decimal from a form or JSON: accepts "1.234,50" (German) and "1,234.50"/"1234.5"; None if unreadable."""
    if value is None:
        return None
    if isinstance(value, Decimal | int):
        number = Decimal(value)
    else:
        text = str(value).strip().replace(" ", "").replace("\u00a0", "").replace("€", "").replace("%", "")
        if not text:
            return None
        if "," in text and "." in text:
            text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") \
                else text.replace(",", "")
        elif "," in text:
            text = text.replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
    if not number.is_finite() or abs(number) >= Decimal("1e15"):
        return None
    step = Decimal(1).scaleb(-places)
    return number.quantize(step) if number == number.quantize(step) else None


def _clean(data: dict, *, partial: bool) -> tuple[dict, dict[str, list[str]]]:
    clean: dict = {}
    errors: dict[str, list[str]] = {}
    if "name" in data or not partial:
        name = " ".join(str(data.get("name") or "").split())
        if not name:
            errors["name"] = [_("Give the product a name.")]
        elif len(name) > 200:
            errors["name"] = [_("Use at most %(limit)s characters.", limit=200)]
        clean["name"] = name
    if "sku" in data:
        sku = str(data.get("sku") or "").strip() or None
        if sku and len(sku) > 64:
            errors["sku"] = [_("Use at most %(limit)s characters.", limit=64)]
        clean["sku"] = sku
    for field, limit in (("description", 5000), ("unit", 30)):
        if field in data:
            value = str(data.get(field) or "").strip() or None
            if value and len(value) > limit:
                errors[field] = [_("Use at most %(limit)s characters.", limit=limit)]
            clean[field] = value
    if "unit_price" in data or not partial:
        price = parse_decimal(data.get("unit_price"), places=2)
        if price is None or price < 0 or price > MAX_PRICE:
            errors["unit_price"] = [_("Enter a net price of 0 or more with at most two decimals, e.g. 1499.00.")]
        clean["unit_price"] = price
    if "tax_rate" in data or not partial:
        rate = parse_decimal(data.get("tax_rate", "19") if not partial else data.get("tax_rate"), places=2)
        if rate is None or rate < 0 or rate > 100:
            errors["tax_rate"] = [_("Enter a VAT rate between 0 and 100 percent, e.g. 19 or 7.")]
        clean["tax_rate"] = rate
    if "currency" in data:
        currency = str(data.get("currency") or "EUR").strip().upper()
        if not CURRENCY.match(currency):
            errors["currency"] = [_("Use a three-letter ISO code like EUR.")]
        clean["currency"] = currency
    return clean, errors


def _check_sku(session: Session, sku: str | None, errors: dict, exclude_id: int | None = None) -> None:
    if not sku:
        return
    query = select(Product.id).where(func.lower(Product.sku) == sku.lower(), Product.archived_at.is_(None))
    if exclude_id is not None:
        query = query.where(Product.id != exclude_id)
    if session.scalar(query) is not None:
        errors.setdefault("sku", []).append(_("Another product has the SKU “%(sku)s”.", sku=sku))


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise SalesNotFound(_("There is no product with id %(id)s in this workspace.", id=product_id))
    return product


def create_product(session: Session, data: dict, *, actor_id: int | None = None) -> Product:
    """:raises SalesValidationError: naming the fields to fix."""
    unknown = set(data) - set(FIELDS)
    if unknown:
        raise TypeError(f"create_product() cannot set: {', '.join(sorted(unknown))}")
    clean, errors = _clean(data, partial=False)
    _check_sku(session, clean.get("sku"), errors)
    if errors:
        raise SalesValidationError(errors)
    moment = now()
    product = Product(created_by=actor_id, created_at=moment, updated_at=moment, **clean)
    session.add(product)
    session.flush()
    return product


def update_product(session: Session, product: Product, changes: dict) -> Product:
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"update_product() cannot change: {', '.join(sorted(unknown))}")
    clean, errors = _clean(changes, partial=True)
    if "sku" in clean:
        _check_sku(session, clean["sku"], errors, exclude_id=product.id)
    if errors:
        raise SalesValidationError(errors)
    for field, value in clean.items():
        setattr(product, field, value)
    product.updated_at = now()
    session.flush()
    return product


def archive_product(session: Session, product: Product, *, archived: bool = True) -> Product:
    """Archived products leave the pickers; quotes that used them keep their lines."""
    if archived and product.archived_at is None:
        product.archived_at = now()
    elif not archived and product.archived_at is not None:
        errors: dict = {}
        _check_sku(session, product.sku, errors, exclude_id=product.id)
        if errors:
            raise SalesValidationError(errors)
        product.archived_at = None
    product.updated_at = now()
    session.flush()
    return product


def list_products(session: Session, *, query: str | None = None, archived: bool = False,
                  limit: int = 500) -> list[Product]:
    statement = select(Product).where(Product.archived_at.is_not(None) if archived else Product.archived_at.is_(None))
    if query:
        pattern = f"%{query.strip().replace('%', '').replace('_', '')}%"
        statement = statement.where(or_(Product.name.ilike(pattern), Product.sku.ilike(pattern)))
    return list(session.scalars(statement.order_by(func.lower(Product.name), Product.id).limit(limit)))
