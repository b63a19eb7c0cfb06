"""circlebook: a shared address book built by consent."""

__version__ = "0.1.0"
