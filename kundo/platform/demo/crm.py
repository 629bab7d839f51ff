"""The demo's CRM records: companies, their people, a few open tasks and timeline entries.

Made once, when the demo workspace has no contacts yet, through the CRM's own service
functions, so timelines, lifecycle events and the workflows that listen to them see
what they would see for records typed in by hand. Addresses use the reserved `.example`
top-level domain: nothing the demo sends can reach a real inbox.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from kundo.platform.clock import now

#: (name, domain, industry, size, city)
COMPANIES = (
    ("Nordlicht Logistik GmbH", "nordlicht-logistik.example", "Logistics", 120, "Hamburg"),
    ("Bergmann & Söhne KG", "bergmann-soehne.example", "Manufacturing", 340, "Stuttgart"),
    ("Isarwerk Software AG", "isarwerk.example", "Software", 120, "München"),
    ("Rheinblick Hotels GmbH", "rheinblick-hotels.example", "Hospitality", 35, "Köln"),
    ("Elbtal Energie GmbH", "elbtal-energie.example", "Energy", 340, "Dresden"),
    ("Spreeküche GmbH", "spreekueche.example", "Food & beverages", 35, "Berlin"),
    ("Main Consulting Partners", "main-consulting.example", "Consulting", 35, "Frankfurt am Main"),
    ("Alpenblick Medizintechnik GmbH", "alpenblick-medtech.example", "Medical devices", 120, "Rosenheim"),
)

#: (first name, last name, job title, company domain or None, lifecycle stage)
CONTACTS = (
    ("Lena", "Hoffmann", "Head of Operations", "nordlicht-logistik.example", "sales_qualified_lead"),
    ("Jonas", "Krüger", "Managing Director", "nordlicht-logistik.example", "lead"),
    ("Sabine", "Bergmann", "Managing Partner", "bergmann-soehne.example", "sales_qualified_lead"),
    ("Tobias", "Wagner", "Sales Manager", "bergmann-soehne.example", "marketing_qualified_lead"),
    ("Miriam", "Schulz", "CTO", "isarwerk.example", "sales_qualified_lead"),
    ("Felix", "Neumann", "Head of Customer Success", "isarwerk.example", "lead"),
    ("Claudia", "Becker", "General Manager", "rheinblick-hotels.example", "marketing_qualified_lead"),
    ("David", "Richter", "Revenue Manager", "rheinblick-hotels.example", "lead"),
    ("Katrin", "Wolf", "Head of Purchasing", "elbtal-energie.example", "sales_qualified_lead"),
    ("Stefan", "Schröder", "Key Account Manager", "elbtal-energie.example", "marketing_qualified_lead"),
    ("Aylin", "Demir", "Founder", "spreekueche.example", "sales_qualified_lead"),
    ("Paul", "Zimmermann", "Operations Lead", "spreekueche.example", "lead"),
    ("Julia", "Hartmann", "Partner", "main-consulting.example", "sales_qualified_lead"),
    ("Markus", "Lange", "Senior Consultant", "main-consulting.example", "subscriber"),
    ("Anna", "Vogel", "Head of Quality", "alpenblick-medtech.example", "sales_qualified_lead"),
    ("Thomas", "Brandt", "Managing Director", "alpenblick-medtech.example", "marketing_qualified_lead"),
    ("Nina", "Keller", "Freelance CRM consultant", None, "lead"),
    ("Ben", "Fischer", "Student", None, "subscriber"),
)

#: (title msgid, task type, contact e-mail, due in days — negative is overdue)
TASKS = (
    (_l("Call back about the rollout timeline"), "call", "lena.hoffmann@nordlicht-logistik.example", 0),
    (_l("Send the reference customer list"), "email", "miriam.schulz@isarwerk.example", 1),
    (_l("Prepare the workshop agenda"), "todo", "aylin.demir@spreekueche.example", 3),
    (_l("Follow up on the trial"), "follow_up", "claudia.becker@rheinblick-hotels.example", -1),
)

#: (activity type, subject msgid, body msgid, contact e-mail, days ago)
ACTIVITIES = (
    ("call", _l("Discovery call"),
     _l("Twelve people in sales and service. Today they track leads in spreadsheets; they want one shared "
        "view of every customer."), "lena.hoffmann@nordlicht-logistik.example", 9),
    ("meeting", _l("Product demo"), _l("Showed pipelines, quotes and the onboarding workflow. Questions about "
                                       "the data import from their ERP."), "miriam.schulz@isarwerk.example", 4),
    ("note", _l("Budget confirmed"), _l("Budget for this year is approved; the decision is due by the end of "
                                        "the quarter."), "katrin.wolf@elbtal-energie.example", 2),
)


def email_of(first: str, last: str, domain: str | None) -> str:
    """The demo contact's address: first.last@company, or @mail.example for people without one."""
    local = f"{first}.{last}".lower().translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}))
    return f"{local}@{domain or 'mail.example'}"


def contact_ids_by_email(session) -> dict[str, int]:
    """The demo contacts that still exist, by their address (later parts of the demo link to them)."""
    from kundo.crm import Contact
    from kundo.crm.contacts.models import ContactEmail

    addresses = [email_of(first, last, domain) for first, last, _title, domain, _stage in CONTACTS]
    rows = session.execute(select(ContactEmail.contact_id, ContactEmail.email)
                           .join(Contact, Contact.id == ContactEmail.contact_id)
                           .where(ContactEmail.email.in_(addresses), Contact.erased_at.is_(None))).all()
    return {email: contact_id for contact_id, email in rows}


def company_ids_by_domain(session) -> dict[str, int]:
    from kundo.crm import Company

    rows = session.execute(select(Company.id, Company.domain).where(
        Company.domain.in_([domain for _name, domain, *_rest in COMPANIES]))).all()
    return {domain: company_id for company_id, domain in rows}


def _payload(activity_type: str, occurred) -> dict | None:
    """What the timeline requires of a call or meeting: a 20-minute call, a 45-minute meeting."""
    if activity_type == "call":
        return {"direction": "out", "duration_seconds": 1260, "outcome": "connected"}
    if activity_type == "meeting":
        return {"starts_at": occurred.isoformat(), "ends_at": (occurred + timedelta(minutes=45)).isoformat()}
    return None


def seed_crm(session, owner_id: int) -> bool:
    """Companies, contacts, tasks and timeline entries — only when the workspace has no contacts yet."""
    from kundo.crm import Contact, create_company, create_contact, create_task, log_activity

    if session.scalar(select(Contact.id).limit(1)) is not None:
        return False
    companies = {}
    for name, domain, industry, size, city in COMPANIES:
        company = create_company(session, name=name, domain=domain, industry=industry, size=size, city=city,
                                 country="DE", owner_id=owner_id, actor_id=owner_id, check_required=False)
        companies[domain] = company.id
    contacts = {}
    for first, last, title, domain, stage in CONTACTS:
        address = email_of(first, last, domain)
        contact = create_contact(session, first_name=first, last_name=last, emails=[address], job_title=title,
                                 owner_id=owner_id, company_id=companies.get(domain), lifecycle_stage=stage,
                                 source="demo", consent={"status": "granted", "source": "demo data"},
                                 actor_id=owner_id, check_required=False)
        contacts[address] = contact.id
    moment = now()
    for title, task_type, address, due_in_days in TASKS:
        create_task(session, title=str(title), type=task_type, owner_id=owner_id, created_by=owner_id,
                    due_at=moment + timedelta(days=due_in_days), links=[("contact", contacts[address])])
    for activity_type, subject, body, address, days_ago in ACTIVITIES:
        occurred = moment - timedelta(days=days_ago)
        log_activity(session, activity_type, links=[("contact", contacts[address])], actor_id=owner_id,
                     occurred_at=occurred, subject=str(subject), body=str(body), source="demo",
                     payload=_payload(activity_type, occurred))
    return True
