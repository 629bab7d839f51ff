"""Pages: custom property settings per object type — list, create, edit, delete (admins)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kundo.crm.pages import is_admin, require_admin
from kundo.crm.properties import service
from kundo.crm.properties.models import PropertyType
from kundo.crm.views import blueprint
from kundo.platform.auth.session import login_required
from kundo.tenants.resolution import current_tenant_db

OBJECT = "<any(contact, company):object_type>"


def _options(raw: str | None) -> list[dict]:
    """One option per line; “value | Label” gives an option a label of its own."""
    options = []
    for line in (raw or "").splitlines():
        value, _sep, label = line.partition("|")
        if value.strip():
            options.append({"value": value.strip(), "label": label.strip() or value.strip()})
    return options


def _options_text(definition) -> str:
    return "\n".join(option["value"] if option["label"] == option["value"] else f"{option['value']} | {option['label']}"
                     for option in definition.options or [])


def _page(object_type: str, *, errors: dict | None = None, form=None, status: int = 200):
    session = current_tenant_db()
    definitions = list(service.definitions_for(session, object_type).values())
    usage = {definition.key: service.count_values(session, object_type, definition.key) for definition in definitions}
    return render_template("crm/properties/list.html", object_type=object_type, definitions=definitions, usage=usage,
                           types=[kind.value for kind in PropertyType], errors=errors or {}, form=form or {},
                           can_manage=is_admin()), status


@blueprint.get("/settings/properties")
@login_required
def properties():
    object_type = request.args.get("object", "contact")
    return _page(object_type if object_type in service.OBJECT_TYPES else "contact")


@blueprint.post(f"/settings/properties/{OBJECT}")
@login_required
def create_property(object_type: str):
    require_admin()
    session = current_tenant_db()
    form = request.form
    kind = form.get("type", "")
    try:
        definition = service.create_definition(
            session, object_type, key=form.get("key", "").strip(), label=form.get("label", ""), type=kind,
            options=_options(form.get("options")) if kind == PropertyType.ENUM else None,
            required=form.get("required") == "on",
        )
    except service.PropertyValidationError as error:
        session.rollback()
        return _page(object_type, errors=error.errors, form=form, status=400)
    session.commit()
    flash(_("Property “%(label)s” created.", label=definition.label), "success")
    return redirect(url_for("crm_views.properties", object=object_type))


@blueprint.route(f"/settings/properties/{OBJECT}/<string:key>", methods=["GET", "POST"])
@login_required
def edit_property(object_type: str, key: str):
    require_admin()
    session = current_tenant_db()
    try:
        definition = service.get_definition(session, object_type, key)
    except service.PropertyNotFound:
        abort(404, description=_("This property does not exist (any more)."))
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        changes = {"label": form.get("label", ""), "required": form.get("required") == "on"}
        if definition.type == PropertyType.ENUM:
            changes["options"] = _options(form.get("options"))
        try:
            service.update_definition(session, object_type, key, **changes)
        except service.PropertyValidationError as error:
            session.rollback()
            errors = error.errors
        except service.PropertyInUseError as error:
            session.rollback()
            errors = {"options": str(error)}
        else:
            session.commit()
            flash(_("Property “%(label)s” saved.", label=definition.label), "success")
            return redirect(url_for("crm_views.properties", object=object_type))
        definition = service.get_definition(session, object_type, key)
    return render_template("crm/properties/edit.html", definition=definition, errors=errors,
                           form=request.form if request.method == "POST" else {},
                           options_text=_options_text(definition),
                           usage=service.count_values(session, object_type, key)), 400 if errors else 200


@blueprint.post(f"/settings/properties/{OBJECT}/<string:key>/delete")
@login_required
def delete_property(object_type: str, key: str):
    require_admin()
    session = current_tenant_db()
    try:
        definition = service.get_definition(session, object_type, key)
    except service.PropertyNotFound:
        flash(_("This property does not exist (any more)."), "error")
        return redirect(url_for("crm_views.properties", object=object_type))
    if request.form.get("confirm") != "yes":
        usage = service.count_values(session, object_type, key)
        return render_template("crm/properties/delete.html", definition=definition, usage=usage), 409
    removed = service.delete_definition(session, object_type, key)
    session.commit()
    flash(_("Property “%(label)s” deleted, with its value on %(count)s records.", label=definition.label,
            count=removed), "success")
    return redirect(url_for("crm_views.properties", object=object_type))
