"""Evaluation: the national methods (``standards``) applied to the warehouse's series → derived tables."""
