"""pmadvice: a chat bot that mentors people moving from operations into product management."""

__version__ = "0.1.0"
