"""CRM core: the data model every hub and integration writes into.

Public API for hubs and integrations (import from here, not from sub-modules):
contacts, companies, timeline activities, tasks, custom properties and the matcher.
"""
