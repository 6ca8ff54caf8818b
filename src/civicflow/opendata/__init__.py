"""Open data: the views published as datasets other tools read (Frictionless, Popolo, Open311)."""
