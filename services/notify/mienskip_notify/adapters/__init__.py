"""The edges notify talks through: its tables, templates and delivery channels."""
