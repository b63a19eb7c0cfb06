"""The pure domain: phones, books, entries, invitations, visibility. Standard library only."""
