"""carecore's FHIR R4 face: mapping of the core's read models, read and search, bulk export and intake."""
