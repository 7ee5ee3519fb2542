"""The reference web journal (static files at ``/``) and the offline API docs."""
