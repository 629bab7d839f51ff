"""Meeting booking: each member's public page of free slots, bookings on the timeline, ICS mails, reminders."""
