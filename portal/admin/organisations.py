"""Organisations and their sites (SPEC §2: admins manage them): /admin/organisations.

A provider runs the programme and has sites and workers; a funder sees the aggregate figures of
the providers it funds. Who funds a provider decides whose dashboard shows it, so changing it
asks for a recent sign-in and is audited. Sites are closed, never deleted: shifts keep them.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from portal import audit
from portal.admin import bp
from portal.admin.forms import OrganisationForm, SiteForm
from portal.auth.reauth import recent_auth_required
from portal.extensions import db
from portal.forms import ActionForm
from portal.models import Organisation, Site, User
from portal.permissions import role_required


class OrganisationError(Exception):
    """A refused change; ``errors`` maps form fields to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = errors


# --- service ----------------------------------------------------------------------------------


def listing() -> list[tuple[Organisation, int, int]]:
    """Every organisation with its number of open sites and of active accounts (3 queries)."""
    by_kind = sa.select(Organisation).order_by(Organisation.kind.desc(), Organisation.name)
    orgs = list(db.session.scalars(by_kind))
    sites = dict(db.session.execute(
        sa.select(Site.organisation_id, sa.func.count()).where(Site.active.is_(True))
        .group_by(Site.organisation_id)
    ).all())  # fmt: skip
    people = dict(db.session.execute(
        sa.select(User.organisation_id, sa.func.count()).where(User.active.is_(True))
        .group_by(User.organisation_id)
    ).all())  # fmt: skip
    return [(o, sites.get(o.id, 0), people.get(o.id, 0)) for o in orgs]


def funders() -> list[Organisation]:
    return list(db.session.scalars(
        sa.select(Organisation).where(Organisation.kind == "funder").order_by(Organisation.name)
    ))  # fmt: skip


def _name_taken(name: str, organisation: Organisation | None) -> bool:
    query = sa.select(Organisation.id).where(sa.func.lower(Organisation.name) == name.lower())
    if organisation is not None:
        query = query.where(Organisation.id != organisation.id)
    return db.session.scalar(query) is not None


def save_organisation(organisation: Organisation | None, name: str, kind: str,
                      funded_by_id: int) -> Organisation:  # fmt: skip
    """Create (``organisation`` None) or change one; OrganisationError says what is wrong."""
    kind = organisation.kind if organisation is not None else kind
    errors: dict[str, list[str]] = {}
    if _name_taken(name, organisation):
        errors["name"] = ["There is already an organisation with this name."]
    funder = db.session.get(Organisation, funded_by_id) if funded_by_id else None
    if kind == "funder" and funded_by_id:
        errors["funded_by_id"] = ["A funder is not funded by anyone: choose No funder."]
    elif funded_by_id and (funder is None or funder.kind != "funder"):
        errors["funded_by_id"] = ["Choose one of the funders."]
    if errors:
        raise OrganisationError(errors)
    created = organisation is None
    if created:
        organisation = Organisation(kind=kind)
        db.session.add(organisation)
    organisation.name = name
    organisation.funded_by_id = funder.id if funder else None
    db.session.flush()
    audit.record("organisation.created" if created else "organisation.updated",
                 "organisations", organisation.id)  # fmt: skip
    return organisation


def add_site(organisation: Organisation, name: str) -> Site:
    """A new open site of a provider (the view refuses funders with 404)."""
    _refuse_taken_site_name(organisation, name)
    site = Site(organisation_id=organisation.id, name=name, active=True)
    db.session.add(site)
    db.session.flush()
    audit.record("site.created", "sites", site.id)
    return site


def _refuse_taken_site_name(organisation: Organisation, name: str, site: Site | None = None):
    query = sa.select(Site.id).where(Site.organisation_id == organisation.id,
                                     sa.func.lower(Site.name) == name.lower())  # fmt: skip
    if site is not None:
        query = query.where(Site.id != site.id)
    if db.session.scalar(query) is not None:
        message = f"{organisation.name} already has a site called {name}."
        raise OrganisationError({"name": [message]})


def rename_site(site: Site, name: str) -> None:
    """A new name (a typo mended, an area renamed); shifts and workers follow the site."""
    _refuse_taken_site_name(site.organisation, name, site)
    if site.name != name:
        site.name = name
        audit.record("site.renamed", "sites", site.id)


def set_site_open(site: Site, open_: bool) -> None:
    if site.active != open_:
        site.active = open_
        audit.record("site.reopened" if open_ else "site.closed", "sites", site.id)


# --- views ------------------------------------------------------------------------------------


def _organisation_page(organisation: Organisation | None, form: OrganisationForm,
                       site_form: SiteForm | None = None, status: int = 200):  # fmt: skip
    return render_template(
        "admin/organisation_form.html", organisation=organisation, form=form,
        site_form=site_form or SiteForm(formdata=None),
        sites=list(db.session.scalars(sa.select(Site).where(
            Site.organisation_id == organisation.id).order_by(Site.name))) if organisation else [],
    ), status  # fmt: skip


@bp.route("/organisations")
@role_required("admin")
def organisations():
    """Providers and funders, with their open sites and active accounts."""
    rows = listing()
    return render_template("admin/organisations.html", rows=rows,
                           rows_by_id={org.id: org for org, _s, _p in rows})  # fmt: skip


@bp.route("/organisations/new", methods=["GET", "POST"])
@role_required("admin")
@recent_auth_required("add an organisation")
def new_organisation():
    form = OrganisationForm(funders=funders())
    if form.validate_on_submit():
        try:
            organisation = save_organisation(None, form.name.data, form.kind.data,
                                             form.funded_by_id.data)  # fmt: skip
        except OrganisationError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"{organisation.name} added.", "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    return _organisation_page(None, form, status=422 if request.method == "POST" else 200)


@bp.route("/organisations/<int:organisation_id>", methods=["GET", "POST"])
@role_required("admin")
@recent_auth_required("change an organisation")
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationForm(
        funders=[f for f in funders() if f.id != organisation.id],
        **({"obj": organisation, "funded_by_id": organisation.funded_by_id or 0}
           if request.method == "GET" else {}),
    )  # fmt: skip
    form.kind.data = organisation.kind  # fixed once created: the form shows it, never changes it
    if form.validate_on_submit():
        try:
            save_organisation(organisation, form.name.data, organisation.kind,
                              form.funded_by_id.data)  # fmt: skip
        except OrganisationError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash("Organisation saved.", "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    return _organisation_page(organisation, form, status=422 if request.method == "POST" else 200)


@bp.route("/organisations/<int:organisation_id>/sites", methods=["POST"])
@role_required("admin")
def add_organisation_site(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    if organisation.kind != "provider":
        abort(404)  # a funder has no sites to add to
    site_form = SiteForm()
    if site_form.validate_on_submit():
        try:
            site = add_site(organisation, site_form.name.data)
        except OrganisationError as exc:
            db.session.rollback()
            site_form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Site {site.name} added: workers can log shifts there now.", "success")
            return redirect(url_for("admin.edit_organisation", organisation_id=organisation.id))
    form = OrganisationForm(obj=organisation, funders=funders(), formdata=None,
                            funded_by_id=organisation.funded_by_id or 0)  # fmt: skip
    return _organisation_page(organisation, form, site_form, status=422)


@bp.route("/sites/<int:site_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_site(site_id: int):
    """Rename a site (or close or reopen it)."""
    site = db.get_or_404(Site, site_id)
    form = SiteForm(obj=site)
    if form.validate_on_submit():
        try:
            rename_site(site, form.name.data)
        except OrganisationError as exc:
            db.session.rollback()
            form.add_errors(exc.errors)
        else:
            db.session.commit()
            flash(f"Site saved: {site.name}.", "success")
            back = url_for("admin.edit_organisation", organisation_id=site.organisation_id)
            return redirect(back)
    status = 422 if request.method == "POST" else 200
    return render_template("admin/site_form.html", site=site, form=form), status


@bp.route("/sites/<int:site_id>/close", methods=["POST"])
@role_required("admin")
def close_site(site_id: int):
    """Close a site: no new shifts there; its shifts and workers stay as they are."""
    return _set_site(site_id, False)


@bp.route("/sites/<int:site_id>/reopen", methods=["POST"])
@role_required("admin")
def reopen_site(site_id: int):
    return _set_site(site_id, True)


def _set_site(site_id: int, open_: bool):
    site = db.get_or_404(Site, site_id)
    if ActionForm().validate_on_submit():
        set_site_open(site, open_)
        db.session.commit()
        flash(f"{site.name} is {'open again' if open_ else 'closed: no new shifts there'}.",
              "success")  # fmt: skip
    return redirect(url_for("admin.edit_organisation", organisation_id=site.organisation_id))
