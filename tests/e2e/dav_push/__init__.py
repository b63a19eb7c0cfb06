"""WebDAV-Push as members hear it: messages on a book, and on the address-book home."""

# The sender's poll here: short, so a test waits little for a message or for proof
# that none comes; QUIET is several polls, time for a wrongly sent one to arrive.
INTERVAL = 0.2
QUIET = 5 * INTERVAL
