"""Finding things: filters, sorting, saved views, cursor pages, bulk actions, search."""
