"""One module per kind of question the planner recognises; each turns the person's own
journal (entries, labels, stored episodes) into a short summary and dated, verbatim
evidence. ``common`` holds what they share: the drafted answer, quotes, periods."""
