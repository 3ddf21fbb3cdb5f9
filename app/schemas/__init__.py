"""HTTP input and output models (XCreate / XPublic)."""
