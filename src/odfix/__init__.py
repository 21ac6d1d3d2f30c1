"""odfix: diagnose and fix the OneDrive for Business sign-in error 0x8004de40 and its family."""

__version__ = "0.1.0"
