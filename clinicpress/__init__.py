"""ClinicPress: branded patient handouts and talk decks from YAML content."""
__version__ = "0.1.0"
