"""Adapters: one module per publisher format, each turning a file into the narrow form."""
