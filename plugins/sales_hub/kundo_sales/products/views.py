"""Catalogue pages: the product list with a create form, a product's edit page, archive and restore."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db
from kundo_sales.errors import SalesNotFound, SalesValidationError
from kundo_sales.products import service
from kundo_sales.products.models import VAT_PRESETS

ID = "int(max=9223372036854775807)"
FORM_FIELDS = ("name", "sku", "description", "unit_price", "tax_rate", "unit")


def register(blueprint) -> None:
    from kundo_sales.formatting import register_filters

    register_filters(blueprint)
    blueprint.add_url_rule("/products", "products", products, methods=["GET", "POST"])
    blueprint.add_url_rule(f"/products/<{ID}:product_id>", "product", product_page, methods=["GET", "POST"])
    blueprint.add_url_rule(f"/products/<{ID}:product_id>/archive", "archive_product", archive, methods=["POST"])


def _form_values() -> dict:
    values = {field: request.form.get(field, "") for field in FORM_FIELDS}
    if values["tax_rate"] == "other":
        values["tax_rate"] = request.form.get("tax_rate_other", "")
    return values


def _errors(error: SalesValidationError) -> dict[str, str]:
    return {field: " ".join(messages) for field, messages in error.errors.items()}


@login_required
def products():
    session = current_tenant_db()
    errors, form = {}, {}
    if request.method == "POST":
        form = _form_values()
        try:
            product = service.create_product(session, form, actor_id=g.user.id)
        except SalesValidationError as error:
            session.rollback()
            errors = _errors(error)
        else:
            session.commit()
            flash(_("Product “%(name)s” added to the catalogue.", name=product.name), "success")
            return redirect(url_for("sales.products"))
    archived = request.args.get("archived") == "1"
    query = request.args.get("q", "").strip()[:100]
    rows = service.list_products(session, query=query or None, archived=archived)
    return render_template("sales/products/list.html", rows=rows, errors=errors, form=form, archived=archived,
                           query=query, presets=VAT_PRESETS), 400 if errors else 200


@login_required
def product_page(product_id: int):
    session = current_tenant_db()
    try:
        product = service.get_product(session, product_id)
    except SalesNotFound:
        abort(404)
    errors, form = {}, {}
    if request.method == "POST":
        form = _form_values()
        try:
            service.update_product(session, product, form)
        except SalesValidationError as error:
            session.rollback()
            errors = _errors(error)
            product = service.get_product(session, product_id)
        else:
            session.commit()
            flash(_("Product “%(name)s” saved.", name=product.name), "success")
            return redirect(url_for("sales.products"))
    return render_template("sales/products/edit.html", product=product, errors=errors, form=form,
                           presets=VAT_PRESETS), 400 if errors else 200


@login_required
def archive(product_id: int):
    session = current_tenant_db()
    try:
        product = service.get_product(session, product_id)
        service.archive_product(session, product, archived=request.form.get("restore") != "1")
    except SalesNotFound:
        abort(404)
    except SalesValidationError as error:
        session.rollback()
        flash(" ".join(m for messages in error.errors.values() for m in messages), "error")
        return redirect(url_for("sales.product", product_id=product_id))
    session.commit()
    if product.archived_at:
        flash(_("“%(name)s” archived. Quotes that use it keep their lines.", name=product.name), "success")
    else:
        flash(_("“%(name)s” is back in the catalogue.", name=product.name), "success")
    return redirect(url_for("sales.products"))
