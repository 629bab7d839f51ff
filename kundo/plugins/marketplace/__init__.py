"""The marketplace for third-party plugins: publishers upload wheels, operators review them,
`kundo plugins sync` installs approved versions, and anyone can browse the listing.

Everything happens on the root domain; tenants meet approved plugins on their own
"Hubs & apps" page (the plugin host).
"""
