"""BĐG 2030: monitoring the Gender Equality Communication Program to 2030."""
