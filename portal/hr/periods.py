"""Views: /hr/periods (closing pay periods, statements, CSV)."""
