"""Everything a person stored, as one JSON document that import reads back."""
