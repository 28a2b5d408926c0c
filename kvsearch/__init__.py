"""kvsearch: search Dutch parliamentary written questions and the ministers' answers."""

__version__ = "0.1.0"
