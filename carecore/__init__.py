"""carecore: the domain core (models, rules, services, storage). Imports neither schema nor notifications."""
